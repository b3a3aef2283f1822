"""A subgraph's own GraphiQL page (Strawberry's endpoint, our vendored page) runs a query in
headless Chromium with no network beyond the server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graph.graphiql import ASSETS_DIR, ASSETS_PATH
from nexus.assembly.app import SubgraphGraphQL
from nexus.config import Settings
from nexus.stores import Stores
from nexus.subgraph import Subgraph
from tests.graph.browser import HeadlessChromium
from tests.graph.interop.servers import free_port
from tests.graph.test_entities import SCHEMAS
from tests.graph.test_graphiql_browser import chromium  # noqa: F401 (the fixture)


@pytest.fixture
def subgraph_url() -> Iterator[str]:
    accounts = Subgraph("accounts", SCHEMAS["accounts"], lambda *_: {})
    endpoint = SubgraphGraphQL(accounts, Stores(Settings.from_env({})))
    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR)),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_subgraph_graphiql_page_runs_a_query_offline(
    subgraph_url: str,
    chromium: HeadlessChromium,  # noqa: F811
) -> None:
    # Strawberry runs a GET that carries `?query=`, so the page opens on its default query.
    page = chromium.open(f"{subgraph_url}/graphql")
    chromium.wait_for(page, "!!document.querySelector('.graphiql-execute-button')")
    chromium.evaluate(page, "document.querySelector('.graphiql-execute-button').click()")
    response = chromium.wait_for(
        page,
        "[document.querySelector('.graphiql-response')?.innerText || '']"
        ".find(text => text.includes('__typename'))",
    )
    assert '"__typename": "Query"' in response
