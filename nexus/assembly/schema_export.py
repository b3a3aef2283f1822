"""The composed schemas of our four subgraphs: supergraph SDL, the client schema and the REST
API's OpenAPI document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph.compose import SubgraphSDL, client_schema_sdl, compose_supergraph
from nexus.assembly.registry import SUBGRAPH_NAMES, load_subgraph

# Where `nexus subgraph NAME --port P` listens when deployed by the README's recipe.
DEFAULT_SUBGRAPH_URLS = {
    "macro": "http://127.0.0.1:4001/graphql",
    "micro": "http://127.0.0.1:4002/graphql",
    "crypto": "http://127.0.0.1:4003/graphql",
    "platform": "http://127.0.0.1:4004/graphql",
}


def subgraph_sdl(name: str) -> str:
    """The subgraph's federation SDL, exactly as its `_service { sdl }` serves it."""
    result = load_subgraph(name).schema.execute_sync("{ _service { sdl } }")
    if result.errors or not result.data:
        raise RuntimeError(f"subgraph {name} did not print its SDL: {result.errors}")
    sdl: str = result.data["_service"]["sdl"]
    return sdl


def supergraph(urls: Mapping[str, str] | None = None) -> str:
    urls = {**DEFAULT_SUBGRAPH_URLS, **(urls or {})}
    return compose_supergraph(
        [SubgraphSDL(name=name, url=urls[name], sdl=subgraph_sdl(name)) for name in SUBGRAPH_NAMES]
    )


def client_schema() -> str:
    return client_schema_sdl(supergraph())


def openapi_v1() -> dict[str, Any]:
    """The v1 OpenAPI document over the schema our four subgraphs compose (no server needed)."""
    from graph.rest.mapping import load_mapping
    from graph.rest.openapi import openapi_document
    from graph.supergraph import read_supergraph

    return openapi_document(load_mapping(), read_supergraph(supergraph()).api_schema)
