"""The word-list baseline: Loughran-McDonald-style counts of positive and negative words.

A text's score is (positive - negative) / (positive + negative) over the words it contains
from two hand-made financial word lists (written for this project in the spirit of
Loughran & McDonald [1], whose own lists need a licence for commercial use), each word's
polarity flipped when one of the three words before it is a negator ("not", "no", "never",
"n't", "without") [2]. A text with no list word scores 0 and is called neutral; otherwise the
sign decides. It reads words one by one: it cannot know that "loss narrowed" is good news,
which is why the model (`engines.text.sentiment`) exists; it is the yardstick the model's
figures are reported beside.

References:
    [1] Loughran, T. & McDonald, B. (2011). When Is a Liability Not a Liability? Textual
        Analysis, Dictionaries, and 10-Ks. Journal of Finance 66(1).
    [2] Hutto, C. & Gilbert, E. (2014). VADER: A Parsimonious Rule-based Model for Sentiment
        Analysis of Social Media Text. ICWSM (negation window).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from engines.text._normalise import normalise

__all__ = [
    "NEGATIVE_WORDS",
    "POSITIVE_WORDS",
    "TONE_FEATURES",
    "lexicon_labels",
    "lexicon_scores",
    "tone_features",
]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


POSITIVE_WORDS = _word_set("""
    rise rises rose risen rising increase increased increases increasing grow grows grew grown
    growing growth gain gains gained improve improved improves improvement improvements beat
    beats exceed exceeded exceeds record strong stronger strongest strength surge surged surges
    jump jumped jumps climb climbed climbs rally rallied rallies higher upgrade upgraded
    profitable profitability boost boosted expand expanded expansion recover recovered recovery
    rebound rebounded outperform outperformed raise raised win wins won award awarded success
    successful positive bullish soar soared soaring doubled tripled best approval approved
    gainer gainers upbeat robust surpass surpassed accelerate accelerated benefit benefited
    favorable favourable optimistic opportunity progress achieve achieved moon rocket tendies
    green pump pumping ripping printing lfg bull bulls breakout
""")

NEGATIVE_WORDS = _word_set("""
    fall falls fell fallen falling decline declined declines declining decrease decreased
    decreases drop dropped drops loss losses lose loses losing lost miss missed misses weak
    weaker weakness cut cuts cutting warn warned warning warns plunge plunged plunges slump
    slumped tumble tumbled sink sank sunk downgrade downgraded layoff layoffs bankrupt
    bankruptcy impairment fined fine penalty investigation probe fraud recall recalled halt
    halted fail failed fails failure worse worst crash crashed crashing dump dumped dumping
    bearish rekt bagholder bagholding bagholders red rug liquidated negative lowest shrank
    shrink contracted contraction deficit default defaulted breach breached slowdown slower
    disappointing disappointed disappoint lawsuit litigation closure closures shortfall
    adverse volatile uncertainty risk risks concern concerns deteriorated deterioration
    plummeted plummet collapse collapsed bleeding bloodbath toast trash puts dead crying bear
    bears scam rugpull overvalued underperform underperformed struggle struggling
""")

_NEGATORS = frozenset({"not", "no", "never", "n't", "without", "nor", "neither", "didnt",
                       "doesnt", "dont", "wasnt", "isnt", "cannot"})
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|n't")
_NEGATION_WINDOW = 3


def _words(text: str) -> list[str]:
    lowered = normalise(text).lower().replace("n't", " n't")
    return _WORD.findall(lowered)


# Things investors want lower: a change word after one of them means the opposite.
_COST_NOUNS = _word_set("""
    loss losses costs cost debt expenses expense deficit unemployment inflation churn
    impairment impairments provisions writedowns write-downs inventories layoffs claims
    delinquencies defaults arrears
""")
_CHANGE_WORDS = _word_set("""
    rise rises rose risen rising increase increased increases grow grows grew jump jumped
    climb climbed surge surged fall falls fell decline declined decrease decreased drop dropped
    shrank shrink plunge plunged slump slumped eased ease narrowed narrow narrows widened widen
    widens deepened higher lower up down doubled halved reduced cut
""")
# Change words that are not tone words by themselves: their polarity for a thing wanted higher.
_CHANGE_POLARITY = {"narrowed": -1, "narrow": -1, "narrows": -1, "widened": 1, "widen": 1,
                    "widens": 1, "deepened": -1, "eased": -1, "ease": -1, "lower": -1,
                    "down": -1, "up": 1, "halved": -1, "reduced": -1}
_COST_WINDOW = 4

TONE_FEATURES = 4


def _polarities(words: list[str], read_costs: bool) -> list[int]:
    """Each tone word's polarity after negation (and, if `read_costs`, after the cost flip)."""
    base = [(w in POSITIVE_WORDS) - (w in NEGATIVE_WORDS) for w in words]
    if read_costs:
        for index, word in enumerate(words):
            if word not in _CHANGE_WORDS:
                continue
            base[index] = base[index] or _CHANGE_POLARITY.get(word, 0)
            before = range(max(0, index - _COST_WINDOW), index)
            cost = next((i for i in reversed(before) if words[i] in _COST_NOUNS), None)
            if cost is not None and base[index]:
                # "loss narrowed": the change is flipped, and the noun, its subject, is no
                # tone word by itself.
                base[index], base[cost] = -base[index], 0
    found = []
    for index, polarity in enumerate(base):
        if polarity and any(
            w in _NEGATORS for w in words[max(0, index - _NEGATION_WINDOW) : index]
        ):
            polarity = -polarity
        if polarity:
            found.append(polarity)
    return found


def _net(polarities: list[int]) -> float:
    return sum(polarities) / len(polarities) if polarities else 0.0


def _score(text: str) -> float:
    return _net(_polarities(_words(text), read_costs=False))


def tone_features(texts: Sequence[str]) -> np.ndarray:
    """`[n, TONE_FEATURES]` float32 inputs for the sentiment head, from the word lists read with
    one more rule than the baseline: a change after a thing investors want lower (loss, costs,
    debt) flips ("loss narrowed" is good news). Columns: positive words / 3 and negative
    words / 3 (each capped at 1), net tone = (pos - neg) / (pos + neg) in [-1, 1], and 1 where
    a negator occurs.

    References:
        [1] Loughran & McDonald (2011). [2] Hutto & Gilbert (2014).

    Example:
        >>> [round(float(x), 3) for x in tone_features(["Operating loss narrowed"])[0]]
        [0.333, 0.0, 1.0, 0.0]
    """
    rows = []
    for text in texts:
        words = _words(text)
        polarities = _polarities(words, read_costs=True)
        rows.append([
            min(sum(p > 0 for p in polarities), 3) / 3,
            min(sum(p < 0 for p in polarities), 3) / 3,
            _net(polarities),
            float(any(word in _NEGATORS for word in words)),
        ])
    return np.array(rows, dtype=np.float32).reshape(len(texts), TONE_FEATURES)


def lexicon_scores(texts: Sequence[str]) -> np.ndarray:
    """Net tone in [-1, 1] of each text: tone = (positive - negative) / (positive + negative)
    list words, each flipped after a negator; 0 with none.

    References:
        [1] Loughran & McDonald (2011). [2] Hutto & Gilbert (2014), negation window.

    Example:
        >>> lexicon_scores(["Profit rose but costs did not fall", "The office is in Oslo"])
        array([1., 0.])
    """
    return np.array([_score(text) for text in texts], dtype=np.float64)


def lexicon_labels(texts: Sequence[str]) -> np.ndarray:
    """The baseline's label of each text: label = sign(tone) + 1, so 0 negative, 1 neutral,
    2 positive.

    References:
        [1] Loughran & McDonald (2011).

    Example:
        >>> lexicon_labels(["Shares jumped", "Sales did not rise", "Rates held"]).tolist()
        [2, 0, 1]
    """
    return (np.sign(lexicon_scores(texts)) + 1).astype(np.int64)
