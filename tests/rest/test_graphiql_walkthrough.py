"""The README walkthrough in GraphiQL: a partner signs up, makes an API key, puts it in
GraphiQL's headers pane and runs a cross-subgraph query with it, in headless Chromium against
the assembled graph (four subgraphs, the platform store) served over HTTP."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import httpx
from starlette.applications import Starlette

from tests.graph.browser import HeadlessChromium
from tests.graph.test_graphiql_browser import chromium  # noqa: F401 (the fixture)
from tests.rest.test_callers import api_key
from tests.support.live import LiveServer

# Three subgraphs: the platform (the organisation's keys), crypto (the token), micro (its posts).
QUERY = '{ apiKeys { name } token(symbol: "BTC") { name postCount } }'
HEADERS_TAB = (
    "[...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Headers')"
)
HEADERS_SHOWN = "document.querySelector('.graphiql-editor-tool')?.ariaLabel === 'Headers'"
# CodeMirror 5 keeps its editor on the wrapper element; the hidden one is the variables'.
HEADER_EDITOR = (
    "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
)
RESPONSE = "document.querySelector('.graphiql-response')?.innerText || ''"


async def test_graphiql_runs_a_cross_subgraph_query_with_an_api_key(
    app: Starlette,
    client: httpx.AsyncClient,
    chromium: HeadlessChromium,  # noqa: F811
) -> None:
    secret = await api_key(client)  # signUp, then createApiKey with the access token
    async with LiveServer(app) as server:
        # The browser calls block: run them off the loop that serves the page.
        async def run(method: str, *args: str) -> object:
            return await asyncio.to_thread(getattr(chromium, method), *args)

        page = await run("open", f"{server.url}/graphql?query={quote(QUERY)}")
        await run("wait_for", page, "!!document.querySelector('.graphiql-execute-button')")
        await run("evaluate", page, f"{HEADERS_TAB}.click()")
        await run("wait_for", page, HEADERS_SHOWN)
        headers = json.dumps({"x-api-key": secret})
        await run("evaluate", page, f"{HEADER_EDITOR}.CodeMirror.setValue({json.dumps(headers)})")
        await asyncio.sleep(1)  # GraphiQL takes an edit into its tab state after a short debounce
        await run("evaluate", page, "document.querySelector('.graphiql-execute-button').click()")
        shown = await run("wait_for", page, f"[{RESPONSE}].find(t => t.includes('Bitcoin'))")
    # The response pane shows the JSON as text (CodeMirror lines, not parseable as a whole).
    text = " ".join(str(shown).split())
    assert '"apiKeys": [ { "name": "sheet" } ]' in text  # the key's own organisation
    assert '"name": "Bitcoin"' in text and '"postCount": ' in text
    assert '"errors"' not in text
