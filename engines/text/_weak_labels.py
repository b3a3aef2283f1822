"""Rule-labelled training sentences: financial statements built from parts whose tone is known.

The hand-written set (`data/sentiment_train.tsv`) teaches variety; these teach the rule a
word list cannot read: the tone of a change depends on what changed. A metric investors want
higher (sales, profit, orders) going up is good news and going down bad; one they want lower
(losses, costs, debt) the other way round; "did not rise" and "failed to grow" flip it; a
metric merely stated, unchanged or in line is neutral. Companies, amounts and periods are
drawn from a seeded generator, so the set is the same on every run.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["weak_sentences"]

COMPANIES = (
    "Norvik", "Aaltoline", "Kestrel Foods", "Brightwater Energy", "Halden Paper", "Meridian Bank",
    "Tessera Systems", "Lumo Retail", "Oakridge Pharma", "Vantor Logistics", "Saimaa Steel",
    "Corvid Software", "Pellinge Marine", "Redfern Insurance", "Alderton Motors", "Kivi Mining",
)
GOOD_METRICS = (
    "net sales", "revenue", "operating profit", "net profit", "order intake", "earnings per share",
    "gross margin", "operating cash flow", "turnover", "pre-tax profit", "comparable sales",
    "deliveries", "market share", "EBITDA", "the order backlog", "net interest income",
)
BAD_METRICS = (
    "the operating loss", "the net loss", "costs", "net debt", "operating expenses",
    "credit losses", "impairment charges", "customer churn", "the pre-tax loss", "inventories",
)
UP = ("rose", "increased", "grew", "climbed", "jumped", "went up", "improved", "surged",
      "rose sharply", "was up")
DOWN = ("fell", "decreased", "declined", "dropped", "went down", "slumped", "shrank",
        "contracted", "was down", "deteriorated")
LOSS_BETTER = ("narrowed", "was reduced", "shrank", "eased")
LOSS_WORSE = ("widened", "deepened", "grew", "increased")
NOT_UP = ("did not rise", "did not increase", "failed to grow", "did not improve")
NOT_DOWN = ("did not fall", "did not decline")
PERIODS = ("the first quarter", "the second quarter", "the third quarter", "the fourth quarter",
           "the first half", "the full year", "January-June", "the review period")
UNCHANGED = ("was flat at", "was unchanged at", "stood at", "amounted to", "totalled",
             "was stable at")
NEUTRAL_FACTS = (
    "{company} will publish its results for {period} on {day} {month}.",
    "{company} is headquartered in {city}.",
    "{company} employs about {people} people.",
    "{company} has appointed a new head of investor relations.",
    "{company}'s annual general meeting will be held in {city} on {day} {month}.",
    "{company} operates in {countries} countries.",
    "{company} will hold a webcast for analysts on {day} {month}.",
    "{company} reiterated its outlook for {period}.",
    "{company}'s results for {period} were in line with its guidance.",
    "{company} signed a cooperation agreement with {other}; financial terms were not disclosed.",
    "The shares of {company} are listed in {city}.",
    "{company} is part of the {other} group.",
)
CITIES = ("Helsinki", "Stockholm", "Oslo", "Frankfurt", "London", "Toronto", "Chicago", "Tallinn")
MONTHS = ("February", "April", "May", "July", "October", "November")


_UNITS = ("million euros", "million dollars", "billion kronor", "million")


def _amount(rng: np.random.Generator) -> str:
    return f"{rng.uniform(1, 900):.1f} {_UNITS[rng.integers(len(_UNITS))]}"


def _possessive(company: str, metric: str) -> str:
    return f"{company}'s {metric.removeprefix('the ')}"


def _change_sentence(rng: np.random.Generator, metric: str, verb: str, direction: int) -> str:
    """`metric` `verb`ed, with amounts (from -> to) that move in `direction` (0: no amounts)."""
    company = COMPANIES[rng.integers(len(COMPANIES))]
    period = PERIODS[rng.integers(len(PERIODS))]
    form = rng.integers(4) if direction else 1 + 2 * rng.integers(2)
    if form == 0:
        return f"{_possessive(company, metric)} {verb} to {_amount(rng)} in {period}."
    if form == 1:
        return f"In {period}, {metric} {verb} by {rng.integers(2, 60)}% year on year."
    if form == 2:
        unit = _UNITS[rng.integers(len(_UNITS))]
        low, high = sorted(rng.uniform(1, 900, size=2))
        new, old = (high, low) if direction > 0 else (low, high)
        capital = metric[0].upper() + metric[1:]
        return f"{capital} {verb} to {new:.1f} {unit} from {old:.1f} {unit}."
    return f"{company} said {metric} {verb} {rng.integers(2, 60)}% in {period}."


def weak_sentences(seed: int = 2026) -> list[tuple[str, str]]:
    """(sentence, label) pairs, label one of negative/neutral/positive, deterministically."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, str]] = []
    for metric, verb in itertools.product(GOOD_METRICS, UP + DOWN):
        if rng.random() < 0.35:
            label = "positive" if verb in UP else "negative"
            out.append((_change_sentence(rng, metric, verb, 1 if verb in UP else -1), label))
    plain = tuple(v for v in UP + DOWN if v not in ("improved", "deteriorated"))
    for metric, verb in itertools.product(BAD_METRICS, plain + LOSS_BETTER + LOSS_WORSE):
        if "loss" not in metric and verb in LOSS_BETTER + LOSS_WORSE:
            continue
        if rng.random() < 0.45:
            better = verb in DOWN or verb in LOSS_BETTER
            sentence = _change_sentence(rng, metric, verb, -1 if better else 1)
            out.append((sentence, "positive" if better else "negative"))
    for metric in GOOD_METRICS:
        verb = NOT_UP[rng.integers(len(NOT_UP))]
        out.append((_change_sentence(rng, metric, verb, 0), "negative"))
        if rng.random() < 0.4:
            verb = NOT_DOWN[rng.integers(len(NOT_DOWN))]
            out.append((_change_sentence(rng, metric, verb, 0), "positive"))
        company = COMPANIES[rng.integers(len(COMPANIES))]
        stated = UNCHANGED[rng.integers(len(UNCHANGED))]
        period = PERIODS[rng.integers(len(PERIODS))]
        out.append((
            f"{_possessive(company, metric)} {stated} {_amount(rng)} in {period}.", "neutral"
        ))
    for template in NEUTRAL_FACTS * 4:
        out.append((template.format(
            company=COMPANIES[rng.integers(len(COMPANIES))],
            other=COMPANIES[rng.integers(len(COMPANIES))],
            period=PERIODS[rng.integers(len(PERIODS))],
            city=CITIES[rng.integers(len(CITIES))],
            month=MONTHS[rng.integers(len(MONTHS))],
            day=int(rng.integers(1, 29)),
            people=int(rng.integers(2, 90)) * 100,
            countries=int(rng.integers(3, 40)),
        ), "neutral"))
    return out
