"""The edge's price: the same query with no edge at all, then anonymous, with an API key and with
a JWT, each with cost analysis, the Redis budget debit and usage metering on.

    .venv/bin/python -m benchmarks.edge [--seconds 10] [--concurrency 16] [--rounds 3]
        [--plain-subgraphs] [--postgres postgresql://postgres@127.0.0.1:5432/test]
    .venv/bin/python -m benchmarks.edge --in-process [--iterations 1000] [--plain-subgraphs]
    .venv/bin/python -m benchmarks.edge --pieces [--iterations 1000]
    .venv/bin/python -m benchmarks.edge --one-process [--seconds 2] [--rounds 15] [--postgres URL]

The router (one uvicorn process, the four test_entities subgraphs in-process with the document
caches our subgraphs keep, `--plain-subgraphs` without them as before; SHOP_QUERY) runs once
per configuration and round, a fresh process each time:
- `no edge`: no authenticator, no demand control, no usage metering (the router before issue 12);
- `anonymous`: no credentials, demand control enforcing (estimate, Redis debit, RateLimit
  headers) on the store's `anonymous` plan, which this run's store gives the `bench` plan's
  budget: every wrk connection shares one address, so one anonymous budget, which the real
  anonymous plan's 1,000 units a minute would leave empty within a second (the rest refused
  with 429, in this process, without a Redis round trip: tests/graph/test_edge_budget_slices.py);
- `api key`: 1,000 distinct `nxa_` keys in rotation, looked up in the platform store (SQLite in
  the run's directory) by the real Authenticator, demand control enforcing on the `bench` plan
  (the enterprise plan's limits with a budget the run cannot spend);
- `jwt`: 1,000 distinct RS256 access tokens in rotation, verified by the real Authenticator.
Every configuration but `no edge` meters each operation into the platform store (usage rows, and
each API key's last use), as `nexus serve` does. The platform store is SQLite in the run's
directory (the embedded default), or with `--postgres` a database created on that PostgreSQL
server for the run (as deployed beside Redis): SQLite's batched writes run in a thread that
contends with the busy event loop, which costs the router far more CPU than asyncpg's.

Each run starts with a short warm-up (router caches, query plan). For `api key` and `jwt` there
are then two measured runs of `--seconds`: `cold`, straight after, where each request in the
rotation is a credential's first use in this process (a store lookup or an RSA verification)
as long as the run sends fewer requests than there are credentials (the output says when it
did not); then, after a pass that uses every credential once, `steady`: the 1,000 credentials
in rotation all known to the process, as on a router that has been up a while (keys stay
cached for minutes while revocations arrive over Redis, tokens for a minute). `no edge` and
`anonymous` do the same work unmeasured before their one run (a run of `--seconds`, then as many
requests as there are credentials), so every compared run follows the same warm-up. The
configurations run in turn in every round, so load on a shared machine falls on all of them,
each round in a rotated order (a router measured later in a round ran slower: give `--rounds`
a multiple of 4 so each configuration takes each place equally often); the medians of the
steady runs are compared with `no edge`, and the cold runs are reported beside them. Each
measured run also gives the router process's CPU time per request (user + system, from /proc,
so Linux only): the server is one process, so its throughput is about the inverse of that
while it has a core to itself, and CPU time is far less disturbed than throughput when other
work shares the machine.
Load from wrk (`apt-get install wrk`), with a Lua script rotating the credentials.

`--in-process` measures the same four configurations without HTTP: CPU time (process time) per
request of authenticating the request's credentials and running it through the router, which a
busy shared machine disturbs far less than throughput (every credential used once first), each
run's usage rows written within it; and `jwt, usage not written`, the JWT row with the usage
events queued and batched but dropped instead of written, which shows the platform store's share.

`--one-process` serves `no edge` and the edge (anonymous, API key and JWT callers) from one
router process, on two paths, and alternates short wrk runs between the four configurations,
round after round (each round in a rotated order; before each run, every credential of its
configuration used once, unmeasured, as in the steady rows above, then 1 s for the usage rows
to be written). On a shared machine whose speed drifts by tens of percent within
minutes, and differs between processes started minutes apart, this compares the four under the
same conditions: each configuration's requests per second against `no edge`'s in the same
round, the median of those ratios over the rounds (and the medians of rates and CPU time per
request). Steady rotation only (every credential used once before each run).

`--pieces` times each piece of the edge alone, in-process, CPU microseconds per call (median
of 5 rounds of `--iterations` calls, the pieces interleaved): authentication of each kind of
caller once known (anonymous, a cached API key, a cached JWT), the cost estimate (cached per
document and variables) and the actual cost of SHOP_QUERY's response, the RateLimit headers,
a budget debit in this process, in Redis (one EVALSHA; with `wall`, the event loop's share of
the round trip as well) and from a leased slice, and usage metering (queueing an event, and
the platform store's batched write per event).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import httpx

from benchmarks.procstat import cpu_seconds, stat
from tests.graph.test_entities import SHOP_QUERY

if TYPE_CHECKING:
    from graph.edge.authn import Authenticator
    from graph.edge.usage import UsageMeter
    from graph.router import Router
    from nexus.config import Settings
    from nexus.stores import Stores

KEYS = 1_000
BENCH_PLAN = "bench"
# Cost units a minute: more than any run spends (the plans table holds 32-bit integers).
BENCH_BUDGET = 2_000_000_000
BODY = {"query": SHOP_QUERY, "variables": {"first": 3}}

WRK_SCRIPT = """
local credentials = CREDENTIALS
local header = HEADER
local body = BODY
local n = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function request()
  n = n + 1
  local headers = {["Content-Type"] = "application/json"}
  if #credentials > 0 then headers[header] = credentials[(n % #credentials) + 1] end
  return wrk.format("POST", nil, headers, body)
end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("bad") end
  io.write(string.format("RESULT %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, failed))
end
"""


def _app(config: str, data_dir: str, redis_url: str, plain: bool) -> Any:
    """The router app of one configuration: `no edge`, or the edge (any other name)."""
    from benchmarks.subgraph_documents import shop_schemas
    from graph.edge.budget import open_budget
    from graph.edge.demand import DemandControl
    from graph.edge.usage import UsageMeter
    from graph.gateway import create_app
    from graph.in_process import in_process_router
    from subgraphs.platform.billing import PlatformUsageSink

    demand = None
    authenticator = None
    usage = None
    if config != "no edge":
        stores, authenticator = _platform(data_dir, redis_url)
        budget = open_budget(redis_url, prefix=f"bench:{time.time_ns()}:")
        demand = DemandControl(budget)
        usage = UsageMeter(PlatformUsageSink(stores.require_platform()))
    router = in_process_router(shop_schemas(not plain), demand=demand, usage=usage)
    return create_app(router, authenticator=authenticator, graphiql=False)


def _run_router(app: Any, port: int) -> None:
    """As `nexus serve` and `nexus router` run it (the startup heap frozen, the heap keeper
    on)."""
    from nexus.shutdown import run_server

    run_server(
        app,
        host="127.0.0.1",
        port=port,
        shutdown_seconds=1.0,
        log_level="error",
        access_log=False,
        loop="uvloop",
    )


def _serve(config: str, data_dir: str, redis_url: str, port: int, plain: bool) -> None:
    _run_router(_app(config, data_dir, redis_url, plain), port)


def _serve_both(data_dir: str, redis_url: str, port: int, plain: bool) -> None:
    """`no edge` at /bare/graphql and the edge at /edge/graphql, in one router process (both
    paths rewritten to /graphql the same way)."""
    apps = {
        "/bare": _app("no edge", data_dir, redis_url, plain),
        "/edge": _app("edge", data_dir, redis_url, plain),
    }

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await apps["/edge"](scope, receive, send)
            return
        path: str = scope["path"]
        inner = apps[path[:5]]
        scope = dict(scope, path=path[5:], raw_path=path[5:].encode())
        await inner(scope, receive, send)

    _run_router(app, port)


def _one_process(data_dir: Path, redis_url: str, args: argparse.Namespace) -> None:
    from tests.support.processes import free_port

    keys, tokens = asyncio.run(_credentials(data_dir))
    loads: dict[str, tuple[str, str, list[str]]] = {
        "no edge": ("/bare/graphql", "authorization", []),
        "anonymous": ("/edge/graphql", "authorization", []),
        "api key": ("/edge/graphql", "x-api-key", keys),
        "jwt": ("/edge/graphql", "authorization", [f"Bearer {t}" for t in tokens]),
    }
    port = free_port()
    context = multiprocessing.get_context("spawn")
    server = context.Process(
        target=_serve_both, args=(str(data_dir), redis_url, port, args.plain_subgraphs)
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    runs: dict[str, list[Run]] = {name: [] for name in loads}
    try:
        _wait(base + "/bare/graphql", "authorization", [])
        for path, header, credentials in loads.values():  # warm-up: plans, connections
            _wait(base + path, header, credentials[:1])
            _wrk(base + path, header, credentials[:1], 1.0, args.concurrency)
        print(
            f"SHOP_QUERY, one router process serving `no edge` and the edge, "
            f"{args.concurrency} connections, {args.seconds:g}s per run, {args.rounds} rounds "
            f"(configurations alternated, order rotated each round), {KEYS} distinct keys/tokens "
            f"in rotation (steady), platform store {_store_name()}; load average {_load()}"
        )
        names = list(loads)
        for round_ in range(args.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            line = []
            for name in order:
                path, header, credentials = loads[name]
                # Keys and tokens in rotation, as on a router in steady use: each used once
                # just before (their slices would have expired since the last round), then
                # the usage meter's rows of that pass written (it writes every 1 s).
                _use_each_once(base + path, header, credentials or [None] * KEYS, args.concurrency)
                time.sleep(1.1)
                run = _wrk(
                    base + path, header, credentials, args.seconds, args.concurrency, server.pid
                )
                runs[name].append(run)
                line.append(f"{name} {run.rate:.0f} req/s {run.cpu_ms or 0:.2f} ms")
            print(f"  round {round_ + 1:>2}: " + " | ".join(line), flush=True)
    finally:
        server.terminate()
        server.join(10)
    base_runs = runs["no edge"]
    print(f"medians over {args.rounds} rounds (load average {_load()} at the end):")
    for name, named_runs in runs.items():
        ratios = [r.rate / b.rate for r, b in zip(named_runs, base_runs, strict=True)]
        cpu = [
            r.cpu_ms / b.cpu_ms
            for r, b in zip(named_runs, base_runs, strict=True)
            if r.cpu_ms and b.cpu_ms
        ]
        rate = statistics.median(r.rate for r in named_runs)
        within = sum(ratio >= 0.9 for ratio in ratios)
        print(
            f"  {name:<10} {rate:8.1f} req/s   vs no edge in the same round: median "
            f"{100 * (statistics.median(ratios) - 1):+6.1f}% (rounds {100 * (min(ratios) - 1):+.1f}"
            f"..{100 * (max(ratios) - 1):+.1f}%, within 10% in {within} of {len(ratios)})"
            + (f"   router CPU/request {100 * (statistics.median(cpu) - 1):+6.1f}%" if cpu else "")
        )


async def _credentials(data_dir: Path) -> tuple[list[str], list[str]]:
    """1,000 API keys of one organisation, and 1,000 access tokens of its owner, on the `bench`
    plan: the enterprise plan's limits but a budget no run spends (the enterprise plan's
    1,000,000 cost units a minute are spent in under a minute by one caller's tokens at a few
    hundred requests a second: the rest would be 429s). The store's `anonymous` plan gets the
    same budget and per-operation maximum (its scopes stay market data only)."""
    from sqlalchemy import insert, update

    from nexus.auth.secrets import new_api_key
    from nexus.stores.platform import PlatformStore, upgrade
    from subgraphs.platform.models import ApiKey, Organization, Plan, User, new_id
    from subgraphs.platform.services import services_for

    settings = _settings(data_dir)
    await upgrade(settings.database_url)
    store = PlatformStore.from_url(settings.database_url)
    organization, user = new_id(), new_id()
    secrets = [new_api_key() for _ in range(KEYS)]
    scopes = "market:read platform:read"
    async with store.sessions.begin() as session:
        enterprise = await session.get(Plan, "enterprise")
        assert enterprise is not None
        await session.execute(
            insert(Plan).values(
                name=BENCH_PLAN,
                cost_per_minute=BENCH_BUDGET,
                max_operation_cost=enterprise.max_operation_cost,
                max_subscriptions=enterprise.max_subscriptions,
                scopes=enterprise.scopes,
                monthly_price_cents=0,
                overage_cents_per_1000=0,
            )
        )
        await session.execute(
            update(Plan)
            .where(Plan.name == "anonymous")
            .values(cost_per_minute=BENCH_BUDGET, max_operation_cost=enterprise.max_operation_cost)
        )
        await session.execute(
            insert(Organization).values(
                id=organization, name="Bench", slug="bench", plan=BENCH_PLAN
            )
        )
        await session.execute(
            insert(User).values(
                id=user, email="bench@example.com", display_name="Bench", password_hash="x"
            )
        )
        await session.execute(
            insert(ApiKey),
            [
                {
                    "id": new_id(),
                    "organization_id": organization,
                    "name": f"key {n}",
                    "prefix": secret.visible_prefix,
                    "key_digest": secret.digest,
                    "scopes": scopes,
                }
                for n, secret in enumerate(secrets)
            ],
        )
    await store.close()
    issuer = services_for(settings).issuer
    tokens = [
        issuer.issue(
            subject=user,
            organization_id=organization,
            scopes=scopes.split(),
            extra={"plan": BENCH_PLAN},
        )[0]
        for _ in range(KEYS)
    ]
    return [s.secret for s in secrets], tokens


# The platform store's URL for this run (set by `main`; spawned routers inherit it): a
# database `--postgres` created, else SQLite in the run's directory.
DATABASE_ENV = "NEXUS_BENCH_DATABASE_URL"


def _platform(data_dir: str | Path, redis_url: str) -> tuple[Stores, Authenticator]:
    """The run's platform store, and the edge's authenticator over it (JWTs remembered as the
    router remembers them), with the router's bus on Redis as deployed: revocations reach the
    authenticator, which keeps verified keys for minutes."""
    from graph.edge.authn import TokenCache
    from nexus.assembly.registry import open_stores
    from subgraphs.platform.services import authenticator_for

    stores = open_stores(_settings(data_dir, redis_url), ["platform"])
    return stores, TokenCache(authenticator_for(stores))


def _settings(data_dir: str | Path, redis_url: str | None = None) -> Settings:
    from nexus.config import Settings

    env = {"NEXUS_DATA_DIR": str(data_dir)}
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    if database_url := os.environ.get(DATABASE_ENV):
        env["DATABASE_URL"] = database_url
    return Settings.from_env(env)


@contextlib.contextmanager
def _platform_database(admin_url: str | None) -> Iterator[None]:
    """With `admin_url` (a PostgreSQL server's URL), a fresh database for the run, dropped at
    the end; without, the run's SQLite file."""
    if admin_url is None:
        yield
        return
    from sqlalchemy import make_url

    from tests.support.postgres import throwaway_database

    with throwaway_database(admin_url, "nexus_bench_") as name:
        os.environ[DATABASE_ENV] = make_url(admin_url).set(database=name).render_as_string(False)
        try:
            yield
        finally:
            del os.environ[DATABASE_ENV]


class Run(NamedTuple):
    """One wrk run."""

    rate: float  # requests per second
    p50: float  # ms
    p95: float  # ms
    requests: int
    cpu_ms: float | None = None  # the router process's CPU time per request, ms


def _wrk(
    url: str,
    header: str,
    credentials: list[str],
    seconds: float,
    concurrency: int,
    server: int | None = None,
) -> Run:
    """One wrk run; with `server` (the router's pid) also its CPU time per request."""
    script_text = (
        WRK_SCRIPT.replace("CREDENTIALS", "{" + ",".join(json.dumps(c) for c in credentials) + "}")
        .replace("HEADER", json.dumps(header))
        .replace("BODY", json.dumps(json.dumps(BODY)))
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(script_text)
        script.flush()
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "60s"]
        command += ["-s", script.name, url]
        pids = [server] if server is not None and stat(server) is not None else []  # /proc: Linux
        cpu_before = cpu_seconds(pids) if pids else None
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        cpu_after = cpu_seconds(pids) if pids else None
    [line] = [line for line in output.splitlines() if line.startswith("RESULT ")]
    requests, duration, p50, p95, failed = line.split()[1:]
    assert int(failed) == 0, f"{failed} responses were not 200 or carried errors"
    cpu_ms = (
        None
        if cpu_before is None or cpu_after is None or not int(requests)
        else (cpu_after - cpu_before) / int(requests) * 1e3
    )
    return Run(int(requests) / float(duration), float(p50), float(p95), int(requests), cpu_ms)


def _use_each_once(
    url: str, header: str, credentials: list[str] | list[None], concurrency: int
) -> None:
    """The warm-up pass: one request with each credential (None: without one), `concurrency`
    at a time."""

    async def run() -> None:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=60) as client:

            async def use(credential: str | None) -> None:
                headers = {} if credential is None else {header: credential}
                async with gate:
                    response = await client.post(url, json=BODY, headers=headers)
                assert response.status_code == 200 and "errors" not in response.json()

            await asyncio.gather(*(use(credential) for credential in credentials))

    asyncio.run(run())


async def _in_process(data_dir: Path, redis_url: str, iterations: int, plain: bool) -> None:
    from benchmarks.subgraph_documents import shop_schemas
    from graph.edge.budget import open_budget
    from graph.edge.demand import DemandControl, EdgeOutcome
    from graph.edge.usage import UsageMeter
    from graph.in_process import in_process_router
    from subgraphs.platform.billing import PlatformUsageSink

    keys, tokens = await _credentials(data_dir)
    stores, authenticator = _platform(data_dir, redis_url)
    bare = in_process_router(shop_schemas(not plain))
    budget = open_budget(redis_url, prefix=f"bench:{time.time_ns()}:")
    usage = UsageMeter(PlatformUsageSink(stores.require_platform()))
    edged = in_process_router(shop_schemas(not plain), demand=DemandControl(budget), usage=usage)
    # The same edge with usage events queued and batched but never written: the store's share.
    unwritten = UsageMeter(_Unwritten())
    unwritten_router = in_process_router(
        shop_schemas(not plain),
        demand=DemandControl(open_budget(redis_url, prefix=f"bench:{time.time_ns()}:u:")),
        usage=unwritten,
    )
    jwts = [{"authorization": f"Bearer {token}"} for token in tokens]
    configurations: dict[str, tuple[Router, UsageMeter | None, list[dict[str, str]]]] = {
        "no edge": (bare, None, [{}]),
        "anonymous": (edged, usage, [{}]),
        "api key": (edged, usage, [{"x-api-key": key} for key in keys]),
        "jwt": (edged, usage, jwts),
        "jwt, usage not written": (unwritten_router, unwritten, jwts),
    }
    variables = BODY["variables"]

    async def run(name: str, count: int) -> float:
        router, meter, rotation = configurations[name]
        if meter is not None:
            await meter.flush()  # what earlier runs queued is theirs
        start = time.process_time()
        for n in range(count):
            caller = await authenticator.authenticate(rotation[n % len(rotation)])
            outcome = EdgeOutcome()
            await router.execute(SHOP_QUERY, variables, caller=caller, outcome=outcome)
        if meter is not None:
            await meter.flush()  # this run's usage rows, written
        return (time.process_time() - start) / count * 1e3

    for name in configurations:  # warm-up: plans, caches, every key looked up once
        await run(name, KEYS)
    print(
        f"SHOP_QUERY in-process, CPU ms per request, median of 3 x {iterations}, the "
        f"configurations interleaved, platform store {_store_name()}; load average {_load()}"
    )
    runs: dict[str, list[float]] = {name: [] for name in configurations}
    for _ in range(3):
        for name in configurations:
            runs[name].append(await run(name, iterations))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    for name, ms in medians.items():
        extra = 100 * (ms - medians["no edge"]) / medians["no edge"]
        print(f"  {name:<22} {ms:7.3f} ms   {extra:+5.1f}% vs no edge")
    await edged.close()
    await unwritten_router.close()


class _Unwritten:
    """A usage sink that drops what it is given."""

    async def write(self, events: object) -> None:
        return None


async def _pieces(data_dir: Path, redis_url: str, iterations: int) -> None:
    from benchmarks.subgraph_documents import shop_schemas
    from graph.edge.budget import InProcessBudget, LeasedBudget, RedisBudget
    from graph.edge.demand import rate_limit_headers
    from graph.edge.usage import UsageEvent, UsageMeter
    from graph.in_process import in_process_router
    from subgraphs.platform.billing import PlatformUsageSink

    keys, tokens = await _credentials(data_dir)
    stores, authenticator = _platform(data_dir, redis_url)
    router = in_process_router(shop_schemas(True))
    variables: dict[str, Any] = dict(cast(dict[str, Any], BODY["variables"]))
    planned = await router._plan(SHOP_QUERY, variables, None)
    assert not isinstance(planned, dict), planned
    data = (await router.execute(SHOP_QUERY, variables))["data"]
    key_headers = [{"x-api-key": key} for key in keys]
    jwt_headers = [{"authorization": f"Bearer {token}"} for token in tokens]
    for headers in key_headers + jwt_headers:  # every credential known, as in steady rotation
        await authenticator.authenticate(headers)
    caller = await authenticator.authenticate(jwt_headers[0])
    prefix = f"bench:{time.time_ns()}:"
    in_process, redis, leased = (
        InProcessBudget(),
        RedisBudget(redis_url, prefix=prefix + "exact:"),
        LeasedBudget(RedisBudget(redis_url, prefix=prefix + "leased:")),
    )
    limit = 10**12
    await redis.debit("warm-up", 1, limit)  # the script loaded
    sink = PlatformUsageSink(stores.require_platform())
    meter = UsageMeter(sink, interval_seconds=3600.0)
    event = UsageEvent.of(caller, None, 25, 25, "ok")
    debit = await in_process.debit("caller", 25, limit)
    costs = router.costs
    counter = iter(range(10**9))

    async def anonymous() -> None:
        await authenticator.authenticate({})

    async def api_key() -> None:
        await authenticator.authenticate(key_headers[next(counter) % KEYS])

    async def jwt() -> None:
        await authenticator.authenticate(jwt_headers[next(counter) % KEYS])

    async def estimate() -> None:
        costs.estimate(
            planned.document_text, planned.parsed.document, planned.operation, planned.coerced
        )

    async def actual() -> None:
        costs.actual(planned.plan.shape, data)

    async def ratelimit_headers() -> None:
        rate_limit_headers(debit)

    async def debit_in_process() -> None:
        await in_process.debit("caller", 25, limit)

    async def debit_redis() -> None:
        await redis.debit("caller", 25, limit)

    async def debit_slice() -> None:
        await leased.debit("caller", 25, limit)

    async def record() -> None:
        meter.record(UsageEvent.of(caller, None, 25, 25, "ok"))

    async def write_500() -> None:
        await sink.write([event] * 500)

    pieces: dict[str, tuple[Callable[[], Awaitable[None]], int]] = {
        "authenticate: anonymous": (anonymous, 1),
        "authenticate: API key (cached)": (api_key, 1),
        "authenticate: JWT (cached)": (jwt, 1),
        "cost estimate (cached)": (estimate, 1),
        "actual cost of the response": (actual, 1),
        "RateLimit headers": (ratelimit_headers, 1),
        "debit: in-process bucket": (debit_in_process, 1),
        "debit: Redis, exact (EVALSHA)": (debit_redis, 1),
        "debit: Redis, from a slice": (debit_slice, 1),
        "usage: queue one event": (record, 1),
        "usage: store write, per event (batches of 500)": (write_500, 500),
    }
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in pieces}
    for round_ in range(6):  # the first round warms up and is not counted
        for name, (piece, per_call) in pieces.items():
            count = max(1, iterations // per_call)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(count):
                await piece()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if round_:
                calls = count * per_call
                rounds[name].append((cpu / calls * 1e6, wall / calls * 1e6))
        meter._queue.clear()  # queued events are never written
    print(
        f"The edge's pieces alone, in-process, microseconds per call (median of 5 rounds of "
        f"{iterations}; `wall` includes waiting on Redis or the store), platform store "
        f"{_store_name()}; load average {_load()}"
    )
    for name, values in rounds.items():
        cpu = statistics.median(v[0] for v in values)
        wall = statistics.median(v[1] for v in values)
        print(f"  {name:<48} CPU {cpu:8.1f} us   wall {wall:8.1f} us")
    for budget in (redis, leased):
        await budget.close()
    await router.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-process", action="store_true", help="CPU per request, no HTTP")
    parser.add_argument("--pieces", action="store_true", help="each piece of the edge alone")
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="no edge and the edge in one router process, short runs alternated",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="the platform store on this PostgreSQL server (a database created for the run and "
        "dropped after, e.g. postgresql://postgres@127.0.0.1:5432/test), as deployed beside "
        "Redis; default: SQLite in the run's directory (the embedded default)",
    )
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument(
        "--plain-subgraphs",
        action="store_true",
        help="the test subgraphs without the document caches our subgraphs keep (as before)",
    )
    args = parser.parse_args()

    from tests.support.processes import free_port
    from tests.support.redis_server import RedisServer

    with tempfile.TemporaryDirectory() as directory, _platform_database(args.postgres):
        data_dir = Path(directory)
        redis = RedisServer(data_dir / "redis-work")
        (data_dir / "redis-work").mkdir()
        redis.start()
        if args.one_process:
            try:
                _one_process(data_dir, redis.url, args)
            finally:
                redis.stop()
            return
        if args.pieces or args.in_process:
            try:
                asyncio.run(
                    _pieces(data_dir, redis.url, args.iterations)
                    if args.pieces
                    else _in_process(data_dir, redis.url, args.iterations, args.plain_subgraphs)
                )
            finally:
                redis.stop()
            return
        keys, tokens = asyncio.run(_credentials(data_dir))
        loads = {
            "no edge": ("authorization", []),
            "anonymous": ("authorization", []),
            "api key": ("x-api-key", keys),
            "jwt": ("authorization", [f"Bearer {t}" for t in tokens]),
        }
        context = multiprocessing.get_context("spawn")
        steady: dict[str, list[Run]] = {name: [] for name in loads}
        cold: dict[str, list[Run]] = {name: [] for name in loads if loads[name][1]}
        print(
            f"SHOP_QUERY, {args.concurrency} connections, {args.seconds:g}s per run, "
            f"{args.rounds} rounds, {KEYS} distinct keys/tokens in rotation, platform store "
            f"{_store_name()}; load average {_load()} at the start"
        )
        print(
            "  cold: each request a credential's first use in a fresh router process "
            "(while fewer requests than credentials); steady: after a warm-up pass that used "
            f"each of the {KEYS} once"
        )
        try:
            names = list(loads)
            for round_ in range(args.rounds):
                # Each round in a rotated order: a router measured later in a round ran slower
                # (four identical `no edge` routers in this order: -4%, -12%, -17% against the
                # first), so each configuration takes every place in turn.
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    header, credentials = loads[name]
                    port = free_port()
                    server = context.Process(
                        target=_serve,
                        args=(name, str(data_dir), redis.url, port, args.plain_subgraphs),
                    )
                    server.start()
                    pid = server.pid
                    try:
                        url = f"http://127.0.0.1:{port}/graphql"
                        _wait(url, header, credentials[:1])
                        # Router warm-up (plan cache, connections) with one credential only.
                        _wrk(url, header, credentials[:1], min(2.0, args.seconds), args.concurrency)
                        if credentials:
                            run = _wrk(
                                url, header, credentials, args.seconds, args.concurrency, pid
                            )
                            cold[name].append(run)
                            _report(round_, name, "cold", run)
                            _use_each_once(url, header, credentials, args.concurrency)
                        else:
                            # The same warm-up as the credentialed configurations' cold run
                            # and pass, unmeasured: every steady run follows the same work.
                            _wrk(url, header, credentials, args.seconds, args.concurrency)
                            _use_each_once(url, header, [None] * KEYS, args.concurrency)
                        run = _wrk(url, header, credentials, args.seconds, args.concurrency, pid)
                        steady[name].append(run)
                        _report(round_, name, "steady" if credentials else "", run)
                    finally:
                        server.terminate()
                        server.join(10)
        finally:
            redis.stop()
    base = statistics.median(r.rate for r in steady["no edge"])
    base_cpus = [r.cpu_ms for r in steady["no edge"] if r.cpu_ms is not None]
    base_cpu = statistics.median(base_cpus) if base_cpus else None
    print(f"medians (load average {_load()} at the end):")
    for name, runs in steady.items():
        _median(name, "steady" if name in cold else "", runs, base, base_cpu)
    for name, runs in cold.items():
        _median(name, "cold", runs, base, base_cpu)


def _report(round_: int, name: str, kind: str, run: Run) -> None:
    note = (
        f"  ({run.requests} requests: some repeated a key)"
        if kind == "cold" and run.requests > KEYS
        else ""
    )
    cpu = "" if run.cpu_ms is None else f"   router CPU {run.cpu_ms:5.2f} ms/req"
    print(
        f"  round {round_ + 1} {name:<10}{kind:<7} {run.rate:8.1f} req/s   "
        f"p50 {run.p50:6.2f} ms   p95 {run.p95:6.2f} ms{cpu}{note}",
        flush=True,
    )


def _median(name: str, kind: str, runs: list[Run], base: float, base_cpu: float | None) -> None:
    rate = statistics.median(r.rate for r in runs)
    p50 = statistics.median(r.p50 for r in runs)
    low, high = min(r.rate for r in runs), max(r.rate for r in runs)
    cpus = [r.cpu_ms for r in runs if r.cpu_ms is not None]
    cpu = ""
    if cpus and base_cpu:
        median_cpu = statistics.median(cpus)
        cpu = (
            f"  router CPU {median_cpu:5.2f} ms/req "
            f"({100 * (median_cpu - base_cpu) / base_cpu:+5.1f}%)"
        )
    print(
        f"  {name:<10}{kind:<7} {rate:8.1f} req/s (runs {low:.1f}-{high:.1f})  "
        f"p50 {p50:6.2f} ms  {100 * (rate - base) / base:+6.1f}% vs no edge{cpu}"
    )


def _store_name() -> str:
    return "PostgreSQL" if os.environ.get(DATABASE_ENV) else "SQLite"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _wait(url: str, header: str, credentials: list[str], seconds: float = 60) -> None:
    headers = {header: credentials[0]} if credentials else {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, json=BODY, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not come up")


if __name__ == "__main__":
    main()
