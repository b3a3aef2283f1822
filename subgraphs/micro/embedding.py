"""What a post's text means: its sentence embedding and its sentiment, from `engines.text`.

Every stored post gets a 384-float MiniLM embedding (stored once per wording, in the
`micro_post_texts` vectors; cosine = dot product) and the sentiment head's negative /
neutral / positive probabilities; its `sentiment` is p_positive - p_negative, in [-1, 1].
Texts are analysed in batches (the encoder buckets them by length), each distinct text once:
the demo's synthetic posts repeat a few hundred wordings, and the replay feed keeps drawing
the same ones, so the last `CACHE_SIZE` distinct texts' results are kept in memory.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.text import DIMENSIONS, encode
from engines.text.sentiment import LABELS, classify_embeddings

__all__ = [
    "CACHE_SIZE",
    "DIMENSIONS",
    "LABELS",
    "TextAnalysis",
    "analyse",
    "cashtags",
    "text_key",
]

CACHE_SIZE = 8192

_CASHTAG = re.compile(r"\$([A-Za-z]{1,6})\b")


def cashtags(text: str) -> list[str]:
    """The distinct `$TICKER` tags in `text`, upper-cased, in order of first appearance."""
    return list(dict.fromkeys(tag.upper() for tag in _CASHTAG.findall(text)))


def text_key(text: str) -> str:
    """The key of a wording: the first 32 hex digits of SHA-256 of the UTF-8 text, as the
    posts table computes it (`substring(lower(hex(SHA256(text))), 1, 32)`)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """Per text, in the order given: float32 `vectors` `[n, 384]` (unit length), float32
    `probabilities` `[n, 3]` (negative, neutral, positive) and float32 `scores` `[n]`
    (p_positive - p_negative)."""

    vectors: np.ndarray
    probabilities: np.ndarray
    scores: np.ndarray


_cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_lock = threading.Lock()


def analyse(texts: Sequence[str]) -> TextAnalysis:
    """Embed and score `texts`: one encoder pass over the distinct texts not seen lately.

    Blocking and CPU-heavy (a first call also compiles the encoder's shapes): call it from a
    worker thread, never on the event loop.
    """
    distinct = list(dict.fromkeys(texts))
    with _lock:
        known = {text: _cache[text] for text in distinct if text in _cache}
    missing = [text for text in distinct if text not in known]
    if missing:
        encoded = encode(missing)
        sentiment = classify_embeddings(encoded.vectors, missing, encoded.truncated)
        fresh = dict(zip(missing, zip(encoded.vectors, sentiment.probabilities, strict=True),
                         strict=True))
        known.update(fresh)
        with _lock:
            _cache.update(fresh)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    probabilities = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for row, text in enumerate(texts):
        vectors[row], probabilities[row] = known[text]
    return TextAnalysis(vectors, probabilities, probabilities[:, 2] - probabilities[:, 0])
