"""The router: parse, validate and limit a request, plan it, run the plan, shape the response."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    experimental_execute_incrementally,
    get_operation_ast,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from graph.cache.transport import fresh_reads
from graph.edge.access import AccessControl
from graph.edge.context import calling_as
from graph.edge.cost import CostModel
from graph.edge.demand import DemandControl, EdgeOutcome
from graph.edge.introspection import Introspection
from graph.edge.subscriptions import SubscriptionQuota
from graph.edge.usage import UsageEvent, UsageMeter, UsageStatus
from graph.executor import PlanRun, Transport
from graph.incremental.directive import undeferred, with_defer
from graph.input_check import InputRefused, check_json, check_literals, check_text
from graph.limits import (
    LimitExceeded,
    RequestLimits,
    check_document_size,
    check_limits,
    check_list_fan_out,
    checks_enabled,
)
from graph.offload import Serialised, shaped_off_loop, with_extensions
from graph.override_labels import OverrideLabels
from graph.planner import PlannerError, QueryPlan, QueryPlanner
from graph.planner.nodes import Subscription as PlannedSubscription
from graph.planner.operation import INTROSPECTION_FIELDS
from graph.subscriptions.hub import Listener, SharedStream, SubscriptionHub, stream_key
from graph.subscriptions.streams import SubgraphStreams
from graph.supergraph import Supergraph, read_supergraph
from nexus.auth.caller import ANONYMOUS, Caller
from nexus.metrics import observed_request

Response = dict[str, Any]

# Subgraph documents longer than this (characters) are checked in a worker thread.
OFF_LOOP_DOCUMENT_CHARS = 8 * 1024


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    document: DocumentNode
    text: str  # the printed document: the plan cache key
    limits: RequestLimits | None = None  # every operation was checked against these already


@dataclass(frozen=True, slots=True)
class Planned:
    """A request ready to run: its plan, and the fields the caller may not see (left out)."""

    parsed: ParsedDocument
    operation: OperationDefinitionNode  # of the document planned (without denied fields)
    document_text: str  # the planned document, printed
    coerced: dict[str, Any]
    plan: QueryPlan
    denied: tuple[dict[str, Any], ...] = ()  # UNAUTHENTICATED / FORBIDDEN errors with `path`


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A client operation attached to its shared stream; `cancel` detaches it."""

    hub: SubscriptionHub
    shared: SharedStream
    listener: Listener

    def cancel(self) -> None:
        self.hub.leave(self.shared, self.listener)


class RequestError(Exception):
    """The request cannot run; `response` is the GraphQL error response to send."""

    def __init__(self, message: str, code: str, locations: list[Any] | None = None) -> None:
        super().__init__(message)
        error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
        if locations:
            error["locations"] = locations
        self.response: Response = {"errors": [error]}


class Router:
    def __init__(
        self,
        supergraph: Supergraph,
        transport: Transport,
        *,
        limits: RequestLimits | None = None,
        plan_cache_size: int = 1024,
        override_labels: OverrideLabels | None = None,
        streams: SubgraphStreams | None = None,
        demand: DemandControl | None = None,
        usage: UsageMeter | None = None,
    ) -> None:
        """`override_labels` picks the progressive @override labels on for each request
        (default: `percent(x)` labels by chance, no named label); `demand` applies the caller's
        plan (cost per operation, budget per minute); `usage` meters every operation."""
        # Clients may send `@defer` (incremental delivery, `graph.incremental`).
        supergraph = dataclasses.replace(supergraph, api_schema=with_defer(supergraph.api_schema))
        self.supergraph = supergraph
        self.transport = transport
        self.limits = limits or RequestLimits.from_env()
        self.check_inputs = checks_enabled()  # off only to measure what the checks cost
        self.planner = QueryPlanner(supergraph, cache_size=plan_cache_size)
        self.override_labels = override_labels or OverrideLabels(supergraph.override_labels)
        self._documents: OrderedDict[str, ParsedDocument | RequestError] = OrderedDict()
        self._document_cache_size = plan_cache_size
        # (document, operation name, variables as JSON) -> the variables coerced, for requests
        # whose coercion and list fan-out check passed: see `_checked_variables`.
        self._checked: OrderedDict[tuple[str, str | None, bytes], dict[str, Any]] = OrderedDict()
        self.hub = SubscriptionHub(streams, transport) if streams is not None else None
        self.access = AccessControl(supergraph, plan_cache_size)
        self.costs = CostModel(
            supergraph, default_list_size=demand.default_list_size if demand else 10
        )
        self.demand = demand
        self.usage = usage
        self.subscription_quota = SubscriptionQuota()
        self.introspection = Introspection.from_env()  # who may ask for __schema / __type

    @classmethod
    def from_supergraph_sdl(
        cls,
        sdl: str,
        transport: Transport,
        *,
        limits: RequestLimits | None = None,
        streams: SubgraphStreams | None = None,
        demand: DemandControl | None = None,
        usage: UsageMeter | None = None,
    ) -> Router:
        return cls(
            read_supergraph(sdl),
            transport,
            limits=limits,
            streams=streams,
            demand=demand,
            usage=usage,
        )

    def use_supergraph(self, supergraph: Supergraph) -> None:
        """Serve `supergraph` from the next request on (a hot reload). Requests in flight keep
        the plans they hold and finish on them; the caches of the old schema are dropped."""
        supergraph = dataclasses.replace(supergraph, api_schema=with_defer(supergraph.api_schema))
        size = self._document_cache_size
        self.planner = QueryPlanner(supergraph, cache_size=size)
        self.override_labels = OverrideLabels(supergraph.override_labels)
        self.access = AccessControl(supergraph, size)
        self.costs = CostModel(supergraph, default_list_size=self.costs.default_list_size)
        self._documents = OrderedDict()
        self._checked = OrderedDict()
        self.supergraph = supergraph

    @observed_request
    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        caller: Caller = ANONYMOUS,
        outcome: EdgeOutcome | None = None,
    ) -> Response:
        """A GraphQL response for the request as `caller` may see it; never raises for bad
        input or failing subgraphs. `outcome` collects the edge's status and headers."""
        planned = await self._plan(query, variables, operation_name, caller)
        if isinstance(planned, dict):
            return planned
        if planned.plan.operation_kind == "subscription":
            return RequestError(
                "Subscriptions are not served over a single HTTP response; subscribe over "
                "WebSocket (graphql-transport-ws) instead.",
                "SUBSCRIPTION_TRANSPORT_REQUIRED",
            ).response
        return await self._admitted(planned, operation_name, variables, caller, outcome)

    async def _admitted(
        self,
        planned: Planned,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        caller: Caller,
        outcome: EdgeOutcome | None,
    ) -> Response:
        """Run `planned` for `caller` once the demand control admits it."""
        estimated = 0
        if self.demand is not None:
            estimated = self.costs.estimate(
                planned.document_text, planned.parsed.document, planned.operation, planned.coerced
            )
            refused = await self.demand.admit(
                caller, estimated, outcome, lambda: self._dearest(planned)
            )
            if refused is not None:
                self._meter(planned, operation_name, caller, estimated, 0, refused)
                return refused
        with calling_as(caller):
            response = await self.run_within_budget(
                planned.plan,
                planned.parsed.document,
                operation_name,
                dict(variables or {}),
                errors=planned.denied,
            )
        if self.demand is not None:
            mutation = planned.plan.operation_kind == "mutation"
            actual = self.costs.actual(planned.plan.shape, response.get("data"), mutation)
            response["extensions"] = {"cost": {"estimated": estimated, "actual": actual}}
            if isinstance(response, Serialised):  # encoded off the loop: splice the cost in
                response.body = with_extensions(response.body, response["extensions"])
            if outcome is not None:
                outcome.actual = actual
            self._meter(planned, operation_name, caller, estimated, actual, response)
        elif self.usage is not None:
            # Demand control off: nothing is refused or reported, but invoices still need each
            # operation's costs (the estimate is cached per document, so this stays cheap).
            self._meter_unpriced(planned, operation_name, caller, response)
        return response

    def _dearest(self, planned: Planned) -> list[tuple[str, int]]:
        """The operation's dearest root fields and their estimated costs (a refusal names
        them)."""
        return self.costs.dearest(
            planned.document_text, planned.parsed.document, planned.operation, planned.coerced
        )

    def _meter_unpriced(
        self, planned: Planned, operation_name: str | None, caller: Caller, response: Response
    ) -> None:
        estimated = self.costs.estimate(
            planned.document_text, planned.parsed.document, planned.operation, planned.coerced
        )
        mutation = planned.plan.operation_kind == "mutation"
        actual = self.costs.actual(planned.plan.shape, response.get("data"), mutation)
        self._meter(planned, operation_name, caller, estimated, actual, response)

    def _meter(
        self,
        planned: Planned,
        operation_name: str | None,
        caller: Caller,
        estimated: int,
        actual: int,
        response: Response,
    ) -> None:
        if self.usage is None:
            return
        errors = response.get("errors") or ()
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        status: UsageStatus = (
            "rate_limited"
            if "RATE_LIMITED" in codes
            else "refused"
            if "data" not in response
            else "error"
            if errors
            else "ok"
        )
        name = operation_name or (planned.operation.name.value if planned.operation.name else None)
        self.usage.record(UsageEvent.of(caller, name, estimated, actual, status))

    async def run_within_budget(
        self,
        plan: QueryPlan,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any],
        *,
        errors: tuple[dict[str, Any], ...] = (),
    ) -> Response:
        """`run`, answered with a TIMEOUT error once the per-request time budget is spent."""
        budget = self.limits.time_budget_seconds
        if budget is None:
            return await self.run(plan, document, operation_name, variables, errors=errors)
        try:
            # A deadline on this task, not wait_for's extra task per request (hot path).
            async with asyncio.timeout(budget):
                return await self.run(plan, document, operation_name, variables, errors=errors)
        except TimeoutError:
            return RequestError(
                f"The request ran past its {budget:g} s time budget and was stopped; ask for "
                "less (fewer fields, shorter date ranges, smaller limits).",
                "TIMEOUT",
            ).response

    async def subscribe(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        connection_params: Mapping[str, Any],
        listener: Listener,
        *,
        caller: Caller = ANONYMOUS,
    ) -> Subscribed | Response:
        """Start a streamed operation for `listener`: a subscription joins its shared stream
        (`Subscribed`); a query or mutation, or a request that cannot run, is answered at once
        (a response). Never raises for bad input."""
        planned = await self._plan(query, variables, operation_name, caller)
        if isinstance(planned, dict):
            return planned
        plan = planned.plan
        if plan.operation_kind != "subscription":
            return await self._admitted(planned, operation_name, variables, caller, None)
        if planned.denied:  # a private channel: the caller may not open it at all
            return {"errors": list(planned.denied)}
        if self.hub is None or not isinstance(plan.node, PlannedSubscription):
            return RequestError(
                "This router serves no subscriptions.", "SUBSCRIPTIONS_UNAVAILABLE"
            ).response
        lease = await self.subscription_quota.admit(caller)
        if isinstance(lease, dict):
            return lease
        try:
            if self.demand is not None:
                estimated = self.costs.estimate(
                    planned.document_text,
                    planned.parsed.document,
                    planned.operation,
                    planned.coerced,
                )
                refused = await self.demand.admit(
                    caller, estimated, None, lambda: self._dearest(planned)
                )
                if refused is not None:
                    await self.subscription_quota.release(lease)
                    return refused
            # The caller, not its raw credentials, tells streams apart: one stream per identity.
            identity = {"caller": [caller.kind, caller.rate_key, caller.organization_id]}
            key = stream_key(planned.parsed.text, operation_name, planned.coerced, identity)
            with calling_as(caller):  # the stream's task inherits the caller
                shared = self.hub.join(
                    key, plan, dict(variables or {}), connection_params, listener
                )
        except BaseException:
            await self.subscription_quota.release(lease)
            raise
        self.subscription_quota.opened(lease, shared, listener)
        return Subscribed(self.hub, shared, listener)

    async def _plan(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        caller: Caller = ANONYMOUS,
    ) -> Planned | Response:
        """The request parsed, its variables coerced and its plan without the fields `caller`
        may not see; or the error response."""
        try:
            parsed, operation = await self.prepare_off_loop(query, operation_name)
            if self.check_inputs:
                _check_inputs(variables, operation_name)
            coerced = self._checked_variables(parsed, operation, operation_name, variables)
            labels = self.override_labels.for_request()
            plan = self.planner.plan(
                parsed.document,
                operation_name,
                coerced,
                document_text=parsed.text,
                override_labels=labels,
            )
            if plan.has_introspection:
                refused = self.introspection.refusal(caller)
                if refused is not None:
                    raise RequestError(refused, "INTROSPECTION_DISABLED")
            denied = self.access.check(parsed.text, parsed.document, operation, caller)
            if denied is None:
                return Planned(parsed, operation, parsed.text, coerced, plan)
            allowed = self.planner.plan(
                denied.document,
                operation_name,
                coerced,
                document_text=denied.text,
                override_labels=labels,
            )
            # Planned without the denied fields, shaped with them: they come back null.
            plan = dataclasses.replace(allowed, shape=plan.shape)
            filtered = get_operation_ast(denied.document, operation_name)
            assert filtered is not None
            return Planned(parsed, filtered, denied.text, coerced, plan, denied.errors)
        except RequestError as error:
            return error.response
        except LimitExceeded as error:
            return RequestError(error.message, error.code).response
        except PlannerError as error:  # valid, yet no subgraph can serve it: `data` is null
            return {"data": None, **RequestError(str(error), "QUERY_PLANNING_FAILED").response}

    def prepare(
        self, query: str, operation_name: str | None
    ) -> tuple[ParsedDocument, OperationDefinitionNode]:
        """Parse, validate and limit `query`; raises RequestError. Cached per query text."""
        self._check_size(query)
        cached = self._documents.get(query)
        if cached is None:
            cached = self._remember(query, self._parse(query))
        return self._operation(cached, operation_name)

    async def prepare_off_loop(
        self, query: str, operation_name: str | None
    ) -> tuple[ParsedDocument, OperationDefinitionNode]:
        """`prepare`, parsing and validating a new document in a worker thread: a 27 KB
        document once held the event loop for seconds."""
        self._check_size(query)
        cached = self._documents.get(query)
        if cached is None:
            # Each new document text is parsed and validated once (then cached): in a thread,
            # as validating even 2 KB of aliased fields takes tens of milliseconds.
            parsed = await asyncio.to_thread(self._parse, query)
            cached = self._remember(query, parsed)
        return self._operation(cached, operation_name)

    def _check_size(self, query: str) -> None:
        try:
            check_document_size(query, self.limits)
        except LimitExceeded as error:
            raise RequestError(error.message, error.code) from error

    def _remember(
        self, query: str, parsed: ParsedDocument | RequestError
    ) -> ParsedDocument | RequestError:
        self._documents[query] = parsed
        if len(self._documents) > self._document_cache_size:
            self._documents.popitem(last=False)
        return parsed

    def _operation(
        self, cached: ParsedDocument | RequestError, operation_name: str | None
    ) -> tuple[ParsedDocument, OperationDefinitionNode]:
        if isinstance(cached, RequestError):
            raise cached
        operation = get_operation_ast(cached.document, operation_name)
        if operation is None:
            message = (
                f'Unknown operation named "{operation_name}".'
                if operation_name
                else "Must provide operation name if query contains multiple operations."
            )
            raise RequestError(message, "GRAPHQL_VALIDATION_FAILED")
        if cached.limits is not self.limits:  # parsed under other limits: check again
            try:
                check_limits(cached.document, operation, self.limits)
            except LimitExceeded as error:
                raise RequestError(error.message, error.code) from error
        return cached, operation

    def _parse(self, query: str) -> ParsedDocument | RequestError:
        try:
            if self.check_inputs:
                check_text(query, "The query")
            document = parse(query)
            if self.check_inputs:
                check_literals(document)
        except InputRefused as error:
            return RequestError(error.message, "BAD_USER_INPUT")
        except GraphQLError as error:
            return RequestError(error.message, "GRAPHQL_PARSE_FAILED", _locations(error))
        # Limits before validation: validating thousands of aliased fields is quadratic.
        try:
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    check_limits(document, definition, self.limits)
        except LimitExceeded as error:
            return RequestError(error.message, error.code)
        errors = validate(self.supergraph.api_schema, document)
        if errors:
            failure = RequestError(errors[0].message, "GRAPHQL_VALIDATION_FAILED")
            failure.response = {
                "errors": [_coded(e.formatted, "GRAPHQL_VALIDATION_FAILED") for e in errors]
            }
            return failure
        return ParsedDocument(document, print_ast(document), self.limits)

    def _checked_variables(
        self,
        parsed: ParsedDocument,
        operation: OperationDefinitionNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """`variables` coerced for `operation`, its list fan-out checked against them (raises
        RequestError or LimitExceeded). Both depend only on the document, the operation and the
        variables, so a request seen before (a dashboard polling, a client retrying) reuses the
        result: they were a tenth of the router's CPU for such a request. Each request gets
        its own copy; refusals are not remembered (they are checked again, and cost the same)."""
        key = _variables_key(parsed.text, operation_name, variables)
        if key is not None:
            known = self._checked.get(key)
            if known is not None:
                self._checked.move_to_end(key)
                return dict(known)
        coerced = self._coerce(operation, dict(variables or {}))
        check_list_fan_out(
            self.supergraph.api_schema, parsed.document, operation, coerced, self.limits
        )
        if key is not None:
            self._checked[key] = coerced
            if len(self._checked) > self._document_cache_size:
                self._checked.popitem(last=False)
        return dict(coerced)

    def _coerce(
        self, operation: OperationDefinitionNode, variables: dict[str, Any]
    ) -> dict[str, Any]:
        result = get_variable_values(
            self.supergraph.api_schema, operation.variable_definitions or (), variables
        )
        if isinstance(result, list):
            failure = RequestError(result[0].message, "BAD_USER_INPUT")
            failure.response = {"errors": [_coded(e.formatted, "BAD_USER_INPUT") for e in result]}
            raise failure
        return dict(result.coerced)

    async def run(
        self,
        plan: QueryPlan,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any],
        *,
        errors: tuple[dict[str, Any], ...] = (),
    ) -> Response:
        """Run `plan`; `errors` (fields left out for the caller) lead the response's errors."""
        state = PlanRun(self.transport, variables)
        state.errors.extend(errors)
        if plan.node is not None and plan.operation_kind == "mutation":
            with fresh_reads():  # no cached entity after a write
                await state.run(plan.node)
        elif plan.node is not None:
            await state.run(plan.node)
        if plan.has_introspection:
            state.data.update(self._introspect(document, operation_name, variables))
        return await shaped_off_loop(
            plan.shape, state.data, state.errors, self.limits.max_response_bytes
        )

    def _introspect(
        self, document: DocumentNode, operation_name: str | None, variables: dict[str, Any]
    ) -> dict[str, Any]:
        operation = get_operation_ast(document, operation_name)
        assert operation is not None
        fields = tuple(
            s
            for s in operation.selection_set.selections
            if isinstance(s, FieldNode) and s.name.value in INTROSPECTION_FIELDS
        )
        selection_set = dataclasses.replace(operation.selection_set, selections=fields)
        only = dataclasses.replace(operation, selection_set=selection_set)
        definitions = tuple(only if d is operation else d for d in document.definitions)
        introspection = dataclasses.replace(document, definitions=definitions)
        # The incremental entry point: the API schema holds `@defer`, which plain `execute`
        # refuses. Introspection is answered whole: its `@defer`s are dropped.
        result = experimental_execute_incrementally(
            self.supergraph.api_schema,
            undeferred(introspection),
            variable_values=variables,
            operation_name=operation_name,
        )
        assert isinstance(result, ExecutionResult)
        return dict(result.data or {})

    async def ready(self) -> dict[str, bool]:
        return await self.transport.ready()

    async def close(self) -> None:
        if self.hub is not None:
            await self.hub.close()
        if self.demand is not None:
            await self.demand.budget.close()
        if self.usage is not None:
            await self.usage.close()
        await self.subscription_quota.close()
        await self.transport.close()


# Variables longer than this as JSON are coerced and checked each time, not remembered: the
# cache holds at most `plan_cache_size` keys of this size (4 MiB for the default 1,024).
VARIABLES_KEY_BYTES = 4096


def _variables_key(
    document: str, operation_name: str | None, variables: Mapping[str, Any] | None
) -> tuple[str, str | None, bytes] | None:
    """The `_checked_variables` cache key (the variables as JSON with sorted keys), or None
    for variables not worth remembering (long) or not plain JSON (an in-process caller's own
    objects, integers beyond 64 bits, nesting deeper than orjson encodes)."""
    try:
        text = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    if len(text) > VARIABLES_KEY_BYTES:
        return None
    return document, operation_name, text


def _check_inputs(variables: Mapping[str, Any] | None, operation_name: str | None) -> None:
    """Refuse control characters and lone surrogates in variables (BAD_USER_INPUT; nesting too
    deep is refused by the HTTP edge with 400 before it gets here)."""
    try:
        if operation_name is not None:
            check_text(operation_name, "The operation name")
        if variables:
            check_json(dict(variables), "The variables")
    except InputRefused as error:
        raise RequestError(error.message, "BAD_USER_INPUT") from error


def _locations(error: GraphQLError) -> list[Any] | None:
    if not error.locations:
        return None
    return [{"line": loc.line, "column": loc.column} for loc in error.locations]


def _coded(formatted: Mapping[str, Any], code: str) -> dict[str, Any]:
    error = dict(formatted)
    error["extensions"] = {**(error.get("extensions") or {}), "code": code}
    return error
