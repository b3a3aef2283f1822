"""Composition errors: each message names the subgraphs, the type or field, and what to change."""

from __future__ import annotations

from collections.abc import Sequence


class CompositionError(Exception):
    """The subgraphs cannot be composed into one supergraph; `messages` lists every reason."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("Composition failed:\n" + "\n".join(f"- {m}" for m in self.messages))
