"""`@defer` over real HTTP: multipart/mixed (read by meros, the parser of Apollo Client, GraphiQL
and urql, and by Python's standard MIME parser) and Server-Sent Events."""

from __future__ import annotations

import asyncio
import email.parser
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry

from graph.gateway import create_app
from tests.graph.interop.npm import client_modules
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS
from tests.support.live import LiveServer

MEROS_CLIENT = Path(__file__).parent / "interop" / "meros_client.cjs"
MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"


@strawberry.federation.type(name="Product", keys=["upc"])
class RatedProduct:
    upc: str

    @strawberry.field(description="Stars out of 5.")
    def rating(self) -> int:
        if self.upc == "2":
            raise ValueError("No rating for the couch yet.")
        return 4

    @classmethod
    def resolve_reference(cls, upc: str) -> RatedProduct:
        return RatedProduct(upc=upc)


RATINGS = strawberry.federation.Schema(types=[RatedProduct])

STOCK_QUERY = """
query Stock {
  topProducts(first: 2) {
    upc
    name
    ... @defer(label: "stock") { inStock shippingEstimate }
  }
}
"""
PRIMARY = {
    "data": {"topProducts": [{"upc": "1", "name": "Table"}, {"upc": "2", "name": "Couch"}]},
    "hasNext": True,
}
STOCK = {
    "hasNext": False,
    "incremental": [
        {
            "data": {"inStock": True, "shippingEstimate": 20},
            "path": ["topProducts", 0],
            "label": "stock",
        },
        {
            "data": {"inStock": False, "shippingEstimate": 0},
            "path": ["topProducts", 1],
            "label": "stock",
        },
    ],
}


@pytest.fixture
async def served() -> Any:
    router, transport = router_over({**SCHEMAS, "ratings": RATINGS})
    async with LiveServer(create_app(router, rest=False)) as server:
        server.transport = transport  # type: ignore[attr-defined]
        yield server


def _multipart_parts(content_type: str, body: bytes) -> list[Any]:
    """The JSON parts of a multipart body, by the standard library's MIME parser (RFC 2046)."""
    message = email.parser.BytesParser().parsebytes(
        f"content-type: {content_type}\r\n\r\n".encode() + body
    )
    assert message.is_multipart()
    parts: list[Any] = list(message.get_payload())
    assert all(p.get_content_type() == "application/json" for p in parts)
    return [json.loads(p.get_payload(decode=True)) for p in parts]


async def test_meros_reads_the_primary_then_the_deferred_fragment(served: Any) -> None:
    modules = client_modules()
    body = json.dumps({"query": STOCK_QUERY})
    # The server runs in this event loop: the client runs as a subprocess awaited, not blocked on.
    node = await asyncio.create_subprocess_exec(
        "node",
        str(MEROS_CLIENT),
        f"{served.url}/graphql",
        body,
        MULTIPART,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": str(modules)},
    )
    stdout, stderr = await asyncio.wait_for(node.communicate(), 60)
    assert node.returncode == 0, stderr.decode()
    parts = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [p["json"] for p in parts] == [True, True]
    assert [p["body"] for p in parts] == [PRIMARY, STOCK]
    assert parts[0]["contentType"].startswith("application/json")


async def test_multipart_with_the_standard_parser_and_its_own_fetches(served: Any) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        response = await client.post(
            "/graphql", json={"query": STOCK_QUERY}, headers={"accept": MULTIPART}
        )
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/mixed")
    assert 'boundary="graphql"' in content_type and "deferSpec=20220824" in content_type
    assert response.content.endswith(b"\r\n--graphql--\r\n")
    assert _multipart_parts(content_type, response.content) == [PRIMARY, STOCK]
    # The deferred fragment ran as its own operation: the primary never asked inventory.
    queries = [(service, query) for service, query, _ in served.transport.requests]
    stock_fetches = [q for s, q in queries if s == "inventory"]
    assert len(stock_fetches) == 1 and "shippingEstimate" in stock_fetches[0]
    # Two root fetches: the primary's, and the deferred part's, the only one fetching the
    # @requires inputs of shippingEstimate.
    product_fetches = [q for s, q in queries if s == "products"]
    assert sorted("weight" in q for q in product_fetches) == [False, True]


async def test_server_sent_events_carry_the_same_payloads(served: Any) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        response = await client.post(
            "/graphql", json={"query": STOCK_QUERY}, headers={"accept": "text/event-stream"}
        )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\n\n") if e.strip()]
    assert events[-1] == "event: complete\ndata:"
    payloads = [json.loads(e.removeprefix("event: next\ndata: ")) for e in events[:-1]]
    assert payloads == [PRIMARY, STOCK]


async def test_errors_named_fragments_nesting_and_defer_if(served: Any) -> None:
    query = """
    query Rated($later: Boolean!) {
      topProducts(first: 2) {
        name
        ...Rating @defer(label: "rating", if: $later)
      }
      me { ... @defer { name ... @defer(label: "inner") { username } } }
    }
    fragment Rating on Product { rating }
    """
    async with httpx.AsyncClient(base_url=served.url) as client:
        deferred = await client.post(
            "/graphql",
            json={"query": query, "variables": {"later": True}},
            headers={"accept": MULTIPART},
        )
    parts = _multipart_parts(deferred.headers["content-type"], deferred.content)
    assert parts[0] == {
        "data": {"topProducts": [{"name": "Table"}, {"name": "Couch"}], "me": {}},
        "hasNext": True,
    }
    incremental = [item for part in parts[1:] for item in part.get("incremental", ())]
    by_path = {(item.get("label"), tuple(item["path"])): item for item in incremental}
    assert by_path[("rating", ("topProducts", 0))] == {
        "data": {"rating": 4},
        "path": ["topProducts", 0],
        "label": "rating",
    }
    couch = by_path[("rating", ("topProducts", 1))]
    assert couch["data"] is None  # the non-null rating failed: the fragment's object is null
    assert couch["errors"][0]["message"] == "No rating for the couch yet."
    assert couch["errors"][0]["path"] == ["topProducts", 1, "rating"]
    assert by_path[(None, ("me",))]["data"] == {"name": "Ada Lovelace"}
    assert by_path[("inner", ("me",))]["data"] == {"username": "ada"}
    # The inner fragment comes after the one holding it; the last payload ends the stream.
    order = [(item.get("label"), tuple(item["path"])) for item in incremental]
    assert order.index((None, ("me",))) < order.index(("inner", ("me",)))
    assert [p["hasNext"] for p in parts] == [True] * (len(parts) - 1) + [False]


async def test_defer_if_false_or_no_multipart_accept_is_one_response(served: Any) -> None:
    query = """
    query Rated($later: Boolean!) {
      topProducts(first: 1) { name ...Rating @defer(if: $later) }
    }
    fragment Rating on Product { rating }
    """
    whole = {"data": {"topProducts": [{"name": "Table", "rating": 4}]}}
    async with httpx.AsyncClient(base_url=served.url) as client:
        at_once = await client.post(
            "/graphql",
            json={"query": query, "variables": {"later": False}},
            headers={"accept": MULTIPART},
        )
        plain_client = await client.post(
            "/graphql", json={"query": query, "variables": {"later": True}}
        )
    for response in (at_once, plain_client):
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == whole


async def test_introspection_offers_defer(served: Any) -> None:
    query = "{ __schema { directives { name args { name } } } }"
    async with httpx.AsyncClient(base_url=served.url) as client:
        response = await client.post("/graphql", json={"query": query})
        sdl = await client.get("/schema.graphql")
    directives = {d["name"]: d for d in response.json()["data"]["__schema"]["directives"]}
    assert {a["name"] for a in directives["defer"]["args"]} == {"if", "label"}
    assert "@defer" not in sdl.text  # the composed client schema, as composition prints it
