"""Text engines: the all-MiniLM-L6-v2 sentence encoder in JAX and a financial sentiment head.

* :func:`encode` -- unit-length 384-float embeddings of texts, batched in bucket shapes.
* :func:`classify` -- negative / neutral / positive probabilities of texts (news sentences
  and social posts): a small classifier over the embeddings, trained on the project's own
  labelled sentences (``scripts/train_sentiment.py``).
* :func:`lexicon_scores` -- the word-list baseline (Loughran-McDonald-style counts).

The model files are read on first use, once per process (:mod:`engines.text._model`).
"""

from engines.text.encoder import DIMENSIONS, Encoded, encode
from engines.text.lexicon import lexicon_scores
from engines.text.sentiment import LABELS, Sentiment, classify

__all__ = ["DIMENSIONS", "LABELS", "Encoded", "Sentiment", "classify", "encode", "lexicon_scores"]
