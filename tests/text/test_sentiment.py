"""The sentiment classifier on sentences written here: clear news, negation, social slang."""

from __future__ import annotations

import numpy as np
import pytest

from engines.text.lexicon import lexicon_labels
from engines.text.sentiment import LABELS, classify


def _labels(texts: list[str]) -> list[str]:
    return [LABELS[int(label)] for label in classify(texts).labels]


def test_clear_news_sentences() -> None:
    texts = [
        "The toolmaker's quarterly profit doubled and it raised its forecast for the year.",
        "Revenue slid 20% and the company withdrew its dividend.",
        "The company's offices are in Rotterdam.",
        "Profit came in ahead of analysts' estimates.",
        "Earnings missed estimates as costs soared.",
    ]
    assert _labels(texts) == ["positive", "negative", "neutral", "positive", "negative"]


def test_negation_and_losses_that_shrink() -> None:
    texts = [
        "Operating loss narrowed to 1.1 million euros from 6.3 million euros.",
        "The pre-tax loss widened to 14 million.",
        "Sales did not rise in the quarter.",
        "Profit rose in the quarter.",
    ]
    assert _labels(texts) == ["positive", "negative", "negative", "positive"]
    # The word list reads "loss" and "narrowed" as bad news: the model knows better.
    assert lexicon_labels(texts[:1]).tolist() == [0]


def test_emoji_and_slang() -> None:
    texts = [
        "🚀🚀 $XYZ to the moon",
        "rekt again, bagholder life 😭",
        "$XYZ diamond hands 💎🙌 holding forever",
        "what time is the $XYZ call tomorrow?",
    ]
    assert _labels(texts) == ["positive", "negative", "positive", "neutral"]


def test_probabilities_scores_and_empty_input() -> None:
    result = classify(["Shares surged to a record.", ""])
    assert result.probabilities.shape == (2, 3)
    np.testing.assert_allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert result.scores[0] == pytest.approx(
        result.probabilities[0, 2] - result.probabilities[0, 0]
    )
    assert result.scores[0] > 0.5
    assert classify([]).probabilities.shape == (0, 3)
