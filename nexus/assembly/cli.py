"""The `nexus` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nexus.assembly.registry import SUBGRAPH_NAMES, open_stores
from nexus.config import ConfigError, Settings
from nexus.logs import configure_logging

DEFAULT_HOST = "127.0.0.1"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nexus",
        description="Nexus-Alpha: financial-intelligence GraphQL API. Configuration comes from "
        "environment variables (DATABASE_URL, ANALYTICS_URL, VECTOR_URL, REDIS_URL, "
        "NEXUS_DATA_DIR, NEXUS_LOG_LEVEL, NEXUS_REPLAY...); see the README.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve every subgraph in one process")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to bind (default %(default)s)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    serve.add_argument(
        "--no-demo", action="store_true", help="do not load the demo data on first start"
    )

    one = commands.add_parser("subgraph", help="serve one subgraph as its own ASGI app at /graphql")
    one.add_argument("name", choices=SUBGRAPH_NAMES, help="which subgraph")
    one.add_argument("--host", default=DEFAULT_HOST, help="interface to bind (default %(default)s)")
    one.add_argument("--port", type=int, required=True, help="port to listen on")
    one.add_argument(
        "--no-demo", action="store_true", help="do not load the demo data on first start"
    )

    router = commands.add_parser(
        "router", help="serve a standard supergraph SDL against subgraphs over HTTP at /graphql"
    )
    router.add_argument("--supergraph", type=Path, required=True, help="supergraph SDL file")
    router.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to bind (default %(default)s)"
    )
    router.add_argument("--port", type=int, required=True, help="port to listen on")
    router.add_argument(
        "--access-log", action="store_true", help="log every request (off by default: it costs CPU)"
    )
    router.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the port, one per core to use (default %(default)s)",
    )
    router.add_argument(
        "--subgraph-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="reach subgraph NAME at URL instead of the supergraph's URL (repeatable)",
    )

    compose = commands.add_parser(
        "compose", help="write supergraph.graphql (join__ directives) and schema.graphql"
    )
    compose.add_argument("--output-dir", type=Path, default=Path("."), help="where to write them")

    migrate = commands.add_parser("migrate", help="apply the platform store's Alembic migrations")
    migrate.add_argument("--revision", default="head", help="target revision (default %(default)s)")
    migrate.add_argument("--downgrade", action="store_true", help="downgrade to --revision instead")

    demo = commands.add_parser("load-demo", help="load the shipped demo dataset (idempotent)")
    demo.add_argument(
        "--only",
        nargs="+",
        choices=SUBGRAPH_NAMES,
        default=list(SUBGRAPH_NAMES),
        help="domains to load",
    )

    commands.add_parser(
        "replay", help="publish the replay feed (ticks, posts, mention spikes) to REDIS_URL"
    )

    commands.add_parser(
        "rotate-jwt-key",
        help="retire the development JWT signing key and make a new one (restart to use it)",
    )

    # Parsed by nexus.assembly.ingest.cli (its own subcommands and options): listed here for --help.
    commands.add_parser(
        "ingest",
        add_help=False,
        help="fetch sources into the stores (backfill, --schedule, dead-letters, fake-servers); "
        "`nexus ingest --help`",
    )

    billing = commands.add_parser("billing", help="invoice organisations for their usage")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True)
    close = billing_commands.add_parser(
        "close-month",
        help="invoice every organisation for a month that has ended (idempotent, all or nothing)",
    )
    close.add_argument("month", help="the month, as YYYY-MM")

    export = commands.add_parser(
        "export-schema", help="write the composed client schema (schema.graphql)"
    )
    export.add_argument("--output", type=Path, default=Path("schema.graphql"), help="file to write")
    export.add_argument(
        "--check", action="store_true", help="fail if the file differs instead of writing it"
    )
    openapi = commands.add_parser(
        "export-openapi",
        help="write the REST API's OpenAPI 3.1 document (the v1 snapshot the tests compare)",
    )
    openapi.add_argument(
        "--output", type=Path, default=Path("tests/rest/openapi_v1.json"), help="file to write"
    )
    openapi.add_argument(
        "--check", action="store_true", help="fail if the file differs instead of writing it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ingest"]:  # its own parser: `nexus ingest SOURCE` and its subcommands
        return _ingest(argv[1:])
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"nexus: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command in ("serve", "subgraph", "router", "replay"):
        from nexus.tracing import configure_tracing

        service = f"nexus-subgraph-{args.name}" if args.command == "subgraph" else args.command
        configure_tracing(service if service.startswith("nexus") else f"nexus-{service}")
    match args.command:
        case "serve":
            return _serve(
                settings,
                list(SUBGRAPH_NAMES),
                args.host,
                args.port,
                single=False,
                demo=not args.no_demo,
            )
        case "subgraph":
            return _serve(
                settings, [args.name], args.host, args.port, single=True, demo=not args.no_demo
            )
        case "router":
            try:
                urls = _subgraph_urls(args.subgraph_url)
            except ValueError as error:
                print(f"nexus router: {error}", file=sys.stderr)
                return 2
            if args.workers < 1:
                print("nexus: --workers must be at least 1", file=sys.stderr)
                return 2
            return _router(
                settings,
                args.supergraph,
                args.host,
                args.port,
                args.access_log,
                urls,
                workers=args.workers,
            )
        case "compose":
            return _compose(args.output_dir)
        case "migrate":
            return asyncio.run(_migrate(settings, args.revision, downgrade=args.downgrade))
        case "load-demo":
            return asyncio.run(_load_demo(settings, args.only))
        case "export-schema":
            return _export_schema(args.output, check=args.check)
        case "export-openapi":
            return _export_openapi(args.output, check=args.check)
        case "billing":
            return asyncio.run(_close_month(settings, args.month))
        case "rotate-jwt-key":
            return _rotate_jwt_key(settings)
        case "replay":
            from nexus.assembly.replay.command import run_replay

            return run_replay(settings)
    return 2


def _ingest(argv: list[str]) -> int:
    from nexus.assembly.ingest.cli import main as ingest_main

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"nexus: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    return ingest_main(argv, settings)


def _rotate_jwt_key(settings: Settings) -> int:
    from nexus.auth.config import AuthSettings
    from nexus.auth.keys import rotate_development_key

    try:
        old, new = rotate_development_key(AuthSettings.from_env(settings.data_dir))
    except (ConfigError, ValueError) as error:
        print(f"nexus: {error}", file=sys.stderr)
        return 2
    print(f"retired key {old}; signing with {new} once the server restarts")
    return 0


def _serve(
    settings: Settings, names: list[str], host: str, port: int, *, single: bool, demo: bool
) -> int:
    from nexus.assembly.app import create_app
    from nexus.shutdown import run_server

    if single:
        settings = settings.for_subgraph(names[0])
    if "platform" in names:
        asyncio.run(_migrate(settings, "head", downgrade=False))
    app = create_app(settings, names, single=single, load_demo_on_start=demo)
    # No permessage-deflate: compressing small subscription messages cost a fifth of the CPU
    # per delivered event (profiled with 1,000 clients) and memory per connection.
    run_server(
        _guarded(app),
        host=host,
        port=port,
        shutdown_seconds=settings.shutdown_seconds,
        log_config=None,
        ws_per_message_deflate=False,
        **_http_options(),
    )
    return 0


def _guarded(app: Any) -> Any:
    from graph.limits import checks_enabled
    from nexus.http_guard import BodyLimit

    return BodyLimit(app) if checks_enabled() else app


def _http_options() -> dict[str, Any]:
    """Connection limits (nexus.http_guard): keep-alive idle timeout, a cap on concurrent
    connections, header size and read time, WebSocket message size."""
    from graph.limits import checks_enabled
    from nexus.http_guard import HttpLimits, header_timeout_protocol

    limits = HttpLimits.from_env()
    options: dict[str, Any] = {**limits.uvicorn_options(), "ws_max_size": 1024 * 1024}
    if checks_enabled():
        options["http"] = header_timeout_protocol(limits.header_timeout_seconds)
    return options


def _subgraph_urls(pairs: list[str]) -> dict[str, str]:
    urls = {}
    for pair in pairs:
        name, _, url = pair.partition("=")
        if not name or not url.startswith(("http://", "https://")):
            raise ValueError(f"--subgraph-url takes NAME=http(s)://..., not {pair!r}")
        urls[name] = url
    return urls


def _router(
    settings: Settings,
    supergraph: Path,
    host: str,
    port: int,
    access_log: bool,
    urls: dict[str, str],
    *,
    workers: int = 1,
) -> int:
    from graph.cache import with_entity_cache
    from graph.edge.apq import PersistedQueries, open_documents
    from graph.edge.authn import TokenCache
    from graph.edge.identity import CallerSigner
    from graph.edge.settings import EdgeSettings
    from graph.edge.trusted import TrustedDocumentGate
    from graph.edge.usage import UsageMeter
    from graph.executor.calls import SubgraphCalls
    from graph.gateway import create_app
    from graph.http_router import http_router_from_file
    from graph.reload import DEFAULT_POLL_SECONDS, SupergraphReloader
    from nexus.auth.router_identity import router_secret
    from nexus.shutdown import run_server
    from nexus.stores.platform import async_url
    from nexus.tracing import TraceContextMiddleware
    from subgraphs.platform.billing import PlatformUsageSink
    from subgraphs.platform.services import authenticator_for
    from subgraphs.platform.trusted_documents import TrustedDocuments

    # The embedded platform store (SQLite, the default) is migrated at start, as `nexus serve`
    # does; unmigrated, every key lookup and usage write failed. A server store (PostgreSQL) is
    # migrated by `nexus migrate`, the deployment's job, which replicas starting together must
    # not race.
    if async_url(settings.database_url).get_backend_name() == "sqlite":
        asyncio.run(_migrate(settings, "head", downgrade=False))
    edge = EdgeSettings.from_env()
    signer = CallerSigner(router_secret(os.environ.get("NEXUS_ROUTER_SECRET"), settings.data_dir))
    # Callers are authenticated against the platform store (DATABASE_URL): its keys and plans;
    # their usage is metered into it.
    stores = open_stores(settings, ["platform"])
    router = http_router_from_file(
        supergraph,
        url_overrides=urls,
        identity=signer,
        demand=edge.demand(settings.redis_url),
        usage=UsageMeter(PlatformUsageSink(stores.require_platform())),
        calls=SubgraphCalls.from_env(),
    )
    router.transport = with_entity_cache(
        router.transport, router.supergraph, redis_url=settings.redis_url, bus=stores.bus
    )
    router.subscription_quota = edge.subscription_quota(settings.redis_url)
    # A changed supergraph file (or SIGHUP) is served without a restart.
    poll = float(os.environ.get("NEXUS_SUPERGRAPH_POLL_SECONDS", DEFAULT_POLL_SECONDS))
    reloader = SupergraphReloader(router, supergraph, url_overrides=urls, poll_seconds=poll)
    gateway = create_app(
        router,
        authenticator=TokenCache(authenticator_for(stores)),
        cors_origins=edge.cors_origins,
        persisted_queries=PersistedQueries(open_documents(settings.redis_url)),
        reloader=reloader,
        trusted_documents=TrustedDocumentGate(
            TrustedDocuments(stores.require_platform()), bus=stores.bus
        ),
    )
    # A server span per request, continuing the caller's trace (W3C traceparent).
    app = TraceContextMiddleware(gateway)
    # uvloop and httptools (uvicorn[standard]) named, so a missing one fails loudly instead of
    # silently serving on the slower pure-Python loop and parser (the header-timeout protocol
    # in _http_options is httptools').
    run_server(
        _guarded(app),
        host=host,
        port=port,
        shutdown_seconds=settings.shutdown_seconds,
        loop="uvloop",
        **_http_options(),
        access_log=access_log,
        log_config=None,
        ws_per_message_deflate=False,  # see _serve
        workers=workers,
    )
    return 0


def _compose(output_dir: Path) -> int:
    from graph.compose import client_schema_sdl
    from nexus.assembly.schema_export import supergraph

    sdl = supergraph()
    (output_dir / "supergraph.graphql").write_text(sdl)
    (output_dir / "schema.graphql").write_text(client_schema_sdl(sdl))
    print(
        f"wrote {output_dir / 'supergraph.graphql'} and {output_dir / 'schema.graphql'}",
        file=sys.stderr,
    )
    return 0


async def _migrate(settings: Settings, revision: str, *, downgrade: bool) -> int:
    from nexus.stores.platform import downgrade as run_downgrade
    from nexus.stores.platform import upgrade as run_upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if downgrade:
        await run_downgrade(settings.database_url, revision)
    else:
        await run_upgrade(settings.database_url, revision)
    return 0


async def _close_month(settings: Settings, month: str) -> int:
    from nexus.errors import BadUserInput, Conflict
    from nexus.stores.platform import PlatformStore
    from subgraphs.platform.billing import close_month

    await _migrate(settings, "head", downgrade=False)
    store = PlatformStore.from_url(settings.database_url)
    try:
        closed = await close_month(store, month)
    except (BadUserInput, Conflict) as error:
        print(f"nexus billing: {error}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    print(
        f"{closed.month}: {closed.invoiced} invoices written (USD {closed.total_cents / 100:,.2f}),"
        f" {closed.already} already closed"
    )
    return 0


async def _load_demo(settings: Settings, domains: list[str]) -> int:
    from nexus.assembly.demo import load_demo

    if "platform" in domains:
        await _migrate(settings, "head", downgrade=False)
    stores = open_stores(settings, domains)
    try:
        await load_demo(stores, domains)
    finally:
        await stores.close()
    return 0


def _export_schema(output: Path, *, check: bool) -> int:
    from nexus.assembly.schema_export import client_schema

    sdl = client_schema()
    if check:
        current = output.read_text() if output.exists() else ""
        if current != sdl:
            print(
                f"{output} is out of date: run `nexus export-schema` and commit it", file=sys.stderr
            )
            return 1
        return 0
    output.write_text(sdl)
    print(f"wrote {output}", file=sys.stderr)
    return 0


def _export_openapi(output: Path, *, check: bool) -> int:
    import json

    from nexus.assembly.schema_export import openapi_v1

    text = json.dumps(openapi_v1(), indent=2, sort_keys=True) + "\n"
    if check:
        if (output.read_text() if output.exists() else "") != text:
            print(f"{output} is out of date: run `nexus export-openapi`", file=sys.stderr)
            return 1
        return 0
    output.write_text(text)
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
