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
from pathlib import Path

import numpy as np

from engines.text import DIMENSIONS, encode
from engines.text.sentiment import LABELS, classify_embeddings
from subgraphs.micro import text_cache

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


def _analysed(texts: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One encoder pass and one sentiment call over `texts` (distinct)."""
    encoded = encode(texts)
    sentiment = classify_embeddings(encoded.vectors, texts, encoded.truncated)
    return dict(zip(texts, zip(encoded.vectors, sentiment.probabilities, strict=True),
                    strict=True))


_cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_lock = threading.Lock()


def analyse(texts: Sequence[str], cache_dir: Path | None = None) -> TextAnalysis:
    """Embed and score `texts`: one encoder pass over the distinct texts not seen lately.

    With `cache_dir`, wordings analysed by an earlier process with the same model are read
    from its disk cache (`text_cache`), and the new ones are added to it. Blocking and
    CPU-heavy (a first call also compiles the encoder's shapes): call it from a worker
    thread, never on the event loop.
    """
    distinct = list(dict.fromkeys(texts))
    with _lock:
        known = {text: _cache[text] for text in distinct if text in _cache}
    on_disk = text_cache.read(cache_dir) if cache_dir is not None else {}
    for text in distinct:
        if text not in known and (entry := on_disk.get(text_key(text))) is not None:
            known[text] = entry
    missing = [text for text in distinct if text not in known]
    if missing:
        fresh = _analysed(missing)
        known.update(fresh)
        if cache_dir is not None:
            on_disk.update({text_key(text): entry for text, entry in fresh.items()})
            text_cache.write(cache_dir, on_disk)
    with _lock:
        _cache.update({text: known[text] for text in distinct})
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    probabilities = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for row, text in enumerate(texts):
        vectors[row], probabilities[row] = known[text]
    return TextAnalysis(vectors, probabilities, probabilities[:, 2] - probabilities[:, 0])
