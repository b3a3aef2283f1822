"""Build a router over Strawberry federation schemas living in this process (the default)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graph.compose import SubgraphSDL, compose_supergraph
from graph.edge.context import current_caller
from graph.edge.demand import DemandControl
from graph.edge.usage import UsageMeter
from graph.executor import InProcessTransport
from graph.executor.in_process import SubgraphCall
from graph.limits import RequestLimits
from graph.router import Router
from graph.subscriptions.streams import InProcessStreams

if TYPE_CHECKING:
    import strawberry

    from nexus.stores import Stores
    from nexus.subgraph import Subgraph


def subgraph_sdl(schema: strawberry.federation.Schema) -> str:
    """The SDL a subgraph serves at `_service { sdl }`."""
    result = schema.execute_sync("{ _service { sdl } }")
    if result.errors or not result.data:
        raise RuntimeError(f"The schema did not answer _service {{ sdl }}: {result.errors}")
    return str(result.data["_service"]["sdl"])


def compose_schemas(
    schemas: Mapping[str, strawberry.federation.Schema],
    urls: Mapping[str, str] | None = None,
    *,
    check_satisfiability: bool = True,
) -> str:
    """The supergraph SDL of in-process schemas; `urls` default to `http://localhost/<name>`."""
    urls = urls or {}
    return compose_supergraph(
        [
            SubgraphSDL(name, urls.get(name, f"http://localhost/{name}"), subgraph_sdl(schema))
            for name, schema in schemas.items()
        ],
        check_satisfiability=check_satisfiability,
    )


def schema_call(
    schema: strawberry.federation.Schema, make_context: Callable[[], Any] | None = None
) -> SubgraphCall:
    async def call(query: str, variables: dict[str, Any] | None) -> Any:
        context = make_context() if make_context is not None else None
        return await schema.execute(query, variable_values=variables, context_value=context)

    return call


def in_process_router(
    schemas: Mapping[str, strawberry.federation.Schema],
    *,
    contexts: Mapping[str, Callable[[], Any]] | None = None,
    limits: RequestLimits | None = None,
    urls: Mapping[str, str] | None = None,
    demand: DemandControl | None = None,
    usage: UsageMeter | None = None,
    check_satisfiability: bool = True,
) -> Router:
    """A router serving `schemas` in-process; `contexts[name]()` builds one request's context
    (`graph.edge.context.current_caller()` is the caller of the operation it serves).
    `check_satisfiability` off: a field no subgraph of the set can reach is refused when an
    operation asks for it (QUERY_PLANNING_FAILED), not when the router is built."""
    contexts = contexts or {}
    transport = InProcessTransport(
        {name: schema_call(schema, contexts.get(name)) for name, schema in schemas.items()}
    )
    streams = InProcessStreams(
        schemas, {name: _ignoring_params(make) for name, make in contexts.items()}
    )
    return Router.from_supergraph_sdl(
        compose_schemas(schemas, urls, check_satisfiability=check_satisfiability),
        transport,
        limits=limits,
        streams=streams,
        demand=demand,
        usage=usage,
    )


def _ignoring_params(make_context: Callable[[], Any]) -> Callable[[Mapping[str, Any]], Any]:
    # The caller comes authenticated by the edge (the context variable), not from the
    # connection parameters, which may hold raw credentials.
    return lambda params: make_context()


def router_for_subgraphs(
    subgraphs: Sequence[Subgraph],
    stores: Stores,
    *,
    limits: RequestLimits | None = None,
    demand: DemandControl | None = None,
    usage: UsageMeter | None = None,
    complete: bool = False,
) -> Router:
    """The `nexus serve` router: our subgraph records, in-process, one context per fetch,
    each built with the operation's caller. Our subgraphs refer to each other (crypto's option
    chain @requires macro's yield curve): a subset of them (`complete` false: a partial
    deployment, a test) leaves such fields to be refused when asked for; the complete set is
    checked for satisfiability when the router is built."""
    return in_process_router(
        {s.name: s.schema for s in subgraphs},
        contexts={s.name: _bind(s, stores) for s in subgraphs},
        limits=limits,
        demand=demand,
        usage=usage,
        check_satisfiability=complete,
    )


def _bind(subgraph: Subgraph, stores: Stores) -> Callable[[], Any]:
    return lambda: subgraph.make_context(stores, current_caller())
