"""The wordings' analyses kept on disk: a later process reads them instead of encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from subgraphs.micro import embedding, text_cache

TEXTS = ["$GME to the moon", "Sold my $AMC at a loss", "$GME to the moon", "What is the float"]


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """No wording in the in-memory cache, as in a new process."""
    monkeypatch.setattr(embedding, "_cache", type(embedding._cache)())


def _encoder_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real = embedding.encode

    def counted(texts: list[str], **kwargs: Any) -> Any:
        calls.append(list(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr(embedding, "encode", counted)
    return calls


def test_a_second_process_reads_the_disk_cache_and_encodes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    calls = _encoder_calls(monkeypatch)
    first = embedding.analyse(TEXTS, tmp_path)
    assert calls == [list(dict.fromkeys(TEXTS))]  # each distinct wording once
    assert text_cache.cache_file(tmp_path).is_file()

    monkeypatch.setattr(embedding, "_cache", type(embedding._cache)())  # "restart"
    again = embedding.analyse([*TEXTS, "Quiet session for $BB"], tmp_path)

    assert calls[1:] == [["Quiet session for $BB"]]  # only the new wording
    assert np.array_equal(again.vectors[:4], first.vectors)
    assert np.array_equal(again.probabilities[:4], first.probabilities)
    assert len(text_cache.read(tmp_path)) == 4


def test_another_model_hash_does_not_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    embedding.analyse(TEXTS[:1], tmp_path)
    monkeypatch.setattr(embedding, "_cache", type(embedding._cache)())
    monkeypatch.setattr(text_cache, "model_hash", lambda: "another-model")
    calls = _encoder_calls(monkeypatch)

    embedding.analyse(TEXTS[:1], tmp_path)

    assert calls == [TEXTS[:1]]
    assert "text-analysis-another-model.npz" in {p.name for p in tmp_path.iterdir()}


def test_a_torn_file_is_recomputed_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_process: None
) -> None:
    text_cache.cache_file(tmp_path).write_bytes(b"not an npz")
    calls = _encoder_calls(monkeypatch)

    result = embedding.analyse(TEXTS[:2], tmp_path)

    assert len(calls) == 1 and result.vectors.shape == (2, 384)
    assert set(text_cache.read(tmp_path)) == {embedding.text_key(t) for t in TEXTS[:2]}
