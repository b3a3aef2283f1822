"""GraphiQL, served from vendored assets, loads in headless Chromium and runs a query."""

import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn

from graph.gateway import create_app
from tests.graph.browser import HeadlessChromium, chromium_binary
from tests.graph.interop.servers import free_port
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS


@pytest.fixture
def gateway_url() -> Iterator[str]:
    router, _ = router_over(SCHEMAS)
    port = free_port()
    config = uvicorn.Config(create_app(router), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def chromium() -> Iterator[HeadlessChromium]:
    binary = chromium_binary()
    if binary is None:
        reason = (
            "No Chromium on PATH: scripts/test installs Debian's chromium-headless-shell when run "
            "as root; otherwise `apt-get install chromium-headless-shell` (or chromium)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the GraphiQL browser test cannot run. {reason}")
        pytest.skip(reason)
    browser = HeadlessChromium(binary)
    yield browser
    browser.close()


def test_graphiql_runs_a_query_in_a_browser(gateway_url: str, chromium: HeadlessChromium) -> None:
    page = chromium.open(f"{gateway_url}/graphql?query={quote('{ me { name } }')}")
    chromium.wait_for(page, "!!document.querySelector('.graphiql-execute-button')")
    chromium.evaluate(page, "document.querySelector('.graphiql-execute-button').click()")
    response = chromium.wait_for(
        page,
        "[document.querySelector('.graphiql-response')?.innerText || '']"
        ".find(text => text.includes('Ada Lovelace'))",
    )
    assert '"name": "Ada Lovelace"' in response


class ContentTypes:
    """ASGI middleware noting the content type of every response."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                self.seen.append(headers.get(b"content-type", b"").decode())
            await send(message)

        await self.app(scope, receive, noting)


def test_graphiql_merges_a_deferred_fragment(chromium: HeadlessChromium) -> None:
    # GraphiQL's fetcher asks for multipart/mixed and merges the `incremental` payloads (meros).
    router, _ = router_over(SCHEMAS)
    app = ContentTypes(create_app(router))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        query = '{ topProducts(first: 1) { name ... @defer(label: "stock") { inStock } } }'
        page = chromium.open(f"http://127.0.0.1:{port}/graphql?query={quote(query)}")
        chromium.wait_for(page, "!!document.querySelector('.graphiql-execute-button')")
        chromium.evaluate(page, "document.querySelector('.graphiql-execute-button').click()")
        response = chromium.wait_for(
            page,
            "[document.querySelector('.graphiql-response')?.innerText || '']"
            ".find(text => text.includes('inStock'))",
        )
    finally:
        server.should_exit = True
        thread.join(10)
    assert '"name": "Table"' in response
    assert '"inStock": true' in response
    assert any(seen.startswith("multipart/mixed") for seen in app.seen)  # delivered incrementally
