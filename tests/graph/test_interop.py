"""Interoperability: Hive's composition agrees with ours, and Hive Gateway serving our supergraph
over our subgraphs returns what our router returns.

Node packages are installed by the tests into a cache directory (NEXUS_NPM_CACHE, default
~/.cache/nexus-alpha/npm); the tests skip only where npm is absent.
"""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry

from graph.compose import SubgraphSDL, client_schema_sdl, compose_supergraph
from graph.gateway import create_app
from graph.http_router import http_router
from graph.in_process import subgraph_sdl
from graph.supergraph import read_supergraph
from tests.graph import (
    test_abstract_types,
    test_entities,
    test_interface_object,
    test_keys,
    test_policies,
    test_progressive_override,
    test_requires_arguments,
    test_shareable,
)
from tests.graph.interop.npm import node_modules
from tests.graph.interop.servers import hive_gateway, serve_subgraphs

COMPOSE_SCRIPT = Path(__file__).parent / "interop" / "compose.cjs"
# Hive's composition reads Federation up to v2.9; Strawberry's default is newer.
VERSION = "2.9"


def _schemas(module: Any) -> dict[str, strawberry.federation.Schema]:
    """The test module's subgraphs, rebuilt declaring Federation v2.9."""
    return {
        name: strawberry.federation.Schema(**args, federation_version=VERSION)
        for name, args in module.SCHEMA_ARGS.items()
    }


def _hive_compose(subgraphs: list[SubgraphSDL]) -> dict[str, Any]:
    env = dict(os.environ, NODE_PATH=str(node_modules()))
    payload = json.dumps([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in subgraphs])
    completed = subprocess.run(
        ["node", str(COMPOSE_SCRIPT)],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return dict(json.loads(completed.stdout))


@pytest.mark.parametrize(
    "module",
    [
        test_entities,
        test_keys,
        test_abstract_types,
        test_interface_object,
        test_shareable,
        test_requires_arguments,
        test_policies,
        test_progressive_override,
    ],
)
def test_hive_composition_agrees_with_ours(module: Any) -> None:
    subgraphs = [
        SubgraphSDL(name, f"http://{name}/graphql", subgraph_sdl(schema))
        for name, schema in _schemas(module).items()
    ]
    hive = _hive_compose(subgraphs)
    assert hive["errors"] == []
    ours = compose_supergraph(subgraphs)
    assert client_schema_sdl(hive["supergraphSdl"]) == client_schema_sdl(ours)
    theirs = read_supergraph(hive["supergraphSdl"])
    assert sorted(theirs.subgraphs) == sorted(read_supergraph(ours).subgraphs)


OPERATIONS = [
    (test_entities.SHOP_QUERY, {"first": 3}),
    ("{ topProducts(first: 3) { upc inStock reviews { author { username } } } }", None),
    (
        "query($n: Int = 1) { a: topProducts(first: $n) { ...P } me { name username } }"
        " fragment P on Product { name shippingEstimate }",
        None,
    ),
]


@pytest.fixture(scope="module", params=["gateway-runtime", "hive-router-runtime"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    modules = node_modules()
    schemas = _schemas(test_entities)
    with serve_subgraphs(schemas) as urls:
        supergraph = compose_supergraph(
            [
                SubgraphSDL(name, urls[name], subgraph_sdl(schema))
                for name, schema in schemas.items()
            ]
        )
        directory = tmp_path_factory.mktemp("hive")
        supergraph_file = directory / "supergraph.graphql"
        supergraph_file.write_text(supergraph)
        router_runtime = request.param == "hive-router-runtime"
        log = directory / "hive.log"
        with hive_gateway(modules, supergraph_file, log, router_runtime=router_runtime) as hive_url:
            yield supergraph, hive_url


@pytest.mark.parametrize(("query", "variables"), OPERATIONS)
async def test_hive_gateway_and_our_router_return_the_same_data(
    servers: tuple[str, str], query: str, variables: dict[str, Any] | None
) -> None:
    supergraph, hive_url = servers
    body = {"query": query, "variables": variables}
    async with httpx.AsyncClient(timeout=30) as client:
        hive = (await client.post(hive_url, json=body)).json()
    router = http_router(supergraph)
    transport = httpx.ASGITransport(app=create_app(router))
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus") as client:
        ours = (await client.post("/graphql", json=body)).json()
    await router.close()
    assert "errors" not in hive
    assert ours == hive


def test_hive_composes_our_four_subgraphs_into_the_same_client_schema() -> None:
    from nexus.assembly.registry import SUBGRAPH_NAMES
    from nexus.assembly.schema_export import subgraph_sdl as served_sdl

    # Served as they are: our subgraphs declare Federation v2.9 (nexus.graphql_errors).
    subgraphs = [
        SubgraphSDL(name, f"http://{name}/graphql", served_sdl(name)) for name in SUBGRAPH_NAMES
    ]
    hive = _hive_compose(subgraphs)
    assert hive["errors"] == []
    assert client_schema_sdl(hive["supergraphSdl"]) == client_schema_sdl(
        compose_supergraph(subgraphs)
    )
