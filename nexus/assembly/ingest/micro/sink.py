"""The micro sink: posts (embedded and scored as they are stored), authors, companies, SEC
filings and XBRL facts, into the micro store; a `social.posts` event for every new post.

Idempotent through `MicroWriter`: a record already stored (same post id, accession number,
fact key) is skipped, so a replayed batch adds no row and publishes no event twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

from nexus.assembly.ingest.records import DomainEvent, Record, Written
from nexus.events import SOCIAL_CHANNEL, SocialPost, encode
from nexus.stores.analytics import AnalyticsStore
from nexus.stores.vectors import VectorStore
from subgraphs.micro.filings import CompanyRecord, FactRecord, FilingRecord
from subgraphs.micro.records import AuthorRecord, PostRecord
from subgraphs.micro.writer import MicroWriter

KINDS = frozenset({"post", "company", "filing", "fact"})


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def _time(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _post(payload: Mapping[str, Any]) -> tuple[PostRecord, AuthorRecord]:
    text = str(payload["text"])
    if not text.strip():
        raise ValueError("empty text")
    post = PostRecord(
        id=str(payload["id"]),
        source=str(payload["source"]),
        author=str(payload["author"]),
        author_followers=_count(payload.get("author_followers")),
        text=text,
        created_at=_time(payload["created_at"]),
        cashtags=tuple(str(tag).upper() for tag in payload["cashtags"]),
        sentiment=None,
        synthetic=False,
        url=str(payload.get("url") or ""),
    )
    profile = payload["profile"]
    author = AuthorRecord(
        source=post.source,
        handle=post.author,
        name=str(profile.get("name") or post.author),
        followers=_count(profile.get("followers")),
        following=_count(profile.get("following")),
        posts=_count(profile.get("posts")),
        seen_at=_time(profile.get("seen_at") or payload["created_at"]),
    )
    return post, author


def _company(payload: Mapping[str, Any]) -> CompanyRecord:
    return CompanyRecord(str(payload["symbol"]), int(payload["cik"]), str(payload["name"]))


def _filing(payload: Mapping[str, Any]) -> FilingRecord:
    report, accepted = payload.get("report_date"), payload.get("accepted_at")
    return FilingRecord(
        symbol=str(payload["symbol"]),
        cik=int(payload["cik"]),
        accession=str(payload["accession"]),
        form=str(payload["form"]),
        filed=_date(payload["filed"]),
        report_date=_date(report) if report else None,
        accepted_at=_time(accepted) if accepted else None,
        primary_document=str(payload["primary_document"]),
        description=str(payload.get("description") or ""),
    )


def _fact(payload: Mapping[str, Any]) -> FactRecord:
    start = payload.get("period_start")
    return FactRecord(
        symbol=str(payload["symbol"]),
        taxonomy=str(payload["taxonomy"]),
        concept=str(payload["concept"]),
        unit=str(payload["unit"]),
        period_start=_date(start) if start else None,
        period_end=_date(payload["period_end"]),
        value=float(payload["value"]),
        fiscal_year=_count(payload.get("fiscal_year")),
        fiscal_period=str(payload.get("fiscal_period") or ""),
        form=str(payload["form"]),
        filed=_date(payload["filed"]),
        accession=str(payload["accession"]),
    )


class MicroSink:
    kinds = KINDS

    def __init__(
        self,
        store: AnalyticsStore,
        vectors: VectorStore,
        database: str,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.writer = MicroWriter(store, vectors, database)
        self.wall_clock = wall_clock

    async def ensure_schema(self) -> None:
        await self.writer.ensure_schema()

    async def write(self, records: list[Record]) -> Written:
        rejected: list[tuple[Record, str]] = []
        posts: list[tuple[PostRecord, AuthorRecord]] = []
        companies, filings, facts = [], [], []
        for record in records:
            try:
                if record.kind == "post":
                    posts.append(_post(record.payload))
                elif record.kind == "company":
                    companies.append(_company(record.payload))
                elif record.kind == "filing":
                    filings.append(_filing(record.payload))
                elif record.kind == "fact":
                    facts.append(_fact(record.payload))
                else:
                    rejected.append((record, f"unknown kind {record.kind!r}"))
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                rejected.append((record, f"bad {record.kind}: {error!r}"[:300]))
        stored = await self.writer.store_posts(
            [post for post, _ in posts], [author for _, author in posts]
        )
        await self.writer.store_companies(companies)
        new_filings = await self.writer.store_filings(filings)
        new_facts = await self.writer.store_facts(facts)
        published = self.wall_clock()
        events = [
            DomainEvent(SOCIAL_CHANNEL, encode(SocialPost(
                id=post.id,
                source=post.source,
                author=post.author,
                author_followers=post.author_followers,
                text=post.text,
                cashtags=post.cashtags,
                sentiment=post.sentiment,
                synthetic=False,
                created_at=post.created_at,
                published_at=published,
            )))
            for post in stored
        ]
        return Written(
            events=events,
            rejected=rejected,
            rows=len(stored) + len(new_filings) + len(new_facts),
        )
