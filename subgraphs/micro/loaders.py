"""The request context: fresh DataLoaders per request over the micro repository."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from aiodataloader import DataLoader

from nexus.auth import ANONYMOUS, Caller
from nexus.stores import Stores
from nexus.stores.bus import Bus
from subgraphs.close_history import load_close_histories
from subgraphs.micro.analytics import MicroAnalytics
from subgraphs.micro.ddl import DATABASE
from subgraphs.micro.filings import FilingsReader
from subgraphs.micro.repository import MicroRepository


@dataclass
class MicroContext:
    repository: MicroRepository
    bus: Bus
    caller: Caller = ANONYMOUS
    stocks: DataLoader = field(init=False)
    candles: DataLoader = field(init=False)
    close_histories: DataLoader = field(init=False)
    latest_prices: DataLoader = field(init=False)
    post_stats: DataLoader = field(init=False)
    mention_volumes: DataLoader = field(init=False)
    latest_posts: DataLoader = field(init=False)
    posts: DataLoader = field(init=False)
    similar_posts: DataLoader = field(init=False)
    influencers: DataLoader = field(init=False)
    posts_pages: DataLoader = field(init=False)
    authors: DataLoader = field(init=False)
    companies: DataLoader = field(init=False)
    latest_filings: DataLoader = field(init=False)
    filings_pages: DataLoader = field(init=False)
    facts_pages: DataLoader = field(init=False)
    analytics: MicroAnalytics = field(init=False)

    def __post_init__(self) -> None:
        self.stocks = DataLoader(self.repository.stocks_by_symbol)
        self.candles = DataLoader(self.repository.candles)
        self.close_histories = DataLoader(
            partial(load_close_histories, self.repository.store, DATABASE)
        )
        self.latest_prices = DataLoader(self.repository.latest_prices)
        self.post_stats = DataLoader(self.repository.post_stats)
        self.mention_volumes = DataLoader(self.repository.mention_volumes)
        self.latest_posts = DataLoader(self.repository.latest_posts)
        self.posts = DataLoader(self.repository.posts_by_id)
        self.similar_posts = DataLoader(self.repository.similar_post_ids)
        self.influencers = DataLoader(self.repository.influencers)
        self.posts_pages = DataLoader(self.repository.posts_pages)
        self.authors = DataLoader(self.repository.authors)
        filings = FilingsReader(self.repository.store, self.repository.database)
        self.companies = DataLoader(filings.companies)
        self.latest_filings = DataLoader(filings.latest_filings)
        self.filings_pages = DataLoader(filings.filings_pages)
        self.facts_pages = DataLoader(filings.facts_pages)
        self.analytics = MicroAnalytics(self.repository.store, self.candles)


def make_context(stores: Stores, caller: Caller = ANONYMOUS) -> MicroContext:
    """A new context per request, so a DataLoader's cache never outlives its request."""
    return MicroContext(
        MicroRepository(stores.require_analytics(), stores.require_vectors()),
        stores.require_bus(),
        caller,
    )
