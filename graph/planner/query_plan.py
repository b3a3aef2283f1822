"""A planned operation: the plan tree and the response shape the executor fills."""

from __future__ import annotations

from dataclasses import dataclass

from graph.planner.nodes import PlanNode
from graph.planner.operation import OperationKind
from graph.planner.printer import print_plan
from graph.planner.shape import ResponseShape


@dataclass(frozen=True, slots=True)
class QueryPlan:
    node: PlanNode | None
    shape: ResponseShape
    operation_kind: OperationKind
    has_introspection: bool = False
    # the @skip/@include variables: each request gets this plan with its own pruned shape
    condition_variables: tuple[str, ...] = ()

    def __str__(self) -> str:
        return print_plan(self.node)
