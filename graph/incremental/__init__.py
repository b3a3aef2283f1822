"""Incremental delivery: `@defer` split into parts, streamed as multipart or SSE payloads."""

from graph.incremental.directive import DEFER_DIRECTIVE, with_defer, without_defer
from graph.incremental.run import Incremental, deferred_payloads, incremental_split

__all__ = [
    "DEFER_DIRECTIVE",
    "Incremental",
    "deferred_payloads",
    "incremental_split",
    "with_defer",
    "without_defer",
]
