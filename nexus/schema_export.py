"""The composed schemas of our four subgraphs: supergraph SDL and the client schema."""

from __future__ import annotations

from collections.abc import Mapping

from graph.compose import SubgraphSDL, client_schema_sdl, compose_supergraph
from nexus.runtime import SUBGRAPH_NAMES, load_subgraph

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
