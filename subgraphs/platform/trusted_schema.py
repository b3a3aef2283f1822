"""The platform's trusted-document fields: an organisation registers the operations its
restricted API keys may run (`registerTrustedDocument`), lists and deletes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from nexus.demand import assumed_size
from subgraphs.platform import access, models
from subgraphs.platform.trusted_documents import TrustedDocuments
from subgraphs.platform.types import Info


@strawberry.type(description="An operation the organisation registered as trusted.")
class TrustedDocument:
    id: strawberry.ID = strawberry.field(description="The registration's id (a UUID).")
    sha256: str = strawberry.field(
        description="SHA-256 of the document's UTF-8 text, 64 hex digits: what a client sends "
        "as `extensions.persistedQuery.sha256Hash` (or `documentId`) instead of the text."
    )
    name: str = strawberry.field(description="What the operation is for.")
    document: str = strawberry.field(description="The GraphQL document, as registered.")
    created_at: datetime = strawberry.field(description="When it was registered (UTC).")

    @classmethod
    def from_row(cls, row: models.TrustedDocument) -> TrustedDocument:
        return cls(
            id=strawberry.ID(row.id),
            sha256=row.sha256,
            name=row.name,
            document=row.document,
            created_at=row.created_at,
        )


def _documents(info: Info) -> TrustedDocuments:
    return TrustedDocuments(info.context.store, info.context.bus)


@strawberry.type
class TrustedDocumentQuery:
    @strawberry.field(
        description="The organisation's trusted documents, by name.",
        directives=[*access.READS, assumed_size(50)],
    )
    async def trusted_documents(self, info: Info) -> list[TrustedDocument]:
        tenant = await info.context.reader()
        rows = await _documents(info).of(tenant.organization_id)
        return [TrustedDocument.from_row(row) for row in rows]


@strawberry.type
class TrustedDocumentMutation:
    @strawberry.mutation(
        description="Registers an operation as trusted, so keys made with "
        "`trustedDocumentsOnly` may run it (by its text or its SHA-256). Registering the same "
        "text again returns the first registration.",
        directives=access.WRITES,
    )
    async def register_trusted_document(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="What it is for, 1-200 characters.")],
        document: Annotated[
            str, strawberry.argument(description="The GraphQL document, up to 64,000 characters.")
        ],
    ) -> TrustedDocument:
        tenant = await info.context.writer()
        row = await _documents(info).register(
            tenant.organization_id, tenant.user_id, name, document
        )
        return TrustedDocument.from_row(row)

    @strawberry.mutation(
        description="Deletes a trusted document; restricted keys can no longer run it. Returns "
        "its id.",
        directives=access.WRITES,
    )
    async def delete_trusted_document(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The registration's id.")],
    ) -> strawberry.ID:
        tenant = await info.context.writer()
        return strawberry.ID(
            await _documents(info).delete(tenant.organization_id, tenant.user_id, id)
        )
