"""The JAX MiniLM encoder against a plain NumPy BERT written here from the checkpoint's own
tensors (PyTorch names and layouts), and what its embeddings mean to a user."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from engines.text import encode
from engines.text._model import MAX_TOKENS, raw_tensors
from engines.text.encoder import LENGTH_BUCKETS, tokenize

SENTENCES = [
    "Quarterly revenue climbed 12% to $4.1 billion, ahead of what analysts had pencilled in.",
    "The regulator opened an inquiry into the lender's mortgage book on Tuesday.",
    "$GME diamond hands, not selling until the shorts cover 🚀🚀",
    "Rates stayed where they were.",
    "",
    "The board named a new chief financial officer effective next month " * 20,
]


def _numpy_minilm(ids: list[int]) -> np.ndarray:
    """One sentence through BERT in float64 NumPy: no padding, no mask needed."""
    t = {name: value.astype(np.float64) for name, value in raw_tensors().items()}

    def dense(x: np.ndarray, name: str) -> np.ndarray:
        return x @ t[f"{name}.weight"].T + t[f"{name}.bias"]

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * t[f"{name}.weight"] + t[f"{name}.bias"]

    n = len(ids)
    x = (
        t["embeddings.word_embeddings.weight"][ids]
        + t["embeddings.position_embeddings.weight"][:n]
        + t["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(6):
        p = f"encoder.layer.{layer}"
        q, k, v = (
            dense(x, f"{p}.attention.self.{part}").reshape(n, 12, 32).transpose(1, 0, 2)
            for part in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(32.0)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(1, 0, 2).reshape(n, 384)
        attended = x + dense(context, f"{p}.attention.output.dense")
        x = norm(attended, f"{p}.attention.output.LayerNorm")
        inner = dense(x, f"{p}.intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
        x = norm(x + dense(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_embeddings_match_a_numpy_bert_to_1e4_cosine() -> None:
    encoded = encode(SENTENCES)
    ids, _ = tokenize(SENTENCES)
    assert encoded.vectors.shape == (len(SENTENCES), 384)
    assert encoded.vectors.dtype == np.float32
    for row, token_ids in enumerate(ids):
        reference = _numpy_minilm(token_ids)
        cosine = float(encoded.vectors[row] @ reference) / float(
            np.linalg.norm(encoded.vectors[row])
        )
        assert cosine == pytest.approx(1.0, abs=1e-4), SENTENCES[row][:40]
        np.testing.assert_allclose(encoded.vectors[row], reference, atol=1e-4)


def test_padding_and_batch_company_do_not_change_a_vector() -> None:
    alone = encode(["Rates stayed where they were."]).vectors[0]
    crowd = encode(["Rates stayed where they were.", *SENTENCES[:3] * 30]).vectors[0]
    np.testing.assert_allclose(alone, crowd, atol=2e-6)


def test_long_texts_are_truncated_and_said_so() -> None:
    encoded = encode(SENTENCES)
    assert encoded.truncated.tolist() == [False, False, False, False, False, True]
    ids, _ = tokenize(SENTENCES[-1:])
    assert len(ids[0]) == MAX_TOKENS == LENGTH_BUCKETS[-1]


def test_unit_length_and_similar_sentences_sit_closer() -> None:
    vectors = encode([
        "The company's profit rose sharply in the third quarter.",
        "Third-quarter earnings at the firm increased strongly.",
        "The central bank kept its policy rate unchanged.",
        "My cat likes to sleep on the warm windowsill.",
    ]).vectors
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    same = vectors[0] @ vectors[1]
    assert same > vectors[0] @ vectors[2] + 0.2
    assert same > vectors[0] @ vectors[3] + 0.3


def test_emoji_the_vocabulary_lacks_are_spelled_out() -> None:
    ids, _ = tokenize(["🚀🚀", "rocket rocket"])
    assert ids[0] == ids[1]
