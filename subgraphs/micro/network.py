"""Co-mention networks over a period, laid out in 2-D for front ends.

Two graphs, read from micro's own posts:
- CASHTAGS: a node per cashtag (size: posts mentioning it), an edge between two cashtags
  named in the same post (weight: such posts);
- INFLUENCERS: authors with at least `minFollowers` followers and the cashtags they post
  about, an edge per (author, cashtag) pair (weight: posts); node size is posts.
Positions come from `engines.layout.force_directed_layout`: every network of a request in
ONE call per distinct seed (smaller graphs padded and masked), in a worker thread. Edge
weights are scaled to [0, 1] by the heaviest edge before the layout, so the picture does not
depend on volume.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import strawberry

from engines.layout import force_directed_layout
from nexus.errors import BadUserInput
from nexus.metrics import engine_call
from nexus.stores.analytics import AnalyticsStore
from subgraphs.micro.ddl import DATABASE

MAX_NODES = 200
LAYOUT_ITERATIONS = 300


@strawberry.enum(description="Which co-mention network to draw.")
class NetworkKind(enum.Enum):
    CASHTAGS = strawberry.enum_value(
        "cashtags", description="Cashtags linked when named in the same post."
    )
    INFLUENCERS = strawberry.enum_value(
        "influencers", description="Large accounts linked to the cashtags they post about."
    )


@strawberry.enum(description="What a network node stands for.")
class NodeKind(enum.Enum):
    CASHTAG = strawberry.enum_value("cashtag", description="A `$TICKER` tag.")
    AUTHOR = strawberry.enum_value("author", description="A posting account.")


@strawberry.type(description="A node of a co-mention network, placed by a force layout.")
class NetworkNode:
    id: str = strawberry.field(description="The cashtag (upper case) or the author handle.")
    kind: NodeKind = strawberry.field(description="CASHTAG or AUTHOR.")
    posts: int = strawberry.field(description="Posts in the period it appears in (its size).")
    followers: int | None = strawberry.field(description="Authors: followers; null for tags.")
    x: float = strawberry.field(description="Horizontal position in [-1, 1] (unitless).")
    y: float = strawberry.field(description="Vertical position in [-1, 1] (unitless).")


@strawberry.type(description="An undirected edge of a co-mention network.")
class NetworkEdge:
    source: str = strawberry.field(description="Id of one end.")
    target: str = strawberry.field(description="Id of the other end.")
    weight: int = strawberry.field(description="Posts linking the two ends.")


@strawberry.type(description="A co-mention network over a period, ready to draw.")
class MentionNetwork:
    kind: NetworkKind = strawberry.field(description="CASHTAGS or INFLUENCERS.")
    from_: dt.date = strawberry.field(name="from", description="First day (UTC), inclusive.")
    to: dt.date = strawberry.field(description="Last day (UTC), inclusive.")
    nodes: list[NetworkNode] = strawberry.field(description="Nodes, largest first.")
    edges: list[NetworkEdge] = strawberry.field(description="Edges, heaviest first.")


@dataclass(frozen=True, slots=True)
class NetworkRequest:
    kind: NetworkKind
    start: dt.date
    end: dt.date
    max_nodes: int
    min_followers: int
    seed: int


@dataclass(frozen=True, slots=True)
class NetworkGraph:
    """Nodes (id, kind, posts, followers) and edges (i, j, weight) before the layout."""

    nodes: list[tuple[str, NodeKind, int, int | None]]
    edges: list[tuple[int, int, int]]


def check_network(start: dt.date, end: dt.date, max_nodes: int, min_followers: int) -> None:
    if start > end:
        raise BadUserInput(f"`from` ({start}) is after `to` ({end}): swap them.", argument="from")
    if not 2 <= max_nodes <= MAX_NODES:
        raise BadUserInput(f"maxNodes={max_nodes} must lie in [2, {MAX_NODES}].",
                           argument="maxNodes")
    if min_followers < 0:
        raise BadUserInput("minFollowers must be >= 0.", argument="minFollowers")


_PERIOD = "toDate(created_at) BETWEEN {start:Date} AND {end:Date}"


async def _cashtag_graph(store: AnalyticsStore, key: NetworkRequest) -> NetworkGraph:
    params = {"start": key.start, "end": key.end, "limit": key.max_nodes}
    tags = await store.query(
        f"SELECT symbol, count() AS posts FROM {DATABASE}.mentions FINAL WHERE {_PERIOD} "
        "GROUP BY symbol ORDER BY posts DESC, symbol LIMIT {limit:UInt32}",
        params,
    )
    index = {row["symbol"]: i for i, row in enumerate(tags)}
    pairs = await store.query(
        f"SELECT a, b, count() AS posts FROM {DATABASE}.posts FINAL "
        "ARRAY JOIN cashtags AS a ARRAY JOIN cashtags AS b "
        f"WHERE a < b AND {_PERIOD} "
        "AND a IN {tags:Array(String)} AND b IN {tags:Array(String)} "
        "GROUP BY a, b ORDER BY posts DESC, a, b",
        {**params, "tags": list(index)},
    )
    return NetworkGraph(
        nodes=[(row["symbol"], NodeKind.CASHTAG, int(row["posts"]), None) for row in tags],
        edges=[(index[row["a"]], index[row["b"]], int(row["posts"])) for row in pairs],
    )


async def _influencer_graph(store: AnalyticsStore, key: NetworkRequest) -> NetworkGraph:
    rows = await store.query(
        "SELECT author, max(author_followers) AS followers, symbol, count() AS posts "
        f"FROM {DATABASE}.posts FINAL ARRAY JOIN cashtags AS symbol "
        f"WHERE {_PERIOD} AND author_followers >= {{followers:UInt32}} "
        "GROUP BY author, symbol ORDER BY posts DESC, author, symbol",
        {"start": key.start, "end": key.end, "followers": key.min_followers},
    )
    authors: dict[str, list[int]] = {}
    tags: dict[str, int] = {}
    for row in rows:
        author = authors.setdefault(row["author"], [0, int(row["followers"])])
        author[0] += int(row["posts"])
        tags[row["symbol"]] = tags.get(row["symbol"], 0) + int(row["posts"])
    ranked = sorted(
        [(posts, name, NodeKind.AUTHOR, followers) for name, (posts, followers) in authors.items()]
        + [(posts, name, NodeKind.CASHTAG, None) for name, posts in tags.items()],
        key=lambda node: (-node[0], node[1]),
    )[: key.max_nodes]
    nodes = [(name, kind, posts, followers) for posts, name, kind, followers in ranked]
    index = {(name, kind): i for i, (name, kind, _, _) in enumerate(nodes)}
    edges = [
        (index[(row["author"], NodeKind.AUTHOR)], index[(row["symbol"], NodeKind.CASHTAG)],
         int(row["posts"]))
        for row in rows
        if (row["author"], NodeKind.AUTHOR) in index and (row["symbol"], NodeKind.CASHTAG) in index
    ]
    return NetworkGraph(nodes, edges)


@engine_call("force_directed_layout")
def _layout(keys: Sequence[NetworkRequest], graphs: Sequence[NetworkGraph]) -> list[np.ndarray]:
    """Positions of every graph: one engine call per distinct seed (graphs padded and masked)."""
    positions: list[np.ndarray] = [np.zeros((0, 2))] * len(graphs)
    for seed in sorted({key.seed for key in keys}):
        members = [g for g, key in enumerate(keys) if key.seed == seed and graphs[g].nodes]
        if not members:
            continue
        size = max(2, max(len(graphs[g].nodes) for g in members))
        weights = np.zeros((len(members), size, size))
        mask = np.zeros((len(members), size), bool)
        for row, g in enumerate(members):
            mask[row, : len(graphs[g].nodes)] = True
            heaviest = max((w for _, _, w in graphs[g].edges), default=1)
            for i, j, w in graphs[g].edges:
                weights[row, i, j] = weights[row, j, i] = w / heaviest
        laid_out = np.asarray(
            force_directed_layout(
                weights=weights, node_mask=mask, iterations=LAYOUT_ITERATIONS, seed=seed
            )
        )
        for row, g in enumerate(members):
            positions[g] = laid_out[row, : len(graphs[g].nodes)]
    return positions


async def network_batches(
    store: AnalyticsStore, keys: Sequence[NetworkRequest]
) -> list[MentionNetwork | BadUserInput]:
    """DataLoader batch function; a period without posts is that key's BAD_USER_INPUT."""
    graphs = [
        await (_cashtag_graph if key.kind is NetworkKind.CASHTAGS else _influencer_graph)(
            store, key
        )
        for key in keys
    ]
    positions = await asyncio.to_thread(_layout, keys, graphs)
    return [
        BadUserInput(
            f"No posts between {key.start} and {key.end}"
            + (f" by accounts with >= {key.min_followers} followers" if key.kind is
               NetworkKind.INFLUENCERS else "")
            + ": pick a period with data.",
            argument="from",
        )
        if not graph.nodes
        else MentionNetwork(
            kind=key.kind,
            from_=key.start,
            to=key.end,
            nodes=[
                NetworkNode(id=name, kind=kind, posts=posts, followers=followers,
                            x=float(xy[0]), y=float(xy[1]))
                for (name, kind, posts, followers), xy in zip(graph.nodes, place, strict=True)
            ],
            edges=[
                NetworkEdge(source=graph.nodes[i][0], target=graph.nodes[j][0], weight=w)
                for i, j, w in sorted(graph.edges, key=lambda edge: -edge[2])
            ],
        )
        for key, graph, place in zip(keys, graphs, positions, strict=True)
    ]
