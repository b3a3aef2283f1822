"""Plans that cannot be satisfied: refused with `data: null` and a planning error, and refused
by composition's satisfiability check, which names the unreachable field."""

from textwrap import dedent

import pytest
import strawberry
from strawberry.federation.schema_directives import Key

from graph.compose import CompositionError
from graph.in_process import compose_schemas
from graph.router import Router
from tests.graph.support import RecordingTransport


@strawberry.federation.type(name="User", keys=["id"])
class ReviewsUser:
    id: strawberry.ID = strawberry.federation.field(external=True)


@strawberry.type(name="Review")
class Review:
    body: str
    author: ReviewsUser


@strawberry.type(name="Query")
class ReviewsQuery:
    @strawberry.field
    def reviews(self) -> list[Review]:
        return [Review(body="Sturdy", author=ReviewsUser(id=strawberry.ID("u1")))]


@strawberry.federation.type(name="User", keys=["id"])
class AccountUser:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "AccountUser":
        return AccountUser(id=id, name="Ada")


@strawberry.type(name="Query")
class AccountsQuery:
    @strawberry.field
    def me(self) -> AccountUser:
        return AccountUser(id=strawberry.ID("u1"), name="Ada")


EXTERNAL_KEY = {
    "reviews": strawberry.federation.Schema(query=ReviewsQuery),
    "accounts": strawberry.federation.Schema(query=AccountsQuery, types=[AccountUser]),
}


@strawberry.federation.interface(keys=["id"])
class Media:
    id: strawberry.ID
    title: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Media":
        return Book(id=id, title="Flash Boys", pages=288)


@strawberry.federation.type(keys=["id"])
class Book(Media):
    pages: int

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Book":
        return Book(id=id, title="Flash Boys", pages=288)


@strawberry.type(name="Query")
class LibraryQuery:
    @strawberry.field
    def media(self) -> list[Media]:
        return [Book(id=strawberry.ID("b1"), title="Flash Boys", pages=288)]


@strawberry.federation.interface_object(
    name="Media",
    keys=[Key(fields="id", resolvable=False)],  # type: ignore[list-item]
)
class UnenterableMedia:
    id: strawberry.ID
    review_count: int


@strawberry.type(name="Query")
class RatingsQuery:
    @strawberry.field
    def newest(self) -> UnenterableMedia:
        return UnenterableMedia(id=strawberry.ID("b1"), review_count=12)


UNENTERABLE = {
    "library": strawberry.federation.Schema(query=LibraryQuery, types=[Book]),
    "ratings": strawberry.federation.Schema(query=RatingsQuery, types=[UnenterableMedia]),
}


def _router(schemas: dict[str, strawberry.federation.Schema]) -> tuple[Router, RecordingTransport]:
    """A router over a supergraph another tool composed without a satisfiability check."""
    transport = RecordingTransport(schemas)
    supergraph = compose_schemas(schemas, check_satisfiability=False)
    return Router.from_supergraph_sdl(supergraph, transport), transport


async def test_an_external_key_field_is_not_read_from_the_subgraph_marking_it() -> None:
    router, transport = _router(EXTERNAL_KEY)
    response = await router.execute("{ reviews { body author { name } } }")
    assert response["data"] is None
    (error,) = response["errors"]
    assert error["extensions"] == {"code": "QUERY_PLANNING_FAILED"}
    assert error["message"].startswith('Cannot resolve "User.name" from subgraph "reviews"')
    assert "no @key of theirs can be supplied" in error["message"]
    assert transport.requests == []
    # what needs no jump still runs
    assert await router.execute("{ reviews { body } }") == {
        "data": {"reviews": [{"body": "Sturdy"}]}
    }


async def test_an_interface_object_with_an_unresolvable_key_is_never_entered() -> None:
    router, transport = _router(UNENTERABLE)
    response = await router.execute("{ media { title reviewCount } }")
    assert response["data"] is None
    assert response["errors"][0]["extensions"]["code"] == "QUERY_PLANNING_FAILED"
    assert '"Book.reviewCount"' in response["errors"][0]["message"]
    assert transport.requests == []
    # entered at its root field, the interface object still jumps to the library for titles
    assert await router.execute("{ newest { reviewCount title } }") == {
        "data": {"newest": {"reviewCount": 12, "title": "Flash Boys"}}
    }


@pytest.mark.parametrize(
    ("schemas", "unreachable"),
    [
        (EXTERNAL_KEY, 'field "User.name" cannot be reached from subgraph "reviews"'),
        (UNENTERABLE, 'field "Media.reviewCount" cannot be reached from subgraph "library"'),
    ],
)
def test_composition_names_the_unreachable_field(
    schemas: dict[str, strawberry.federation.Schema], unreachable: str
) -> None:
    with pytest.raises(CompositionError) as raised:
        compose_schemas(schemas)
    assert any(unreachable in message for message in raised.value.messages), dedent(
        "\n".join(raised.value.messages)
    )
