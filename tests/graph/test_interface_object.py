"""@interfaceObject: a subgraph adds fields to every implementation of an entity interface."""

from textwrap import dedent
from typing import Any

import strawberry

from tests.graph.support import router_over


@strawberry.federation.interface(keys=["id"])
class Media:
    id: strawberry.ID
    title: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Media":
        return next(m for m in LibraryQuery().media() if m.id == id)


@strawberry.federation.type(keys=["id"])
class Book(Media):
    pages: int


@strawberry.federation.type(keys=["id"])
class Movie(Media):
    minutes: int


@strawberry.type(name="Query")
class LibraryQuery:
    @strawberry.field
    def media(self) -> list[Media]:
        return [
            Book(id=strawberry.ID("b1"), title="Flash Boys", pages=288),
            Movie(id=strawberry.ID("m1"), title="The Big Short", minutes=130),
        ]


@strawberry.federation.interface_object(name="Media", keys=["id"])
class ReviewedMedia:
    id: strawberry.ID

    @strawberry.field
    def review_count(self) -> int:
        return {"b1": 12, "m1": 40}[str(self.id)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "ReviewedMedia":
        return ReviewedMedia(id=id)


@strawberry.type(name="Query")
class ReviewsQuery:
    @strawberry.field
    def most_reviewed(self) -> list[ReviewedMedia]:
        return [ReviewedMedia(id=strawberry.ID("m1")), ReviewedMedia(id=strawberry.ID("b1"))]


# Each subgraph's Schema arguments, so the interop tests can rebuild them for v2.9.
SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "library": {"query": LibraryQuery, "types": [Book, Movie]},
    "reviews": {"query": ReviewsQuery, "types": [ReviewedMedia]},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}


async def test_interface_object_fields_resolve_for_every_implementation() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ media { __typename title reviewCount ... on Book { pages } } }"
    assert await router.execute(query) == {
        "data": {
            "media": [
                {"__typename": "Book", "title": "Flash Boys", "reviewCount": 12, "pages": 288},
                {"__typename": "Movie", "title": "The Big Short", "reviewCount": 40},
            ]
        }
    }
    _, _, variables = transport.requests[1]
    assert variables == {
        "representations": [
            {"__typename": "Media", "id": "b1"},
            {"__typename": "Media", "id": "m1"},
        ]
    }


async def test_interface_object_plan_uses_the_interface_in_the_entities_call() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare("{ media { reviewCount } }", None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "library") {
              {
                media {
                  __typename
                  ... on Book {
                    __typename
                    id
                  }
                  ... on Movie {
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "media.@") {
              Fetch(service: "reviews") {
                {
                  ... on Book {
                    __typename
                    id
                  }
                  ... on Movie {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Media {
                    reviewCount
                  }
                }
              },
            },
          },
        }"""
    )


async def test_starting_from_the_interface_object_subgraph_finds_the_concrete_types() -> None:
    router, transport = router_over(SCHEMAS)
    query = """
    { mostReviewed { __typename reviewCount title ... on Movie { minutes } ... on Book { pages } } }
    """
    assert await router.execute(query) == {
        "data": {
            "mostReviewed": [
                {
                    "__typename": "Movie",
                    "reviewCount": 40,
                    "title": "The Big Short",
                    "minutes": 130,
                },
                {"__typename": "Book", "reviewCount": 12, "title": "Flash Boys", "pages": 288},
            ]
        }
    }
    assert transport.services == ["reviews", "library"]
