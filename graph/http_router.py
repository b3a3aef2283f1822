"""A router over any standard supergraph, reaching each subgraph at its `join__graph` URL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from graph.edge.demand import DemandControl
from graph.edge.identity import CallerSigner
from graph.edge.usage import UsageMeter
from graph.executor import HttpTransport
from graph.executor.calls import SubgraphCalls
from graph.limits import RequestLimits
from graph.router import Router
from graph.subscriptions.remote import WebSocketStreams
from graph.supergraph import read_supergraph


def http_router(
    supergraph_sdl: str,
    *,
    timeout: float = 10.0,
    limits: RequestLimits | None = None,
    url_overrides: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    identity: CallerSigner | None = None,
    demand: DemandControl | None = None,
    usage: UsageMeter | None = None,
    calls: SubgraphCalls | None = None,
) -> Router:
    """`url_overrides` (subgraph name -> URL) replace the URLs written in the supergraph;
    `identity` signs each operation's caller into the calls to subgraphs; `calls` sets
    per-subgraph timeouts and retries."""
    supergraph = read_supergraph(supergraph_sdl)
    urls = {name: endpoint.url for name, endpoint in supergraph.subgraphs.items()}
    urls.update(url_overrides or {})
    transport = HttpTransport(
        urls, timeout=timeout, headers=headers, identity=identity, calls=calls
    )
    streams = WebSocketStreams(urls, identity=identity)
    return Router(supergraph, transport, limits=limits, streams=streams, demand=demand, usage=usage)


def http_router_from_file(path: str | Path, **options: object) -> Router:
    """`nexus router --supergraph FILE`: read the file, then as `http_router`."""
    return http_router(Path(path).read_text(encoding="utf-8"), **options)  # type: ignore[arg-type]
