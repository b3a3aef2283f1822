"""Embeddings and sentiment of distinct wordings, kept on disk across processes.

Loading the demo encodes every distinct post wording (a few hundred, plus the real comments);
in a fresh process that meant compiling the encoder for each bucket shape first, which took
most of a cold demo load (53.9 s). The results only depend on the text, the model's files and
the code that turns one into the other, so they are cached in a `.npz` file per model hash:
`<dir>/text-analysis-<hash>.npz`, holding each wording's `text_key`, its float32 vector and its
sentiment probabilities. A different model, sentiment head or text code gives another hash, so
a stale file is never read (it is simply left unused).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

import engines.text as text_package
from engines.text._model import model_dir
from engines.text.sentiment import HEAD_PATH

log = logging.getLogger(__name__)

Entry = tuple[np.ndarray, np.ndarray]  # (vector [384], probabilities [3])


@cache
def model_hash() -> str:
    """SHA-256 (16 hex digits) of the encoder's files, the sentiment head and the text code."""
    digest = hashlib.sha256()
    package = Path(text_package.__file__).parent
    files = [model_dir() / "model.safetensors", model_dir() / "tokenizer.json", HEAD_PATH,
             *sorted(package.glob("*.py"))]
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def cache_file(directory: Path) -> Path:
    return directory / f"text-analysis-{model_hash()}.npz"


def read(directory: Path) -> dict[str, Entry]:
    """The cached analyses by text key; empty when there is no (readable) file."""
    path = cache_file(directory)
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as stored:
            keys, vectors = stored["keys"], stored["vectors"]
            probabilities = stored["probabilities"]
            return {str(k): (vectors[i], probabilities[i]) for i, k in enumerate(keys)}
    except (OSError, ValueError, KeyError):  # a torn or foreign file: recompute, then replace
        log.warning("ignoring an unreadable text-analysis cache", extra={"path": str(path)})
        return {}


def write(directory: Path, entries: dict[str, Entry]) -> None:
    """Replace the cache file atomically (write a temporary file, then rename)."""
    if not entries:
        return
    directory.mkdir(parents=True, exist_ok=True)
    keys = list(entries)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
    os.close(handle)
    try:
        with open(temporary, "wb") as file:
            np.savez(
                file,
                keys=np.array(keys),
                vectors=np.stack([entries[k][0] for k in keys]).astype(np.float32),
                probabilities=np.stack([entries[k][1] for k in keys]).astype(np.float32),
            )
        os.replace(temporary, cache_file(directory))
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
