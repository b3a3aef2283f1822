"""Supergraph hot reload: a changed file or SIGHUP is served without dropping requests in
flight; an unusable file is ignored."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from graph.in_process import compose_schemas
from graph.reload import SupergraphReloader
from graph.router import Router
from tests.graph.support import RecordingTransport
from tests.graph.test_entities import SCHEMAS

PRODUCTS_ONLY = compose_schemas({"products": SCHEMAS["products"]})
WITH_STOCK = compose_schemas({"products": SCHEMAS["products"], "inventory": SCHEMAS["inventory"]})
STOCK = "{ topProducts(first: 1) { name inStock } }"


class GatedTransport(RecordingTransport):
    """Holds every products call until `gate` opens: a request in flight."""

    def __init__(self) -> None:
        super().__init__(SCHEMAS)
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self, service: str, query: str, variables: Any) -> dict[str, Any]:
        if service == "products":
            await self.gate.wait()
        return await super().fetch(service, query, variables)


async def test_a_changed_file_is_served_and_requests_in_flight_finish(tmp_path: Path) -> None:
    path = tmp_path / "supergraph.graphql"
    path.write_text(PRODUCTS_ONLY)
    transport = GatedTransport()
    router = Router.from_supergraph_sdl(PRODUCTS_ONLY, transport)
    reloader = SupergraphReloader(router, path, poll_seconds=0.05)
    before = await router.execute(STOCK)
    assert before["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    transport.gate.clear()
    in_flight = asyncio.create_task(router.execute("{ topProducts(first: 1) { name } }"))
    await asyncio.sleep(0.01)
    reloader.start()
    try:
        path.write_text(WITH_STOCK)
        for _ in range(100):
            if reloader.reloads:
                break
            await asyncio.sleep(0.02)
        assert reloader.reloads == 1
        transport.gate.set()
        assert await in_flight == {"data": {"topProducts": [{"name": "Table"}]}}
        after = await router.execute(STOCK)
        assert after == {"data": {"topProducts": [{"name": "Table", "inStock": True}]}}

        # A broken file is ignored: the router keeps serving the last good supergraph.
        path.write_text("type Query {")
        assert reloader.reload() is False
        assert await router.execute(STOCK) == after

        # SIGHUP reloads at once, with polling off (here: back to products only).
        await reloader.stop()
        reloader.poll_seconds = 0
        reloader.start()
        path.write_text(PRODUCTS_ONLY)
        await asyncio.sleep(0.1)
        assert reloader.reloads == 1
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            if reloader.reloads == 2:
                break
            await asyncio.sleep(0.02)
        assert reloader.reloads == 2
        gone = await router.execute(STOCK)
        assert gone["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    finally:
        await reloader.stop()
