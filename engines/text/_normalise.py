"""Text clean-up ahead of the tokenizer: emoji the vocabulary lacks become words.

MiniLM's WordPiece vocabulary (BERT uncased) has no emoji: every one would become `[UNK]`,
and "🚀🚀🚀" would say nothing. The social register leans on a few of them, so those are
spelled out as the words they stand for (the Unicode names, shortened), the rest dropped
with the other symbols the vocabulary lacks. Control characters become spaces and runs of
white space one space, so the same post always tokenizes the same way.
"""

from __future__ import annotations

import re

__all__ = ["EMOJI_WORDS", "normalise"]

EMOJI_WORDS: dict[str, str] = {
    "🚀": "rocket",
    "🌙": "moon",
    "🌕": "moon",
    "📈": "chart going up",
    "📉": "chart going down",
    "💎": "diamond",
    "🙌": "hands",
    "👐": "hands",
    "🦍": "ape",
    "🐒": "monkey",
    "🐂": "bull",
    "🐻": "bear",
    "🔥": "fire",
    "💰": "money",
    "💵": "money",
    "💸": "money flying away",
    "🤑": "money face",
    "🍗": "tendies",
    "🤡": "clown",
    "💀": "dead",
    "☠": "dead",
    "😭": "crying",
    "😢": "crying",
    "😱": "screaming in fear",
    "🩸": "blood",
    "🔴": "red",
    "🟥": "red",
    "🟢": "green",
    "🟩": "green",
    "✅": "check",
    "❌": "cross",
    "⚠": "warning",
    "🎉": "celebration",
    "🥳": "celebration",
    "😎": "cool",
    "😂": "laughing",
    "🤣": "laughing",
    "👍": "thumbs up",
    "👎": "thumbs down",
    "🗑": "trash",
    "💩": "crap",
    "🧻": "paper hands",
    "🏳": "white flag",
    "⬆": "up",
    "⬇": "down",
    "🆙": "up",
}

_EMOJI = re.compile("|".join(sorted(map(re.escape, EMOJI_WORDS), key=len, reverse=True)))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\ufe0f]")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """`text` with known emoji spelled out, control characters removed, spaces collapsed."""
    text = _CONTROL.sub(" ", text)
    text = _EMOJI.sub(lambda match: f" {EMOJI_WORDS[match.group()]} ", text)
    return _SPACE.sub(" ", text).strip()
