"""A small deterministic text embedding: feature hashing of words and cashtags.

Each lower-cased word adds +-1 to one of `DIMENSIONS` buckets (the bucket and the sign come
from a BLAKE2 hash of the token, so the embedding is the same in every process and needs no
model download); each cashtag adds `CASHTAG_WEIGHT` to its own bucket, so posts about the same
ticker sit close together. The vector is L2-normalised: cosine similarity is a dot product.

Reference: Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", ICML 2009.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

import numpy as np

DIMENSIONS = 256
CASHTAG_WEIGHT = 4.0

_WORD = re.compile(r"[a-z][a-z0-9']+")
_CASHTAG = re.compile(r"\$([A-Za-z]{1,6})\b")


def cashtags(text: str) -> list[str]:
    """The distinct `$TICKER` tags in `text`, upper-cased, in order of first appearance."""
    return list(dict.fromkeys(tag.upper() for tag in _CASHTAG.findall(text)))


def _bucket(token: str) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, 1.0 if value >> 63 else -1.0


def embed(texts: Iterable[str]) -> np.ndarray:
    """One L2-normalised float32 row of `DIMENSIONS` per text (an empty text gives zeros)."""
    rows = list(texts)
    vectors = np.zeros((len(rows), DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(rows):
        for word in _WORD.findall(_CASHTAG.sub(" ", text).lower()):
            bucket, sign = _bucket(word)
            vectors[row, bucket] += sign
        for tag in cashtags(text):
            bucket, _ = _bucket("$" + tag)
            vectors[row, bucket] += CASHTAG_WEIGHT
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def embed_one(text: str) -> Sequence[float]:
    return [float(value) for value in embed([text])[0]]
