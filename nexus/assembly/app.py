"""The ASGI applications: all subgraphs in one process (`serve`) or one subgraph alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from graph.graphiql import ASSETS_DIR, ASSETS_PATH, graphiql_html
from graph.router import OFF_LOOP_DOCUMENT_CHARS
from nexus.assembly.demo import load_demo
from nexus.assembly.registry import SUBGRAPH_NAMES, load_subgraph, open_stores
from nexus.assembly.warmup import Warmup, enable_compilation_cache, warmup_mode
from nexus.auth.router_guard import GuardSettings, RouterGuard, scope_caller
from nexus.config import Settings
from nexus.metrics import exposition
from nexus.shutdown import finish_background_work
from nexus.stores import Stores
from nexus.subgraph import Subgraph
from nexus.subgraph_guard import (
    Refused,
    SubgraphLimits,
    check_subgraph_request,
    subgraphs_exposed,
)
from nexus.tracing import TraceContextMiddleware

if TYPE_CHECKING:
    from graph.edge.authn import Authenticator
    from nexus.assembly.replay import Replay

log = logging.getLogger("nexus.app")

REPLAYED = frozenset({"crypto", "micro"})  # the subgraphs whose data the replay feed streams


class SubgraphGraphQL(GraphQL[Any, None]):
    """Strawberry's ASGI GraphQL app with our per-request context (fresh DataLoaders), built
    with the caller the router signed (see `RouterGuard`), and the limits of a subgraph endpoint
    (nexus.subgraph_guard)."""

    def __init__(
        self, subgraph: Subgraph, stores: Stores, limits: SubgraphLimits | None = None
    ) -> None:
        super().__init__(
            subgraph.schema, graphql_ide="graphiql", max_subscriptions_per_connection=20
        )
        self.subgraph = subgraph
        self.stores = stores
        self.limits = limits or SubgraphLimits.from_env()

    async def get_context(self, request: Any, response: Any) -> Any:
        return self.subgraph.make_context(self.stores, scope_caller(request.scope))

    def decode_json(self, data: str | bytes) -> object:
        # Invalid UTF-8 and nesting deeper than the parser's stack are the client's errors.
        try:
            return super().decode_json(data)
        except (UnicodeDecodeError, RecursionError) as error:
            raise HTTPException(400, "The request body is not valid JSON (UTF-8).") from error

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        data = kwargs["request_data"]
        check = (data.query, data.variables, data.operation_name, self.limits)
        try:
            if isinstance(data.query, str) and len(data.query) > OFF_LOOP_DOCUMENT_CHARS:
                # Parsing tens of KB holds the loop for a quarter second: do it in a thread.
                await asyncio.to_thread(check_subgraph_request, *check)
            else:
                check_subgraph_request(*check)
        except Refused as refused:
            error = GraphQLError(refused.message, extensions={"code": refused.code})
            return ExecutionResult(data=None, errors=[error])
        return await super().execute_single(*args, **kwargs)

    async def render_graphql_ide(self, request: Any) -> Response:
        # Our vendored GraphiQL (served at ASSETS_PATH), not Strawberry's CDN page: it works
        # offline and is the same page the router serves.
        return HTMLResponse(graphiql_html(local_assets=True))


async def store_health(stores: Stores) -> dict[str, str]:
    """`ok` or `unavailable` for each store this process holds."""
    checks: dict[str, Any] = {}
    if stores.analytics is not None:
        checks["analytics"] = stores.analytics.query("SELECT 1 AS ok")
    if stores.platform is not None:
        checks["platform"] = stores.platform.ping()
    if stores.vectors is not None:
        checks["vectors"] = stores.vectors.ping()
    if stores.bus is not None:
        checks["bus"] = stores.bus.ping()
    health = {}
    for name, check in checks.items():
        try:
            await check
            health[name] = "ok"
        except Exception:  # a readiness probe reports, it never raises
            log.warning("store not ready", extra={"store": name})
            health[name] = "unavailable"
    return health


async def _start_replay(settings: Settings, names: Sequence[str], stores: Stores) -> Replay | None:
    """The replay feed, when configured (NEXUS_REPLAY) and this process serves market data."""
    if not settings.replay or not REPLAYED.intersection(names):
        return None
    from nexus.assembly.replay import ReplayError, ReplaySettings, start_replay

    try:
        return await start_replay(stores, ReplaySettings.from_settings(settings))
    except ReplayError as error:  # the API still serves; only the live demo stream is missing
        log.warning("replay feed not started: %s", error)
        return None


def _start_ingestion(settings: Settings, names: Sequence[str], stores: Stores) -> Any:
    """The ingestion schedule, when NEXUS_INGEST_SOURCES names sources of these subgraphs."""
    from nexus.assembly.ingest.schedule import served_schedule

    try:
        schedule = served_schedule(settings, stores, set(names))
    except (ValueError, OSError) as error:  # a bad schedule must not stop the API
        log.error("ingestion schedule not started: %s", error)
        return None
    if schedule is not None:
        schedule.start()
    return schedule


def _start_catalogue_listener(names: Sequence[str], stores: Stores) -> asyncio.Task[None] | None:
    """The platform learns the instruments the market domains announce on the bus."""
    if "platform" not in names or stores.bus is None:
        return None
    from subgraphs.platform.catalogue import learn_from_bus

    return asyncio.create_task(learn_from_bus(stores.require_platform(), stores.bus))


def create_app(
    settings: Settings,
    names: Sequence[str],
    *,
    single: bool = False,
    load_demo_on_start: bool = True,
    stores: Stores | None = None,
    authenticator: Authenticator | None = None,
    expose_subgraphs: bool | None = None,
) -> Starlette:
    """Serve the subgraphs `names`: one at `/graphql` when `single`; else the composed
    supergraph at `/graphql` (in-process router), and each subgraph at `/subgraphs/NAME/graphql`
    only when `expose_subgraphs` (default: NEXUS_EXPOSE_SUBGRAPHS=on): they are internal."""
    if expose_subgraphs is None:
        expose_subgraphs = subgraphs_exposed()
    stores = stores if stores is not None else open_stores(settings, names)
    subgraphs = [load_subgraph(name) for name in names]
    guard = GuardSettings.from_env(settings.data_dir)
    warmup = Warmup(warmup_mode(), names)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warmup.mode != "off":  # the disk cache serves every engine (the encoder too)
            enable_compilation_cache(settings.data_dir)
        warmup.start()  # compiles in its own thread while the demo loads and requests run
        if load_demo_on_start:
            await load_demo(stores, names, only_missing=True)
        replay = await _start_replay(settings, names, stores)
        ingestion = _start_ingestion(settings, names, stores)
        listener = _start_catalogue_listener(names, stores)
        log.info("serving", extra={"subgraphs": list(names)})
        yield
        # Simulation jobs finish within the deadline or are saved as interrupted, before
        # the stores they write to close.
        await finish_background_work(settings.shutdown_seconds)
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        if replay is not None:
            await replay.stop()  # before the stores it publishes to close
        if ingestion is not None:
            await ingestion.stop()
        await stores.close()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    async def readyz(request: Request) -> JSONResponse:
        health = await store_health(stores)
        ready = all(state == "ok" for state in health.values()) and warmup.ready
        body = {"ready": ready, "stores": health, "warmup": warmup.state}
        return JSONResponse(body, status_code=200 if ready else 503)

    routes: list[BaseRoute] = [Route("/healthz", healthz), Route("/readyz", readyz)]
    if "platform" in names:
        from subgraphs.platform.http import identity_routes

        routes.extend(identity_routes(stores))  # /.well-known/jwks.json, /oauth/token
    for subgraph in subgraphs if single or expose_subgraphs else ():
        path = "/graphql" if single else f"/subgraphs/{subgraph.name}/graphql"
        # Subgraph endpoints serve the router only: it signs each call's caller.
        endpoint = RouterGuard(SubgraphGraphQL(subgraph, stores), guard)
        routes.append(Route(path, endpoint, methods=["GET", "POST"]))
        routes.append(WebSocketRoute(path, endpoint))  # subscriptions, for a router elsewhere
    if single:
        routes.append(Route("/metrics", metrics))
        routes.append(Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="graphiql"))
    else:
        # The supergraph at /graphql: our router, calling the subgraphs in-process.
        from graph.edge.apq import PersistedQueries, open_documents
        from graph.edge.settings import EdgeSettings
        from graph.gateway import create_app as create_gateway
        from graph.in_process import router_for_subgraphs

        edge = EdgeSettings.from_env()
        usage = None
        trusted = None
        if "platform" in names:
            from graph.edge.authn import TokenCache
            from graph.edge.trusted import TrustedDocumentGate
            from graph.edge.usage import UsageMeter
            from subgraphs.platform.billing import PlatformUsageSink
            from subgraphs.platform.services import authenticator_for
            from subgraphs.platform.trusted_documents import TrustedDocuments

            authenticator = authenticator or TokenCache(
                authenticator_for(stores, serves_platform=True)
            )
            usage = UsageMeter(PlatformUsageSink(stores.require_platform()))
            trusted = TrustedDocumentGate(
                TrustedDocuments(stores.require_platform()), bus=stores.bus
            )
        demand = edge.demand(settings.redis_url)
        router = router_for_subgraphs(
            subgraphs,
            stores,
            demand=demand,
            usage=usage,
            complete=set(SUBGRAPH_NAMES) <= set(names),
        )
        from graph.cache import with_entity_cache

        router.transport = with_entity_cache(
            router.transport, router.supergraph, redis_url=settings.redis_url, bus=stores.bus
        )
        router.subscription_quota = edge.subscription_quota(settings.redis_url)
        gateway = create_gateway(
            router,
            authenticator=authenticator,
            cors_origins=edge.cors_origins,
            persisted_queries=PersistedQueries(open_documents(settings.redis_url)),
            trusted_documents=trusted,
        )
        routes.append(Mount("/", app=gateway))
    # A server span per request, continuing a remote router's trace (W3C traceparent).
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(TraceContextMiddleware)]
    )
    app.state.stores = stores
    app.state.warmup = warmup
    return app
