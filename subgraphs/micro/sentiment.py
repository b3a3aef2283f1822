"""Sentiment in the schema: the labels and probabilities of posts, and `sentiment(texts)` for a
caller's own texts (one batch through the model per request)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import Enum

import strawberry

from engines.text.sentiment import classify
from nexus.errors import BadUserInput
from subgraphs.micro.embedding import LABELS

MAX_TEXTS = 256
MAX_TEXT_CHARACTERS = 2000
# The model reads a text's first 128 word pieces; about 4 characters each on English text,
# so the character cap only trims what it could not read anyway.


@strawberry.enum(description="The tone of a text for an investor in what it talks about.")
class SentimentLabel(Enum):
    NEGATIVE = strawberry.enum_value("negative", description="Bad news or a bearish view.")
    NEUTRAL = strawberry.enum_value("neutral", description="A statement of fact, or no view.")
    POSITIVE = strawberry.enum_value("positive", description="Good news or a bullish view.")


@strawberry.type(description="The sentiment model's probabilities of each label; they sum to 1.")
class SentimentProbabilities:
    negative: float = strawberry.field(description="Probability of negative, a fraction.")
    neutral: float = strawberry.field(description="Probability of neutral, a fraction.")
    positive: float = strawberry.field(description="Probability of positive, a fraction.")


@strawberry.type(description="The sentiment of one of the texts given to `sentiment`.")
class TextSentiment:
    label: SentimentLabel = strawberry.field(description="The most probable label.")
    score: float = strawberry.field(
        description="P(positive) - P(negative), from -1 (bearish) to 1 (bullish)."
    )
    probabilities: SentimentProbabilities = strawberry.field(
        description="The probability of each label."
    )
    truncated: bool = strawberry.field(
        description=f"True when the text was longer than the model reads ({MAX_TEXT_CHARACTERS} "
        "characters or 128 word pieces) and only its beginning was scored."
    )


def label_of(probabilities: Sequence[float]) -> SentimentLabel | None:
    if len(probabilities) != len(LABELS):
        return None
    best = max(range(len(LABELS)), key=lambda index: probabilities[index])
    return SentimentLabel(LABELS[best])


def probabilities_of(probabilities: Sequence[float]) -> SentimentProbabilities | None:
    if len(probabilities) != len(LABELS):
        return None
    negative, neutral, positive = probabilities
    return SentimentProbabilities(negative=negative, neutral=neutral, positive=positive)


def _clean(texts: Sequence[str]) -> tuple[list[str], list[bool]]:
    """Texts checked (refused when empty) and cut to `MAX_TEXT_CHARACTERS`."""
    if len(texts) > MAX_TEXTS:
        raise BadUserInput(
            f"`texts` holds {len(texts)} texts; at most {MAX_TEXTS} per request: split it.",
            argument="texts",
        )
    cleaned, cut = [], []
    for index, text in enumerate(texts):
        # A lone surrogate (JSON can carry one) is not UTF-8: it becomes "?".
        text = text.encode("utf-8", "replace").decode("utf-8")
        if not text.strip():
            raise BadUserInput(f"`texts[{index}]` is empty: send text to score.",
                               argument="texts")
        cleaned.append(text[:MAX_TEXT_CHARACTERS])
        cut.append(len(text) > MAX_TEXT_CHARACTERS)
    return cleaned, cut


async def score_texts(texts: Sequence[str]) -> list[TextSentiment]:
    """The sentiment of each of a caller's texts: one model call for all, off the event loop."""
    cleaned, cut = _clean(texts)
    if not cleaned:
        return []
    result = await asyncio.to_thread(classify, cleaned)
    return [
        TextSentiment(
            label=SentimentLabel(LABELS[int(label)]),
            score=float(score),
            probabilities=SentimentProbabilities(
                negative=float(p[0]), neutral=float(p[1]), positive=float(p[2])
            ),
            truncated=bool(truncated or was_cut),
        )
        for label, score, p, truncated, was_cut in zip(
            result.labels, result.scores, result.probabilities, result.truncated, cut,
            strict=True,
        )
    ]


__all__ = [
    "MAX_TEXTS",
    "SentimentLabel",
    "SentimentProbabilities",
    "TextSentiment",
    "label_of",
    "probabilities_of",
    "score_texts",
]
