"""Router benchmarks: in-process overhead, the plan cache, and HTTP against Hive Gateway.

    PYTHONPATH=. python benchmarks/router.py [--iterations 2000]
    PYTHONPATH=. python benchmarks/router.py --http [--seconds 10] [--concurrency 32] [--rounds 3]
        [--router-workers 1] [--hive-fork 1] [--client wrk|python] [--plain-subgraphs] [--floor]
    PYTHONPATH=. python benchmarks/router.py --client-cpu [--iterations 2000] [--rounds 3]
    PYTHONPATH=. python benchmarks/router.py --variants default NAME=VALUE[,NAME=VALUE] ...
        [--rounds 30] [--seconds 2] [--router-workers 1]

Overhead: the same cross-subgraph query (four subgraphs, three entity jumps) through the router,
against replaying the exact subgraph requests the router made, directly on the Strawberry schemas,
and through the same router with the hardening checks off (NEXUS_HARDENING_CHECKS=off: no request
limits, no input checks), the three in turn.
Plan cache: the first plan of an operation runs the pipeline; later runs are cache hits.
HTTP: the four subgraphs as separate uvicorn processes (with the document caches our subgraphs
keep, nexus.graphql_errors.SubgraphSchema; `--plain-subgraphs` without, as before);
`nexus router --supergraph FILE` (with `--router-workers` processes; entity cache off, then on)
and Hive Gateway (`--hive-fork` processes, on its own planner and on Hive Router's) in front of
them, the same query at the same client load, each gateway measured in turn for `--rounds`
rounds: requests/s, p50 and p99. `--floor` adds the Python floor: as many processes as the router,
on the same server stack (uvicorn, uvloop, httptools), each sending the plan's subgraph requests
(the router's HTTP client, identical ones in flight shared) and replying with the router's
answer already encoded: the least a Python gateway spends per request here, whatever its
planner and executor; and the data floor beside it, which also does the data work no gateway
can skip (the root fetches' variables from the client's, representations collected from the
answers, entities merged, the result projected onto the client's selections and encoded: its
answer must be the router's).
Each run also reads /proc (Linux): the CPU per client request of the gateway's processes, the
subgraphs, the client and everything else on the machine (other work: how loaded it was), and
how many subgraph requests a client request caused (identical ones in flight are shared, by both
gateways). Subgraph ceiling: each of the plan's subgraph requests sent straight to its subgraph
with the same client, no gateway: the subgraphs' CPU per set of the plan's fetches, so the rate
no gateway could pass without sharing requests on this machine.
Cold plan: the planner's time for a 40-field query over the four subgraphs with nothing cached.
Client CPU (`--client-cpu`): the router's HTTP client for subgraphs (graph/executor/wire.py)
against aiohttp configured as the router configures it for https:// subgraphs, in turn, the
same requests to one uvicorn server answering a subgraph-sized JSON body: the client process's
CPU per request.
Variants (`--variants`, wrk only): one `nexus router` per environment in front of the same
subgraphs (entity cache and demand control off), short wrk runs in turn with the order
alternating each round, so that the machine's drift reaches every variant alike: CPU per
request, rate, the ratio to the first variant within each round, and garbage collections per
request (from each router's /metrics).
The load comes from wrk when it is on PATH (`apt-get install wrk`): a Python client spends more
CPU per request than either gateway, so on a small machine it measures itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import httpx
from graphql import parse, print_ast

from benchmarks.procstat import TICKS, cpu_seconds, stat
from graph.limits import RequestLimits
from graph.planner import QueryPlanner
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS, SHOP_QUERY


async def _timed(calls: int, run: Any) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - start)
    return samples


async def overhead(iterations: int) -> None:
    router, transport = router_over(SCHEMAS)
    # The same router with the hardening checks off (request limits, input checks), as
    # NEXUS_HARDENING_CHECKS=off builds it: what the checks cost this query, side by side.
    unchecked, _ = router_over(
        SCHEMAS, limits=RequestLimits.from_env({"NEXUS_HARDENING_CHECKS": "off"})
    )
    unchecked.check_inputs = False
    variables = {"first": 3}
    await router.execute(SHOP_QUERY, variables)
    await unchecked.execute(SHOP_QUERY, variables)
    recorded = list(transport.requests)

    async def through_router() -> None:
        await router.execute(SHOP_QUERY, variables)

    async def unchecked_router() -> None:
        await unchecked.execute(SHOP_QUERY, variables)

    # Strawberry pops `__typename` from representations, so each replay gets fresh copies.
    replays = [copy.deepcopy(recorded) for _ in range(iterations)]

    async def direct() -> None:
        for service, query, subgraph_variables in replays.pop():
            result = await SCHEMAS[service].execute(query, variable_values=subgraph_variables)
            assert not result.errors, result.errors

    routed: list[float] = []
    routed_unchecked: list[float] = []
    baseline: list[float] = []
    chunk = max(1, iterations // 10)  # in turn, so that drift in the machine's load hits all
    for _ in range(iterations // chunk):
        routed += await _timed(chunk, through_router)
        routed_unchecked += await _timed(chunk, unchecked_router)
        baseline += await _timed(chunk, direct)
    routed_ms, direct_ms = statistics.median(routed) * 1e3, statistics.median(baseline) * 1e3
    unchecked_ms = statistics.median(routed_unchecked) * 1e3
    print(f"subgraph requests per query: {len(recorded)} (load {os.getloadavg()[0]:.1f})")
    print(f"router (median)            : {routed_ms:.3f} ms")
    print(f"router, checks off (median): {unchecked_ms:.3f} ms")
    print(f"direct subgraphs (median)  : {direct_ms:.3f} ms")
    print(f"router overhead            : {100 * (routed_ms - direct_ms) / routed_ms:.1f}% of total")
    print(
        f"hardening checks           : {100 * (routed_ms - unchecked_ms) / routed_ms:.1f}% of "
        f"the router's time (throughput with them: {unchecked_ms / routed_ms:.3f}x)"
    )


def plan_cache(iterations: int) -> None:
    router, _ = router_over(SCHEMAS)
    planner = QueryPlanner(router.supergraph)
    document = parse(SHOP_QUERY)
    text = print_ast(document)  # the router keeps this beside its parsed-document cache
    start = time.perf_counter()
    planner.plan(document, document_text=text)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(iterations):
        planner.plan(document, document_text=text)
    warm = (time.perf_counter() - start) / iterations
    print(f"first plan                 : {cold * 1e3:.3f} ms (pipeline ran)")
    print(f"cached plan (mean)         : {warm * 1e6:.1f} us")
    print(f"plans built / cache hits   : {planner.plans_built} / {planner.cache_hits}")


# Forty leaf fields over all four subgraphs: five aliased product lists, each with catalogue,
# inventory (@requires) and review fields, and the reviews' authors from accounts.
FORTY_FIELDS = (
    "{\n"
    + "".join(
        f"  p{n}: topProducts(first: {n + 1}) {{ upc name price weight inStock shippingEstimate "
        "reviews { body author { username name } } }\n"
        for n in range(4)
    )
    + "  me { name username }\n  p4: topProducts(first: 5) { upc name }\n}"
)


def cold_plans(samples: int) -> None:
    """A cold plan (a new planner: nothing cached) of the 40-field cross-subgraph query."""
    router, _ = router_over(SCHEMAS)
    document = parse(FORTY_FIELDS)
    text = print_ast(document)
    timings = []
    for _ in range(samples):
        planner = QueryPlanner(router.supergraph)
        start = time.perf_counter()
        plan = planner.plan(document, document_text=text)
        timings.append(time.perf_counter() - start)
    fetches = str(plan).count("Fetch(")
    ordered = sorted(timings)
    print(
        f"cold plan, 40 fields over 4 subgraphs ({fetches} fetches): median "
        f"{statistics.median(timings) * 1e3:.2f} ms, min {ordered[0] * 1e3:.2f} ms, "
        f"max {ordered[-1] * 1e3:.2f} ms over {samples} plans"
    )


_ANSWER = json.dumps(
    {"data": {"products": [{"upc": str(n), "name": f"product {n}", "price": n} for n in range(24)]}}
).encode()


async def _send_json(send: Any, body: bytes) -> None:
    """An ASGI 200 response carrying `body` as JSON."""
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json")],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


def _serve_answer(port: int) -> None:
    import uvicorn

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await _send_json(send, _ANSWER)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def client_cpu(requests: int, rounds: int, concurrency: int = 16) -> None:
    """`--client-cpu` (see the module's docstring)."""
    import uvloop

    from graph.executor.http import PooledClient
    from graph.executor.wire import WireClient
    from tests.support.processes import free_port

    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve_answer, args=(port,))
    server.start()
    url = f"http://127.0.0.1:{port}/graphql"
    body = b'{"query":"{ products { upc name price } }"}'
    try:
        _wait_until(url, {"query": "{ x }"})

        async def measure(kind: str) -> tuple[float, float]:
            pooled = PooledClient(timeout=10.0, max_connections=32, headers={})
            if kind == "aiohttp":  # the session the router opens for https:// subgraphs
                session = pooled._open()

                async def post() -> tuple[int, bytes]:
                    async with session.post(url, data=body) as response:
                        return response.status, await response.read()
            else:
                wire = WireClient(timeout=10.0, max_connections=32, headers=pooled.headers)

                async def post() -> tuple[int, bytes]:
                    return await wire.post(url, body)

            async def worker(count: int) -> None:
                for _ in range(count):
                    assert await post() == (200, _ANSWER)

            await worker(concurrency)  # connections opened, code warm
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            await (session.close() if kind == "aiohttp" else wire.close())
            sent = requests // concurrency * concurrency
            return cpu / sent * 1e6, sent / wall

        figures: dict[str, list[tuple[float, float]]] = {"aiohttp": [], "wire": []}
        for _ in range(rounds):
            for kind in figures:
                figures[kind].append(uvloop.run(measure(kind)))
        print(
            f"subgraph client, {requests} POSTs per round ({concurrency} at a time, "
            f"{len(_ANSWER)}-byte answers), {rounds} rounds in turn: client CPU per request"
        )
        for kind, runs in figures.items():
            cpu = sorted(run[0] for run in runs)
            rate = sorted(run[1] for run in runs)
            print(
                f"  {kind:8s} {cpu[0]:6.1f}-{cpu[-1]:6.1f} us CPU/request  "
                f"({rate[0]:,.0f}-{rate[-1]:,.0f} requests/s)"
            )
        ratio = statistics.median(r[0] for r in figures["aiohttp"]) / statistics.median(
            r[0] for r in figures["wire"]
        )
        print(f"  wire client: {ratio:.1f}x less CPU per request than aiohttp (medians)")
    finally:
        server.terminate()
        server.join()


def _serve_subgraph(name: str, port: int, served: Any, plain: bool) -> None:
    import strawberry
    import uvicorn
    from strawberry.asgi import GraphQL
    from strawberry.extensions import ParserCache, ValidationCache

    from nexus.graphql_errors import DOCUMENT_CACHE_SIZE
    from tests.graph.test_entities import SCHEMA_ARGS

    # Federation v2.9: the newest version Hive Gateway's composition reads. The document caches
    # our subgraphs keep (nexus.graphql_errors.SubgraphSchema), unless `plain`.
    extensions: list[Any] = (
        []
        if plain
        else [
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        ]
    )
    schema = strawberry.federation.Schema(
        **SCHEMA_ARGS[name], federation_version="2.9", extensions=extensions
    )
    graphql = GraphQL(schema, graphql_ide=None)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            served.value += 1  # requests this subgraph answered (shared with the benchmark)
        await graphql(scope, receive, send)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


# The floor: what any Python gateway on our server stack spends per request at the least.
# A plan as nested steps: ("fetch", service, JSON body) | ("sequence" | "parallel", [steps]).
# The data floor's plan (`_floor_plan`'s `data_step`) adds what a gateway does with data:
# ("root", service, operation, variable names) | ("flatten", service, operation, path, key
# fields), the same "sequence" | "parallel" around them.
Step = tuple[Any, ...]


async def _floor_plan() -> tuple[Step, Step, dict[str, Any], bytes]:
    """The benchmark query's plan with each fetch's request body as the router sends it; the
    same plan for the data floor (operations, paths and representation fields); the client's
    selections as a projection (response key -> its own projection, or None for a leaf); and
    the router's answer (encoded)."""
    import orjson

    from graph.planner.nodes import Fetch, FieldSelection, Flatten, InlineFragment, Parallel
    from graph.planner.nodes import Sequence as SequenceNode

    router, transport = router_over(SCHEMAS)
    answer = orjson.dumps(await router.execute(SHOP_QUERY, {"first": 3}))
    planned = await router._plan(SHOP_QUERY, {"first": 3}, None)
    pending = list(transport.requests)

    def step(node: Any) -> Step:
        if isinstance(node, Fetch | Flatten):
            fetch = node if isinstance(node, Fetch) else node.node
            index = next(
                i
                for i, (service, query, _) in enumerate(pending)
                if (service, query) == (fetch.service, fetch.operation)
            )
            service, query, variables = pending.pop(index)
            body = {"query": query, **({"variables": variables} if variables else {})}
            return ("fetch", service, orjson.dumps(body))
        kind = "sequence" if isinstance(node, SequenceNode) else "parallel"
        assert isinstance(node, SequenceNode | Parallel), node
        return (kind, [step(child) for child in node.nodes])

    def data_step(node: Any) -> Step:
        if isinstance(node, Fetch):
            return ("root", node.service, node.operation, node.variable_usages)
        if isinstance(node, Flatten):
            fields = []
            for selection in node.node.requires:  # `... on T { __typename key fields }`
                assert isinstance(selection, InlineFragment), selection
                for field in selection.selections:
                    assert isinstance(field, FieldSelection) and field.selections is None
                    fields.append(field.name)
            return ("flatten", node.node.service, node.node.operation, node.path, tuple(fields))
        kind = "sequence" if isinstance(node, SequenceNode) else "parallel"
        return (kind, [data_step(child) for child in node.nodes])

    def projection(selections: Any) -> dict[str, Any]:
        shape: dict[str, Any] = {}
        for selection in selections.selections:
            key = (selection.alias or selection.name).value
            inner = selection.selection_set
            shape[key] = projection(inner) if inner is not None else None
        return shape

    assert not isinstance(planned, dict), planned
    operation = parse(SHOP_QUERY).definitions[0]
    client = projection(operation.selection_set)  # type: ignore[attr-defined]
    node = planned.plan.node
    return step(node), data_step(node), client, answer


async def data_floor_answer(
    plan: Step,
    client: dict[str, Any],
    variables: dict[str, Any],
    fetch: Callable[[str, bytes], Awaitable[Any]],
) -> bytes:
    """The data floor's answer to one request (see `_serve_floor_worker`): `plan` run with
    `fetch` (service, request body -> the answer decoded, which may be shared with other
    requests: read, never changed), the data merged, projected onto `client` and encoded."""
    import orjson

    merged: dict[int, dict[str, Any]] = {}  # id(an object as fetched) -> it with its entities

    def view(item: dict[str, Any]) -> dict[str, Any]:
        return merged.get(id(item), item)

    def objects_at(value: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
        if not path:
            return [value] if isinstance(value, dict) else []
        head, rest = path[0], path[1:]
        if head == "@":
            found = []
            for item in value or ():
                found += objects_at(item, rest)
            return found
        return objects_at(view(value).get(head), rest) if isinstance(value, dict) else []

    def project(value: Any, shape: dict[str, Any] | None) -> Any:
        if shape is None or value is None:
            return value
        if isinstance(value, list):
            return [project(item, shape) for item in value]
        value = view(value)
        return {key: project(value.get(key), inner) for key, inner in shape.items()}

    async def run(step: Step, data: dict[str, Any]) -> None:
        kind = step[0]
        if kind == "root":
            _, service, operation, usages = step
            body: dict[str, Any] = {"query": operation}
            if usages:
                body["variables"] = {name: variables.get(name) for name in usages}
            data.update((await fetch(service, orjson.dumps(body)))["data"])
        elif kind == "flatten":
            _, service, operation, path, fields = step
            objects = objects_at(data, path)
            slots: dict[tuple[Any, ...], int] = {}
            representations: list[dict[str, Any]] = []
            places = []
            for item in objects:
                seen = view(item)
                key = tuple(seen.get(field) for field in fields)
                slot = slots.get(key)
                if slot is None:
                    slot = slots[key] = len(representations)
                    representations.append(dict(zip(fields, key, strict=True)))
                places.append(slot)
            if not representations:
                return
            body = {"query": operation, "variables": {"representations": representations}}
            entities = (await fetch(service, orjson.dumps(body)))["data"]["_entities"]
            for item, slot in zip(objects, places, strict=True):
                merged[id(item)] = {**view(item), **entities[slot]}
        elif kind == "sequence":
            for child in step[1]:
                await run(child, data)
        else:
            await asyncio.gather(*(run(child, data) for child in step[1]))

    data: dict[str, Any] = {}
    await run(plan, data)
    return orjson.dumps({"data": project(data, client)})


def _serve_floor_worker(
    port: int,
    plan: Step,
    urls: dict[str, str],
    answer: bytes,
    data_plan: Step | None = None,
    client: dict[str, Any] | None = None,
) -> None:
    """One floor process: uvicorn (uvloop, httptools, as `nexus router` serves) and a bare ASGI
    app that reads and parses the request, sends the plan's subgraph requests in its order with
    the router's HTTP client (graph/executor/wire.py; identical requests in flight shared, as
    the gateways share them), parses each answer and replies with the router's answer, already
    encoded: no document or plan lookup, no variables, representations, merging, shaping, edge,
    metrics or logs.

    With `data_plan` (the data floor), the data work no gateway can skip, and nothing else:
    the root fetches' variables taken from the client's, each entity fetch's representations
    collected from the answers so far along its path (deduplicated, as the router sends them),
    the entities merged into the objects they belong to, the merged data projected onto the
    client's selections (`client`: the fields the subgraphs were asked for only as keys
    dropped) and encoded. A shared fetch shares its decoded answer: the data floor merges
    without changing it (each merged object a new dict), so no request sees another's."""
    import gc
    import socket

    import orjson
    import uvicorn
    import uvloop

    from graph.executor.wire import WireClient
    from nexus.heap import young_threshold

    in_flight: dict[tuple[str, bytes], asyncio.Future[Any]] = {}
    headers = {"content-type": "application/json"}
    wire = WireClient(timeout=10.0, max_connections=32, headers=headers)

    async def fetch(service: str, body: bytes) -> Any:
        shared = in_flight.get((service, body))
        if shared is not None:
            return await asyncio.shield(shared)
        future = in_flight[(service, body)] = asyncio.get_running_loop().create_future()
        try:
            future.set_result(orjson.loads((await wire.post(urls[service], body))[1]))
        except BaseException as error:
            future.set_exception(error)
            raise
        finally:
            del in_flight[(service, body)]
        return future.result()

    async def run(step: Step) -> None:
        if step[0] == "fetch":
            await fetch(step[1], step[2])
        elif step[0] == "sequence":
            for child in step[1]:
                await run(child)
        else:
            await asyncio.gather(*(run(child) for child in step[1]))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = orjson.loads(b"".join(chunks))
        if data_plan is None:
            await run(plan)
            reply = answer
        else:
            variables = request.get("variables") or {}
            reply = await data_floor_answer(data_plan, client or {}, variables, fetch)
        await _send_json(send, reply)

    async def main() -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # one port, N processes
        listener.bind(("127.0.0.1", port))
        config = uvicorn.Config(
            app,
            loop="none",
            http="httptools",
            lifespan="off",
            log_level="error",
            access_log=False,
        )
        await uvicorn.Server(config).serve(sockets=[listener])

    # The young generation collected as seldom as the router's (nexus.heap): the floor stays
    # the least a gateway on this stack spends.
    gc.set_threshold(young_threshold(), *gc.get_threshold()[1:])
    uvloop.run(main())


def _serve_floor(port: int, workers: int, *args: Any) -> None:
    """`workers` floor processes on `port` (children of this one, so the benchmark's CPU
    accounting counts them all); `args` as `_serve_floor_worker` takes them after the port."""
    context = multiprocessing.get_context("fork")  # this process is fresh (spawned), no threads
    processes = [
        context.Process(target=_serve_floor_worker, args=(port, *args)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()


def _tree(root: int) -> list[int]:
    """`root` and every process descended from it (worker processes, Node forks)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        fields = stat(entry) if entry.isdigit() else None
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def _terminate_tree(root: int) -> None:
    for pid in _tree(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)


def _machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used (all cores, from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICKS


def _children_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_until(url: str, body: dict[str, Any] | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = httpx.post(url, json=body) if body else httpx.get(url)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {seconds:g}s")


Load = tuple[float, float, float]  # requests per second, p50 ms, p99 ms


@dataclass(frozen=True)
class Run:
    """One measured run: the client's figures, and who spent the machine's CPU per request."""

    rate: float  # requests per second
    p50: float  # ms
    p99: float  # ms
    fetches: float  # subgraph requests answered per client request
    gateway_ms: float  # CPU ms per request: the gateway's processes
    subgraphs_ms: float  # ... the four subgraph processes
    client_ms: float  # ... the load generator
    others_ms: float  # ... every other process on the machine (other work: a loaded machine)


@dataclass
class Bench:
    """The processes measured: the subgraphs (pids, request counters) and the client."""

    subgraph_pids: list[int]
    served: list[Any]
    seconds: float
    concurrency: int
    client: str


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = BODY
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("bad") end
  io.write(string.format("RESULT %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, failed))
end
"""


def _load_wrk(url: str, body: dict[str, Any], seconds: float, concurrency: int) -> Load:
    """wrk (C) keeps `concurrency` connections busy, using little CPU itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.replace("BODY", json.dumps(json.dumps(body))))
        script.flush()
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "-s", script.name, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    [line] = [line for line in output.splitlines() if line.startswith("RESULT ")]
    requests, duration, p50, p99, failed = line.split()[1:]
    assert int(failed) == 0, f"{failed} responses were not 200 or carried errors"
    return int(requests) / float(duration), float(p50), float(p99)


def _load_python(url: str, body: dict[str, Any], seconds: float, concurrency: int) -> Load:
    """Python coroutines over one aiohttp session: about 1-3 ms of CPU per request, so on a small
    machine this client, not the gateway, may be what saturates."""
    import aiohttp

    async def run() -> list[float]:
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    start = time.perf_counter()
                    async with session.post(url, json=body) as response:
                        answer = await response.json()
                    assert response.status == 200 and "errors" not in answer, answer
                    latencies.append(time.perf_counter() - start)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies

    ordered = sorted(asyncio.run(run()))
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    return len(ordered) / seconds, p50 * 1e3, p99 * 1e3


def _measure(bench: Bench, url: str, body: dict[str, Any], gateway_pid: int) -> Run:
    """Load `url` with `body`; CPU per request of the gateway (`gateway_pid` and its children),
    the subgraphs, the client (wrk, a child process; the Python client runs in this one) and
    everything else on the machine."""
    load = _load_wrk if bench.client == "wrk" else _load_python
    load(url, body, min(2.0, bench.seconds), bench.concurrency)  # warm-up
    gateway = _tree(gateway_pid)
    own = [os.getpid()] if bench.client == "python" else []  # the Python client runs here
    before = (
        cpu_seconds(gateway),
        cpu_seconds(bench.subgraph_pids),
        _children_cpu_seconds() + cpu_seconds(own),
        _machine_busy_seconds(),
        sum(counter.value for counter in bench.served),
    )
    rate, p50, p99 = load(url, body, bench.seconds, bench.concurrency)
    after = (
        cpu_seconds(gateway),
        cpu_seconds(bench.subgraph_pids),
        _children_cpu_seconds() + cpu_seconds(own),
        _machine_busy_seconds(),
        sum(counter.value for counter in bench.served),
    )
    gateway_s, subgraphs_s, client_s, busy_s, fetches = (
        b - a for a, b in zip(before, after, strict=True)
    )
    requests = max(1.0, rate * bench.seconds)
    others_s = max(0.0, busy_s - gateway_s - subgraphs_s - client_s)
    return Run(
        rate,
        p50,
        p99,
        fetches / requests,
        gateway_s * 1e3 / requests,
        subgraphs_s * 1e3 / requests,
        client_s * 1e3 / requests,
        others_s * 1e3 / requests,
    )


def _pid_listening_on(url: str) -> int:
    """The process started with `--port PORT` of `url` (Hive Gateway: its Node process)."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    for entry in os.listdir("/proc"):
        try:
            args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if port.encode() in args and b"--port" in args[: args.index(port.encode())][-1:]:
            return int(entry)
    raise RuntimeError(f"no process serves {url}")


async def _plan_fetches() -> list[tuple[str, str, dict[str, Any] | None]]:
    """The subgraph requests the router makes for the benchmark's request."""
    router, transport = router_over(SCHEMAS)
    await router.execute(SHOP_QUERY, {"first": 3})
    return list(transport.requests)


def subgraph_ceiling(bench: Bench, urls: dict[str, str], pids: dict[str, int]) -> float:
    """Each of the plan's subgraph requests sent straight to its subgraph with the same client
    (no gateway), one at a time: the subgraph's rate and CPU per request. Answers how many
    client requests a second the subgraphs could serve if every client request cost one set of
    the plan's fetches and the gateway cost nothing."""
    fetches = asyncio.run(_plan_fetches())
    print(
        f"subgraph ceiling: the plan's {len(fetches)} subgraph requests, each sent straight to "
        f"its subgraph ({bench.client}, {bench.concurrency} connections, {bench.seconds:g}s):"
    )
    per_service: dict[str, float] = {}
    for service, query, variables in fetches:
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        run = _measure(bench, urls[service], body, pids[service])
        per_service[service] = per_service.get(service, 0.0) + run.gateway_ms
        field = query.split("{", 2)[1].split("(")[0].strip() or "_entities"
        print(
            f"  {service:<10} {field[:24]:<24} {run.rate:8.1f} req/s   "
            f"{run.gateway_ms:.2f} ms of the subgraph's CPU per request"
        )
    total = sum(per_service.values())
    cores = os.cpu_count() or 1
    # Every subgraph is one process (at most one core); all together share the machine's cores.
    ceiling = min(cores * 1e3 / total, *(1e3 / ms for ms in per_service.values()))
    print(
        f"  one set of the plan's requests: {total:.2f} ms of subgraph CPU "
        f"({', '.join(f'{name} {ms:.2f}' for name, ms in per_service.items())}); ceiling "
        f"{ceiling:,.0f} client requests/s on {cores} cores if each sent its own set and the "
        "gateway and client cost nothing"
    )
    return ceiling


SHOP_BODY = {"query": SHOP_QUERY, "variables": {"first": 3}}


def _start_subgraphs(
    stack: contextlib.ExitStack, directory: Path, plain: bool
) -> tuple[dict[str, str], dict[str, int], list[Any], Path]:
    """The four benchmark subgraphs, each a uvicorn process (stopped when `stack` closes), and
    their supergraph written in `directory`: (urls, pids, request counters, supergraph file)."""
    from graph.compose import SubgraphSDL, compose_supergraph
    from graph.in_process import subgraph_sdl
    from tests.support.processes import free_port

    context = multiprocessing.get_context("spawn")
    ports = {name: free_port() for name in SCHEMAS}
    served = {name: context.RawValue("q", 0) for name in SCHEMAS}
    processes = {
        name: context.Process(target=_serve_subgraph, args=(name, port, served[name], plain))
        for name, port in ports.items()
    }
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    subgraphs = [
        SubgraphSDL(name, urls[name], subgraph_sdl(schema)) for name, schema in SCHEMAS.items()
    ]
    supergraph_file = directory / "supergraph.graphql"
    supergraph_file.write_text(compose_supergraph(subgraphs))
    for process in processes.values():
        process.start()
        stack.callback(process.join, 10)
        stack.callback(process.terminate)
    for url in urls.values():
        _wait_until(url, {"query": "{ __typename }"})
    pids = {name: process.pid or 0 for name, process in processes.items()}
    return urls, pids, list(served.values()), supergraph_file


def compare_router_variants(
    variants: list[str], seconds: float, concurrency: int, rounds: int, workers: int
) -> None:
    """`nexus router` (entity cache and demand control off, as in the Hive comparison) once per
    environment variant, in front of the same subgraphs; wrk runs of `seconds` taken in turn,
    the order alternating each round, for `rounds` rounds: each variant's CPU per request and
    rate (median and quartiles), each variant's CPU per request over the first's in the same
    round, and its garbage collections per request (its /metrics; with several worker processes
    one process answers it, so the counts are that process's over all their requests)."""
    import re

    from benchmarks.procstat import cpu_seconds
    from tests.support.processes import NexusProcess

    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        *_, supergraph_file = _start_subgraphs(stack, Path(directory), False)
        targets: dict[str, tuple[str, list[int]]] = {}
        for number, variant in enumerate(variants):
            env = {"NEXUS_ENTITY_CACHE": "off", "NEXUS_DEMAND_CONTROL": "off"}
            if variant != "default":
                env.update(item.partition("=")[::2] for item in variant.split(","))
            router = NexusProcess(
                ["router", "--supergraph", str(supergraph_file), "--workers", str(workers)],
                Path(directory) / f"nexus-{number}",
                "router",
                env=env,
            )
            stack.callback(router.stop)
            router.wait("/healthz", 90)
            targets[variant] = (router.url, [router.process.pid])
        answers = [
            httpx.post(f"{url}/graphql", json=SHOP_BODY, timeout=30).json()
            for url, _ in targets.values()
        ]
        assert all(a == answers[0] and "errors" not in a for a in answers), answers
        for variant, (url, [pid]) in targets.items():
            _load_wrk(f"{url}/graphql", SHOP_BODY, 3, concurrency)  # warm-up
            targets[variant] = (url, _tree(pid))  # with its worker processes

        def collections(url: str) -> list[float]:
            text = httpx.get(f"{url}/metrics", timeout=10).text
            pattern = r'python_gc_collections_total\{generation="(\d)"\} (\S+)'
            return [float(value) for _, value in sorted(re.findall(pattern, text))]

        before = {variant: collections(url) for variant, (url, _) in targets.items()}
        cpu: dict[str, list[float]] = {variant: [] for variant in targets}
        rates: dict[str, list[float]] = {variant: [] for variant in targets}
        names = list(targets)
        for round_ in range(rounds):
            order = names if round_ % 2 == 0 else names[::-1]
            for variant in order:
                url, pids = targets[variant]
                start = cpu_seconds(pids)
                rate, _, _ = _load_wrk(f"{url}/graphql", SHOP_BODY, seconds, concurrency)
                cpu[variant].append((cpu_seconds(pids) - start) * 1e3 / (rate * seconds))
                rates[variant].append(rate)
        print(
            f"nexus router, {workers} process(es) per variant, SHOP_QUERY, {concurrency} "
            f"connections, {rounds} rounds of {seconds:g} s per variant in turn (the order "
            f"alternating), load average {os.getloadavg()[0]:.1f} at the end"
        )
        print(
            "| variant | CPU per request, median (quartiles) | req/s, median | over the first, "
            "per round: median (quartiles) | collections per request (gen 0 / 1 / 2) |"
        )
        print("|---|---|---|---|---|")
        for variant in names:
            url, _ = targets[variant]
            served = sum(rates[variant]) * seconds
            per = [
                f"{(b - a) / served:.4f}"
                for a, b in zip(before[variant], collections(url), strict=True)
            ]
            ratios = [b / a for a, b in zip(cpu[names[0]], cpu[variant], strict=True)]
            print(
                f"| {variant} | {_quartiles(cpu[variant], 'ms', 3)} | "
                f"{statistics.median(rates[variant]):,.0f} | {_quartiles(ratios, '', 3)} | "
                f"{' / '.join(per)} |"
            )


def _quartiles(values: list[float], unit: str, digits: int) -> str:
    ordered = sorted(values)
    q1, q3 = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    unit = f" {unit}" if unit else ""
    return f"{statistics.median(ordered):.{digits}f}{unit} ({q1:.{digits}f}-{q3:.{digits}f})"


def compare_with_hive_gateway(
    seconds: float,
    concurrency: int,
    rounds: int,
    client: str,
    workers: int,
    hive_forks: int,
    plain: bool = False,
    floor: bool = False,
) -> None:
    from tests.graph.interop.npm import node_modules
    from tests.graph.interop.servers import hive_gateway
    from tests.support.processes import NexusProcess, free_port

    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        urls, pids, served, supergraph_file = _start_subgraphs(stack, Path(directory), plain)
        bench = Bench(list(pids.values()), served, seconds, concurrency, client)
        body = SHOP_BODY
        # The router as deployed: `nexus router --supergraph FILE --workers N`, entity cache
        # off, then on (NEXUS_ENTITY_CACHE=on: repeated entities come from its in-process LRU).
        targets: dict[str, tuple[str, int]] = {}
        for name, cache in (("nexus router", "off"), ("nexus router +cache", "on")):
            router = NexusProcess(
                ["router", "--supergraph", str(supergraph_file), "--workers", str(workers)],
                Path(directory) / f"nexus-{cache}",
                "router",
                # No demand control: Hive Gateway runs none, and the anonymous plan's budget
                # (1,000 cost units a minute) would refuse the load within a second.
                env={"NEXUS_ENTITY_CACHE": cache, "NEXUS_DEMAND_CONTROL": "off"},
            )
            stack.callback(router.stop)
            router.wait("/healthz", 90)
            targets[name] = (f"{router.url}/graphql", router.process.pid)
        if floor:
            # The floors: the least any Python gateway on this server stack spends (see
            # _serve_floor_worker), with as many processes as `nexus router`; without, then
            # with the data work every gateway does (variables, representations, merging,
            # projecting onto the client's selections, encoding).
            plan, data_plan, client_shape, answer = asyncio.run(_floor_plan())
            for name, extra in (
                ("python floor", ()),
                ("python floor + data", (data_plan, client_shape)),
            ):
                port = free_port()
                launcher = context.Process(
                    target=_serve_floor, args=(port, workers, plan, urls, answer, *extra)
                )
                launcher.start()
                stack.callback(launcher.join, 10)
                stack.callback(_terminate_tree, launcher.pid or 0)
                _wait_until(f"http://127.0.0.1:{port}/graphql", body)
                targets[name] = (f"http://127.0.0.1:{port}/graphql", launcher.pid or 0)
        for name, runtime in (("hive gateway", False), ("hive (router)", True)):
            log = Path(directory) / f"{name}.log"
            url = stack.enter_context(
                hive_gateway(
                    node_modules(),
                    supergraph_file,
                    log,
                    router_runtime=runtime,
                    extra_args=["--fork", str(hive_forks)] if hive_forks > 1 else [],
                )
            )
            targets[name] = (url, _pid_listening_on(url))
        answers = [httpx.post(url, json=body, timeout=30).json() for url, _ in targets.values()]
        # (The floor replies with the router's answer whatever it fetched: checked here, too;
        # the data floor builds its own answer, which must be the router's.)
        assert all(
            answer.get("data") == answers[0]["data"] and "errors" not in answer
            for answer in answers
        ), answers

        print(
            f"query: SHOP_QUERY, {concurrency} concurrent connections, {seconds:g}s per run, "
            f"{rounds} rounds in turn, client: {client}; nexus router: {workers} worker "
            f"process(es), Hive Gateway: {hive_forks} process(es); machine: "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
        )
        ceiling = subgraph_ceiling(bench, urls, pids)
        print(
            "gateways (CPU per client request in ms: the gateway / the subgraphs / the client / "
            "other processes on the machine; fetches: subgraph requests per client request, "
            "after sharing identical ones in flight):"
        )
        runs: dict[str, list[Run]] = {name: [] for name in targets}
        names = list(targets)
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                url, pid = targets[name]
                runs[name].append(_measure(bench, url, body, pid))
                print(f"  {name:<22} " + _format(runs[name][-1]), flush=True)
        print(f"medians (load average {os.getloadavg()[0]:.1f} at the end):")
        medians = {name: _median(measured) for name, measured in runs.items()}
        for name, run in medians.items():
            print(f"  {name:<22} " + _format(run))
        hive = medians["hive gateway"].rate
        cores = os.cpu_count() or 1
        print(
            f"summary ({cores} cores = {cores * 1e3:,.0f} ms of CPU a second; 'ceiling at its "
            "sharing': the rate if the gateway itself cost no CPU, with the subgraph and client "
            "CPU per request it caused; 'no sharing': one set of the plan's fetches per request):"
        )
        print(
            f"  subgraph ceiling, no sharing: {ceiling:,.0f} req/s = {ceiling / hive:.2f}x hive "
            f"gateway; 6x hive gateway = {6 * hive:,.0f} req/s needs at most "
            f"{cores * 1e3 / (6 * hive):.2f} ms of CPU per request in all"
        )
        for name, run in medians.items():
            ratio = f"{run.rate / hive:.2f}x hive gateway; " if name != "hive gateway" else ""
            shared = cores * 1e3 / max(1e-3, run.subgraphs_ms + run.client_ms)
            share = run.gateway_ms / max(1e-3, run.gateway_ms + run.subgraphs_ms + run.client_ms)
            # What 6x would leave this gateway: the CPU per request at 6x hive gateway's rate,
            # less the subgraphs' and the client's share at this gateway's sharing.
            left = cores * 1e3 / (6 * hive) - run.subgraphs_ms - run.client_ms
            print(
                f"  {name:<22} {ratio}ceiling at its sharing {shared:,.0f} req/s, reached "
                f"{100 * run.rate / shared:.0f}%; the gateway's own CPU {run.gateway_ms:.2f} ms "
                f"per request = {100 * share:.0f}% of the CPU the request cost; 6x would "
                f"leave it {left:.2f} ms"
            )


def _median(runs: list[Run]) -> Run:
    return Run(*(statistics.median(values) for values in zip(*map(astuple, runs), strict=True)))


def _format(run: Run) -> str:
    return (
        f"{run.rate:8.1f} req/s  p50 {run.p50:6.1f} ms  p99 {run.p99:6.1f} ms  fetches "
        f"{run.fetches:4.2f}  CPU {run.gateway_ms:.2f} / {run.subgraphs_ms:.2f} / "
        f"{run.client_ms:.2f} / {run.others_ms:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--http", action="store_true", help="compare with Hive Gateway")
    parser.add_argument(
        "--plain-subgraphs",
        action="store_true",
        help="--http: the subgraphs without the document caches ours keep (as before)",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each gateway, in turn")
    parser.add_argument(
        "--router-workers", type=int, default=1, help="`nexus router --workers` (processes)"
    )
    parser.add_argument(
        "--hive-fork", type=int, default=1, help="Hive Gateway's `--fork` (processes)"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="--http: also measure the Python floors (the plan's fetches and a canned answer; "
        "the same with the data work)",
    )
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when it is on PATH)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        metavar="NAME=VALUE[,NAME=VALUE]",
        help="compare `nexus router` under these environments (`default`: as configured), "
        "in turn, with wrk: CPU per request, rate, garbage collections",
    )
    parser.add_argument(
        "--client-cpu",
        action="store_true",
        help="the router's subgraph HTTP client against aiohttp: CPU per request",
    )
    args = parser.parse_args()
    if args.client_cpu:
        client_cpu(args.iterations * 5, args.rounds)
        return
    if args.variants:
        compare_router_variants(
            args.variants, args.seconds, args.concurrency, args.rounds, args.router_workers
        )
        return
    if args.http:
        cold_plans(20)
        compare_with_hive_gateway(
            args.seconds,
            args.concurrency,
            args.rounds,
            args.client,
            args.router_workers,
            args.hive_fork,
            args.plain_subgraphs,
            args.floor,
        )
        return
    asyncio.run(overhead(args.iterations))
    plan_cache(args.iterations)
    cold_plans(50)


if __name__ == "__main__":
    main()
