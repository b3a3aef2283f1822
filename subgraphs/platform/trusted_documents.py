"""Trusted documents in the platform store: the operations an organisation registers, by the
SHA-256 of their text, which API keys restricted to trusted documents are limited to.

Each registration and deletion, once committed, is announced on the bus
(`platform.trusted_documents`), so every router drops what it cached for that hash at once."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Literal

from graphql import GraphQLError, OperationDefinitionNode, parse
from sqlalchemy import select

from nexus.errors import BadUserInput, NotFound
from nexus.events import TRUSTED_DOCUMENTS_CHANNEL, TrustedDocumentsChanged, encode
from nexus.stores.bus import Bus
from nexus.stores.platform import PlatformStore, available
from subgraphs.platform import validation
from subgraphs.platform.audit import record
from subgraphs.platform.models import TrustedDocument
from subgraphs.platform.repository import insert

log = logging.getLogger("subgraphs.platform.trusted_documents")

MAX_DOCUMENTS = 500  # per organisation
MAX_DOCUMENT_CHARACTERS = 64_000


def sha256_of(document: str) -> str:
    """The document's id as clients send it (APQ's `sha256Hash`): SHA-256 of its UTF-8 text."""
    return hashlib.sha256(document.encode()).hexdigest()


def checked_document(document: str) -> str:
    """`document` when it is one GraphQL document of operations, else BAD_USER_INPUT."""
    if not document.strip() or len(document) > MAX_DOCUMENT_CHARACTERS:
        raise BadUserInput(
            f"`document` must hold 1 to {MAX_DOCUMENT_CHARACTERS:,} characters.",
            argument="document",
        )
    try:
        parsed = parse(document)
    except GraphQLError as error:
        raise BadUserInput(
            f"`document` is not GraphQL: {error.message}", argument="document"
        ) from None
    if not any(isinstance(d, OperationDefinitionNode) for d in parsed.definitions):
        raise BadUserInput("`document` has no operation.", argument="document")
    return document


class TrustedDocuments:
    def __init__(self, store: PlatformStore, bus: Bus | None = None) -> None:
        self._store = store
        self._bus = bus  # where changes are announced to every router's cache

    async def _announce(
        self, organization_id: str, sha256: str, change: Literal["registered", "deleted"]
    ) -> None:
        """After the commit; a bus that is down is logged, not raised: the change is in the
        store, and routers see it at the end of their cache interval."""
        if self._bus is None:
            return
        event = TrustedDocumentsChanged(organization_id, sha256, change, time.time())
        try:
            await self._bus.publish(TRUSTED_DOCUMENTS_CHANNEL, encode(event))
        except Exception as error:
            log.error("could not announce a trusted document change (%s)", type(error).__name__)

    async def register(
        self, organization_id: str, actor: str | None, name: str, document: str
    ) -> TrustedDocument:
        """Registers `document` (registering the same text again returns the first one)."""
        name = validation.name(name)
        sha256 = sha256_of(checked_document(document))
        async with available(), self._store.sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(TrustedDocument).where(
                        TrustedDocument.organization_id == organization_id
                    )
                )
            ).all()
            for row in rows:
                if row.sha256 == sha256:
                    return row
            if len(rows) >= MAX_DOCUMENTS:
                raise BadUserInput(
                    f"an organisation registers at most {MAX_DOCUMENTS} trusted documents; "
                    "delete unused ones first."
                )
            row = await insert(
                session,
                TrustedDocument(
                    organization_id=organization_id,
                    sha256=sha256,
                    name=name,
                    document=document,
                    created_by=actor,
                ),
            )
            record(session, organization_id, actor, "trusted_document.registered", sha256)
        await self._announce(organization_id, sha256, "registered")  # a cached miss goes
        return row

    async def of(self, organization_id: str) -> list[TrustedDocument]:
        query = (
            select(TrustedDocument)
            .where(TrustedDocument.organization_id == organization_id)
            .order_by(TrustedDocument.name, TrustedDocument.sha256)
        )
        async with available(), self._store.sessions() as session:
            return list((await session.scalars(query)).all())

    async def delete(self, organization_id: str, actor: str | None, document_id: str) -> str:
        document_id = validation.entity_id(document_id)
        async with available(), self._store.sessions.begin() as session:
            row = await session.get(TrustedDocument, document_id)
            if row is None or row.organization_id != organization_id:
                raise NotFound(f"no trusted document has the id {document_id}.")
            await session.delete(row)
            record(session, organization_id, actor, "trusted_document.deleted", row.sha256)
        await self._announce(organization_id, row.sha256, "deleted")
        return document_id

    async def document(self, organization_id: str, sha256: str) -> str | None:
        """The edge's lookup: the organisation's trusted document with this hash."""
        query = select(TrustedDocument.document).where(
            TrustedDocument.organization_id == organization_id, TrustedDocument.sha256 == sha256
        )
        async with available(), self._store.sessions() as session:
            document: str | None = (await session.execute(query)).scalar_one_or_none()
            return document
