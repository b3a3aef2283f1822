"""Run subgraphs (uvicorn threads) and Hive Gateway (a child process) on local ports."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import strawberry
import uvicorn
from strawberry.asgi import GraphQL

from tests.support.processes import free_port


@contextmanager
def serve_subgraphs(
    schemas: dict[str, strawberry.federation.Schema],
) -> Iterator[dict[str, str]]:
    """Serve each schema over HTTP; yields {name: url}."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    urls: dict[str, str] = {}
    try:
        for name, schema in schemas.items():
            port = free_port()
            config = uvicorn.Config(
                GraphQL(schema, graphql_ide=None),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            servers.append((server, thread))
            urls[name] = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + 20
        while not all(server.started for server, _ in servers):
            if time.monotonic() > deadline:
                raise RuntimeError("subgraph servers did not start within 20s")
            time.sleep(0.05)
        yield urls
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, thread in servers:
            thread.join(timeout=10)


@contextmanager
def hive_gateway(
    node_modules: Path,
    supergraph_file: Path,
    log_file: Path,
    *,
    router_runtime: bool = False,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Hive Gateway serving `supergraph_file` (planned by Hive Router's query planner with
    `router_runtime`); yields its /graphql URL."""
    port = free_port()
    runtime = ["--hive-router-runtime"] if router_runtime else []
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [
                str(node_modules / ".bin" / "hive-gateway"),
                "supergraph",
                str(supergraph_file),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *runtime,
                *extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"hive-gateway exited: {log_file.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{base}/readiness", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hive-gateway not ready: {log_file.read_text()[-2000:]}")
                time.sleep(0.25)
            yield f"{base}/graphql"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
