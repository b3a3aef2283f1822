"""The planner pipeline, with a cache per operation shape.

normalise -> walk the query graph (choosing subgraphs and keys) -> fetch graph -> optimisation
passes to a fixed point -> plan nodes. A cache hit skips every stage: `plans_built` counts misses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import DirectiveNode, DocumentNode, VariableNode, Visitor, print_ast, visit

from graph.planner.build_plan import build_plan
from graph.planner.operation import INTROSPECTION_FIELDS, normalize
from graph.planner.passes import optimise_fetch_graph, optimise_plan
from graph.planner.query_plan import QueryPlan
from graph.planner.shape import build_shape
from graph.planner.walk import Walker
from graph.supergraph.model import Supergraph
from nexus.metrics import PLAN_CACHE
from nexus.tracing import span

CacheKey = tuple[str, str | None, tuple[tuple[str, bool], ...], tuple[str, ...]]


PLAN_CACHE_HITS = PLAN_CACHE.labels("hit")
PLAN_CACHE_MISSES = PLAN_CACHE.labels("miss")


class QueryPlanner:
    def __init__(self, supergraph: Supergraph, *, cache_size: int = 1024) -> None:
        self.supergraph = supergraph
        self.cache_size = cache_size
        self.plans_built = 0
        self.cache_hits = 0
        self._cache: OrderedDict[CacheKey, QueryPlan] = OrderedDict()
        self._conditions: dict[str, tuple[str, ...]] = {}
        self.override_labels = supergraph.override_labels

    def plan(
        self,
        document: DocumentNode,
        operation_name: str | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        document_text: str | None = None,
        override_labels: frozenset[str] = frozenset(),
    ) -> QueryPlan:
        """Plan the (validated) `document`; `document_text` is its printed form when known;
        `override_labels` are the progressive @override labels switched on for this request."""
        variables = variables or {}
        text = document_text if document_text is not None else print_ast(document)
        names = self._conditions.get(text)
        if names is None:
            names = self._conditions[text] = _condition_variables(document)
            if len(self._conditions) > self.cache_size:
                self._conditions.pop(next(iter(self._conditions)))
        conditions = tuple((name, bool(variables.get(name))) for name in names)
        labels = override_labels & self.override_labels
        key: CacheKey = (text, operation_name, conditions, tuple(sorted(labels)))
        cached = self._cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            PLAN_CACHE_HITS.inc()
            self._cache.move_to_end(key)
            return cached
        PLAN_CACHE_MISSES.inc()
        with span("graphql.plan", {"graphql.operation.name": operation_name or ""}):
            plan = self._build(document, operation_name, variables, frozenset(labels))
        self.plans_built += 1
        self._cache[key] = plan
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return plan

    def _build(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any],
        labels: frozenset[str],
    ) -> QueryPlan:
        schema = self.supergraph.api_schema
        operation = normalize(document, schema, operation_name, variables)
        supergraph = self.supergraph.with_labels(labels) if labels else self.supergraph
        fetch_graph = Walker(supergraph, operation).walk()
        optimise_fetch_graph(fetch_graph)
        node = build_plan(fetch_graph, operation)
        return QueryPlan(
            node=optimise_plan(node) if node is not None else None,
            shape=build_shape(operation, schema),
            operation_kind=operation.kind,
            has_introspection=any(f.name in INTROSPECTION_FIELDS for f in operation.fields),
        )


def _condition_variables(document: DocumentNode) -> tuple[str, ...]:
    found: set[str] = set()

    class _Conditions(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> None:
            if node.name.value in ("skip", "include"):
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        found.add(argument.value.name.value)

    visit(document, _Conditions())
    return tuple(sorted(found))
