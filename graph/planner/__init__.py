"""Query planning as a pipeline: normalise, walk, choose, fetch graph, passes, plan nodes."""

from __future__ import annotations

from graph.planner.errors import (
    FetchGraphError,
    OperationError,
    PlannerError,
    UnsatisfiableFieldError,
)
from graph.planner.planner import QueryPlanner
from graph.planner.printer import print_plan
from graph.planner.query_plan import QueryPlan

__all__ = [
    "FetchGraphError",
    "OperationError",
    "PlannerError",
    "QueryPlan",
    "QueryPlanner",
    "UnsatisfiableFieldError",
    "print_plan",
]
