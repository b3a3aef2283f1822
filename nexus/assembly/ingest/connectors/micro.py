"""The micro domain's connectors: SEC EDGAR, X recent search, the X filtered stream, Reddit.
All four write through `MicroSink` (posts embedded and scored as they are stored)."""

from __future__ import annotations

from nexus.assembly.ingest.http import Rate
from nexus.assembly.ingest.micro import fakes, reddit, sec, x
from nexus.assembly.ingest.micro.sink import MicroSink
from nexus.assembly.ingest.source import Connector
from nexus.stores.analytics import AnalyticsStore
from nexus.stores.vectors import VectorStore


def _sink(store: AnalyticsStore, database: str, vectors: VectorStore) -> MicroSink:
    return MicroSink(store, vectors, database)


CONNECTORS = [
    Connector(
        name=sec.NAME,
        domain="micro",
        description="SEC EDGAR company submissions (10-K, 10-Q, 8-K ...) and XBRL company "
        "facts (revenue, net income, EPS, shares outstanding) of NEXUS_SEC_SYMBOLS",
        base_url=sec.DATA_SEC,
        source=sec.SecSource,
        sink=_sink,
        # EDGAR's fair access: ten requests a second at most; no bursts above it.
        rate=Rate(1, 0.1),
        interval_seconds=6 * 3600.0,
        headers=sec.user_agent_headers,
        fake=fakes.sec_app,
        vectors=True,
    ),
    Connector(
        name=x.SEARCH,
        domain="micro",
        description="X API v2 recent search (NEXUS_X_QUERY): posts with cashtags, authors",
        base_url="https://api.x.com",
        source=x.XSearchSource,
        sink=_sink,
        rate=Rate(450, 900),  # app-auth recent search: 450 requests per 15 minutes
        interval_seconds=300.0,
        secrets=("Authorization",),
        headers=x.bearer_headers,
        fake=fakes.x_app,
        vectors=True,
    ),
    Connector(
        name=x.STREAM,
        domain="micro",
        description="X API v2 filtered stream, read NEXUS_X_STREAM_SECONDS per run",
        base_url="https://api.x.com",
        source=x.XStreamSource,
        sink=_sink,
        rate=Rate(50, 900),  # connection attempts: 50 per 15 minutes
        interval_seconds=1.0,  # back on the stream as soon as a run ends
        secrets=("Authorization",),
        headers=x.bearer_headers,
        fake=fakes.x_stream_app,
        live=True,
        vectors=True,
    ),
    Connector(
        name=reddit.NAME,
        domain="micro",
        description="Reddit listings (/r/NAME/new.json) of NEXUS_REDDIT_SUBREDDITS",
        base_url="https://www.reddit.com",
        source=reddit.RedditSource,
        sink=_sink,
        rate=Rate(10, 60),  # unauthenticated clients: about ten requests a minute
        interval_seconds=300.0,
        headers=reddit.user_agent_headers,
        fake=fakes.reddit_app,
        vectors=True,
    ),
]
