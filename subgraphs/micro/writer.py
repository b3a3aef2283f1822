"""Ingestion's writes to the micro store: posts (embedded and scored), authors, companies,
filings and facts. Idempotent: each write skips what the store already holds, so a re-run or a
redelivered record adds no row, re-embeds no text and reports nothing new.

Embedding and scoring (`embedding.analyse`) is CPU-heavy: it runs in a worker thread, the same
path the demo load and the replay feed use.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from nexus.stores.analytics import AnalyticsStore
from nexus.stores.vectors import VectorStore
from subgraphs.micro.ddl import DATABASE, INSTANT, statements
from subgraphs.micro.embedding import DIMENSIONS, analyse, text_key
from subgraphs.micro.filings import (
    FACT_COLUMNS,
    FILING_COLUMNS,
    CompanyRecord,
    FactRecord,
    FilingRecord,
)
from subgraphs.micro.records import POST_COLUMNS, AuthorRecord, PostRecord
from subgraphs.micro.repository import TEXTS_COLLECTION

_post_locks: dict[str, asyncio.Lock] = {}
AUTHOR_COLUMNS = ("source", "handle", "name", "followers", "following", "posts", "seen_at")


class MicroWriter:
    def __init__(
        self, store: AnalyticsStore, vectors: VectorStore, database: str = DATABASE
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.database = database

    async def ensure_schema(self) -> None:
        for statement in statements(self.database):
            await self.store.command(statement)
        await self.vectors.ensure_collection(TEXTS_COLLECTION, DIMENSIONS)

    async def _existing(self, table: str, column: str, values: Sequence[str]) -> set[str]:
        if not values:
            return set()
        rows = await self.store.query(
            f"SELECT DISTINCT {column} AS value FROM {self.database}.{table} "
            f"WHERE {column} IN {{values:Array(String)}}",
            {"values": sorted(set(values))},
        )
        return {row["value"] for row in rows}

    async def store_posts(
        self, posts: Sequence[PostRecord], authors: Sequence[AuthorRecord] = ()
    ) -> list[PostRecord]:
        """Store the posts not stored yet, embedded and scored; the stored ones, as stored
        (with their sentiment), in the order given. Authors are upserted (the newest sighting
        of an account wins)."""
        # X search and the X stream can deliver one post at once: the check and the insert are
        # one step per database, so the post is stored, and announced, once.
        async with _post_locks.setdefault(self.database, asyncio.Lock()):
            return await self._store_posts(posts, authors)

    async def _store_posts(
        self, posts: Sequence[PostRecord], authors: Sequence[AuthorRecord]
    ) -> list[PostRecord]:
        known = await self._existing("posts", "id", [post.id for post in posts])
        fresh = list({post.id: post for post in posts if post.id not in known}.values())
        if fresh:
            analysis = await asyncio.to_thread(analyse, [post.text for post in fresh])
            fresh = [
                dataclasses.replace(
                    post,
                    sentiment=round(float(score), 4),
                    sentiment_probabilities=tuple(round(float(p), 4) for p in probabilities),
                )
                for post, score, probabilities in zip(
                    fresh, analysis.scores, analysis.probabilities, strict=True
                )
            ]
            # Vectors first: a post whose vector is missing would be unreachable by
            # `similar`; a vector without its post (a crash between the two) is harmless.
            wordings = {
                text_key(post.text): vector
                for post, vector in zip(fresh, analysis.vectors.tolist(), strict=True)
            }
            await self.vectors.upsert(
                TEXTS_COLLECTION, [{"id": key, "vector": v} for key, v in wordings.items()]
            )
            await self.store.insert(
                f"{self.database}.posts", [*POST_COLUMNS, "url"], [_post_row(p) for p in fresh]
            )
        if authors:
            await self.store.insert(
                f"{self.database}.authors",
                AUTHOR_COLUMNS,
                [[getattr(author, column) for column in AUTHOR_COLUMNS] for author in authors],
            )
        return fresh

    async def store_companies(self, companies: Sequence[CompanyRecord]) -> None:
        """Store the companies, and add a stock (ticker, EDGAR's company name) for each ticker
        `stocks` does not list yet, so `stock(symbol:)` finds a company ingested from EDGAR;
        listed stocks keep their names."""
        if not companies:
            return
        await self.store.insert(
            f"{self.database}.companies",
            ["symbol", "cik", "name"],
            [[c.symbol, c.cik, c.name] for c in companies],
        )
        listed = await self._existing("stocks", "symbol", [c.symbol for c in companies])
        new = {c.symbol: c.name for c in companies if c.symbol not in listed}
        if new:
            await self.store.insert(
                f"{self.database}.stocks", ["symbol", "name"], [list(pair) for pair in new.items()]
            )

    async def store_filings(self, filings: Sequence[FilingRecord]) -> list[FilingRecord]:
        """Store the filings not stored yet (by accession); those stored."""
        known = await self._existing("filings", "accession", [f.accession for f in filings])
        fresh = list({f.accession: f for f in filings if f.accession not in known}.values())
        if fresh:
            await self.store.insert(
                f"{self.database}.filings",
                FILING_COLUMNS,
                [[getattr(filing, column) for column in FILING_COLUMNS] for filing in fresh],
            )
        return fresh

    async def store_facts(self, facts: Sequence[FactRecord]) -> list[FactRecord]:
        """Store the facts not stored yet (a value per concept, unit, period and filing)."""
        keyed = {_fact_key(fact): fact for fact in facts}
        known = await self._existing(
            "facts",
            "concat(taxonomy, ':', concept, ':', unit, ':', toString(period_end), ':', "
            "toString(period_start), ':', accession, ':', symbol)",
            list(keyed),
        )
        fresh = [fact for key, fact in keyed.items() if key not in known]
        if fresh:
            await self.store.insert(
                f"{self.database}.facts", FACT_COLUMNS, [_fact_row(fact) for fact in fresh]
            )
        return fresh


def _fact_key(fact: FactRecord) -> str:
    start = fact.period_start.isoformat() if fact.period_start else INSTANT
    return (
        f"{fact.taxonomy}:{fact.concept}:{fact.unit}:{fact.period_end.isoformat()}:{start}:"
        f"{fact.accession}:{fact.symbol}"
    )


def _fact_row(fact: FactRecord) -> list[Any]:
    row = [getattr(fact, column) for column in FACT_COLUMNS]
    row[FACT_COLUMNS.index("period_start")] = fact.period_start or dt.date.fromisoformat(INSTANT)
    return row


def _post_row(post: PostRecord) -> list[Any]:
    return [
        post.id,
        post.source,
        post.author,
        post.author_followers,
        post.text,
        post.created_at,
        list(post.cashtags),
        post.sentiment,
        post.synthetic,
        list(post.sentiment_probabilities),
        post.url,
    ]
