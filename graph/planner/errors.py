"""One error type per planner stage, each saying what to change."""

from __future__ import annotations


class PlannerError(Exception):
    """Base of every planning failure."""


class OperationError(PlannerError):
    """Normalisation: the document has no operation to run (wrong or missing operation name)."""


class UnsatisfiableFieldError(PlannerError):
    """Walking the query graph: no subgraph (or no chain of entity keys) can resolve a field."""


class FetchGraphError(PlannerError):
    """Building or optimising the fetch graph reached an inconsistent state (a planner bug)."""
