"""Financial sentiment: negative / neutral / positive probabilities of news sentences and posts.

A small classifier over the MiniLM sentence embedding (`engines.text.encoder`) and four tone
features from the word lists (`engines.text.lexicon.tone_features`): one hidden layer,

    p = softmax(W_2 relu(W_1 [e, f] + b_1) + b_2),

e the unit-length 384-float embedding of the normalised text, f its tone features (positive
and negative word counts after negation and the "loss narrowed" flip, net tone, negator).
The embedding carries what the text is about and how it is worded; the features carry
direction words, which mean-pooled embeddings blur ("rose" and "fell" sit close). The weights
(`sentiment_head.npz`, a few hundred KB) come from `scripts/train_sentiment.py`, trained on the
project's own labelled sentences (`data/sentiment_train.tsv`, written for this project) and
rule-labelled financial statements (`engines.text._weak_labels`); the held-out
`data/sentiment_eval.tsv` only measures it. A text's score is p_positive - p_negative, in
[-1, 1]: the number posts, stocks and tokens carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from engines.text.encoder import encode
from engines.text.lexicon import tone_features

__all__ = ["HEAD_PATH", "LABELS", "Sentiment", "classify", "classify_embeddings"]

LABELS = ("negative", "neutral", "positive")
HEAD_PATH = Path(__file__).with_name("sentiment_head.npz")


class Sentiment(NamedTuple):
    """The sentiment of a list of texts, in the order given.

    Attributes:
        probabilities: float32 `[n, 3]`, columns in `LABELS` order, rows summing to 1.
        scores: float32 `[n]`, p_positive - p_negative, in [-1, 1].
        labels: int64 `[n]`, the index into `LABELS` of each row's most probable class.
        vectors: float32 `[n, 384]`, the embeddings the head read (empty where not computed).
        truncated: bool `[n]`, True where only the text's first 128 tokens were read.
    """

    probabilities: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    vectors: np.ndarray
    truncated: np.ndarray


@cache
def head_weights() -> tuple[jax.Array, ...]:
    """(W_1, b_1, W_2, b_2) of the shipped head, read once per process."""
    with np.load(HEAD_PATH) as stored:
        return tuple(jnp.asarray(stored[name]) for name in ("w1", "b1", "w2", "b2"))


@jax.jit
def _probabilities(weights: tuple[jax.Array, ...], vectors: jax.Array) -> jax.Array:
    w1, b1, w2, b2 = weights
    return jax.nn.softmax(jax.nn.relu(vectors @ w1 + b1) @ w2 + b2, axis=-1)


def head_inputs(vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """float32 `[n, 384 + TONE_FEATURES]`: each text's embedding and its tone features."""
    return np.concatenate([np.asarray(vectors, dtype=np.float32), tone_features(texts)], axis=1)


def classify_embeddings(
    vectors: np.ndarray, texts: Sequence[str], truncated: np.ndarray | None = None
) -> Sentiment:
    """The head alone, over the embeddings `[n, 384]` that `encode` made of `texts`:
    p = softmax(W_2 relu(W_1 [e, f] + b_1) + b_2), one jitted call for all rows.

    References:
        See the module docstring (Sentence-BERT embeddings; the project's training data).

    Example:
        >>> from engines.text.encoder import encode
        >>> texts = ["The stock crashed after the fraud probe."]
        >>> LABELS[int(classify_embeddings(encode(texts).vectors, texts).labels[0])]
        'negative'
    """
    count = len(vectors)
    probabilities = np.asarray(
        _probabilities(head_weights(), jnp.asarray(head_inputs(vectors, texts)))
    ) if count else np.zeros((0, 3), dtype=np.float32)
    return Sentiment(
        probabilities=probabilities,
        scores=(probabilities[:, 2] - probabilities[:, 0]).astype(np.float32),
        labels=np.argmax(probabilities, axis=1) if count else np.zeros(0, dtype=np.int64),
        vectors=vectors,
        truncated=np.zeros(count, dtype=bool) if truncated is None else truncated,
    )


def classify(texts: Sequence[str]) -> Sentiment:
    """Sentiment of `texts`: embed them (bucketed batches), then one call of the head;
    score = P(positive) - P(negative).

    References:
        [1] Reimers & Gurevych (2019), Sentence-BERT (the embeddings); the head's training
        data is the project's own (`data/sentiment_train.tsv`, `_weak_labels.py`).

    Example:
        >>> result = classify(["Operating loss narrowed to 2 million from 9 million."])
        >>> LABELS[int(result.labels[0])]
        'positive'
    """
    encoded = encode(texts)
    return classify_embeddings(encoded.vectors, texts, encoded.truncated)
