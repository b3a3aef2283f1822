"""Text engines: the all-MiniLM-L6-v2 sentence encoder in JAX and a financial sentiment head.

* :func:`encode` -- unit-length 384-float embeddings of texts, batched in bucket shapes.
* :func:`classify` -- negative / neutral / positive probabilities of texts (news sentences
  and social posts), a small classifier over the embeddings trained on the project's own
  labelled sentences.
* :func:`lexicon_scores` -- the word-list baseline (Loughran-McDonald-style counts).
"""

from engines.text.encoder import DIMENSIONS, Encoded, encode

__all__ = ["DIMENSIONS", "Encoded", "encode"]
