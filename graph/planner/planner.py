"""The planner pipeline, with a cache per operation shape.

normalise -> walk the query graph (choosing subgraphs and keys) -> fetch graph -> optimisation
passes to a fixed point -> plan nodes. A cache hit skips every stage: `plans_built` counts misses.
@skip/@include on variables are Condition nodes, so one cached plan serves every value; each
request gets it with the response shape pruned for its values (cached beside the plan).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, print_ast

from graph.planner.build_plan import build_plan
from graph.planner.operation import INTROSPECTION_FIELDS, normalize
from graph.planner.passes import optimise_fetch_graph, optimise_plan
from graph.planner.query_plan import QueryPlan
from graph.planner.shape import build_shape, condition_variables, for_values
from graph.planner.walk import Walker
from graph.supergraph.model import Supergraph
from nexus.metrics import PLAN_CACHE
from nexus.tracing import span

CacheKey = tuple[str, str | None, tuple[str, ...]]
ConditionValues = tuple[bool, ...]


PLAN_CACHE_HITS = PLAN_CACHE.labels("hit")
PLAN_CACHE_MISSES = PLAN_CACHE.labels("miss")


class QueryPlanner:
    def __init__(self, supergraph: Supergraph, *, cache_size: int = 1024) -> None:
        self.supergraph = supergraph
        self.cache_size = cache_size
        self.plans_built = 0
        self.cache_hits = 0
        # each plan with its per-request views, one per tuple of @skip/@include values
        self._cache: OrderedDict[CacheKey, tuple[QueryPlan, dict[ConditionValues, QueryPlan]]] = (
            OrderedDict()
        )
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
        labels = override_labels & self.override_labels
        key: CacheKey = (text, operation_name, tuple(sorted(labels)))
        cached = self._cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            PLAN_CACHE_HITS.inc()
            self._cache.move_to_end(key)
        else:
            PLAN_CACHE_MISSES.inc()
            with span("graphql.plan", {"graphql.operation.name": operation_name or ""}):
                built = self._build(document, operation_name, frozenset(labels))
            self.plans_built += 1
            cached = self._cache[key] = (built, {})
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        plan, views = cached
        if not plan.condition_variables:
            return plan
        values = tuple(bool(variables.get(name)) for name in plan.condition_variables)
        view = views.get(values)
        if view is None:
            named = dict(zip(plan.condition_variables, values, strict=True))
            pruned = for_values(plan.shape, named)
            view = views[values] = dataclasses.replace(plan, shape=pruned)
        return view

    def _build(
        self,
        document: DocumentNode,
        operation_name: str | None,
        labels: frozenset[str],
    ) -> QueryPlan:
        schema = self.supergraph.api_schema
        operation = normalize(document, schema, operation_name)
        supergraph = self.supergraph.with_labels(labels) if labels else self.supergraph
        fetch_graph = Walker(supergraph, operation).walk()
        optimise_fetch_graph(fetch_graph)
        node = build_plan(fetch_graph, operation)
        shape = build_shape(operation, schema)
        return QueryPlan(
            node=optimise_plan(node) if node is not None else None,
            shape=shape,
            operation_kind=operation.kind,
            has_introspection=any(f.name in INTROSPECTION_FIELDS for f in operation.fields),
            condition_variables=condition_variables(shape),
        )
