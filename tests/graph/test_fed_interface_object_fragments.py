"""@interfaceObject fields selected in fragments on the concrete types, with and without
@requires."""

from textwrap import dedent

import strawberry

from tests.graph.support import router_over

TITLES = {"b1": "Flash Boys", "m1": "The Big Short"}


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

    @strawberry.federation.field(shareable=True)
    def rating(self) -> float:
        return 4.5  # the library owns Book.rating


@strawberry.federation.type(keys=["id"])
class Movie(Media):
    minutes: int


@strawberry.type(name="Query")
class LibraryQuery:
    @strawberry.field
    def media(self) -> list[Media]:
        return [
            Book(id=strawberry.ID("b1"), title=TITLES["b1"], pages=288),
            Movie(id=strawberry.ID("m1"), title=TITLES["m1"], minutes=130),
        ]


@strawberry.federation.interface_object(name="Media", keys=["id"])
class ReviewedMedia:
    id: strawberry.ID
    title: str = strawberry.federation.field(external=True)

    @strawberry.field
    def review_count(self) -> int:
        return {"b1": 12, "m1": 40}[str(self.id)]

    @strawberry.federation.field(shareable=True)
    def rating(self) -> float:
        return 1.0

    @strawberry.federation.field(requires=["title"])
    def headline(self) -> str:
        return f"{self.title}: {self.review_count()} reviews"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, title: str = "") -> "ReviewedMedia":
        return ReviewedMedia(id=id, title=title)


@strawberry.type(name="Query")
class ReviewsQuery:
    @strawberry.field
    def most_reviewed(self) -> list[ReviewedMedia]:
        return [ReviewedMedia.resolve_reference(strawberry.ID(i)) for i in ("m1", "b1")]


SCHEMAS = {
    "library": strawberry.federation.Schema(query=LibraryQuery, types=[Book, Movie]),
    "reviews": strawberry.federation.Schema(query=ReviewsQuery, types=[ReviewedMedia]),
}


async def test_interface_object_field_in_a_fragment_on_one_implementation() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ media { id ... on Book { reviewCount pages } } }"
    assert await router.execute(query) == {
        "data": {"media": [{"id": "b1", "reviewCount": 12, "pages": 288}, {"id": "m1"}]}
    }
    assert transport.services == ["library", "reviews"]
    assert transport.requests[1][2] == {"representations": [{"__typename": "Media", "id": "b1"}]}


async def test_interface_object_field_with_requires_in_a_fragment() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ media { ... on Movie { headline minutes } } }"
    assert await router.execute(query) == {
        "data": {"media": [{}, {"headline": "The Big Short: 40 reviews", "minutes": 130}]}
    }
    assert transport.requests[1][2] == {
        "representations": [{"__typename": "Media", "id": "m1", "title": "The Big Short"}]
    }


async def test_plan_of_fragments_on_implementations() -> None:
    router, _ = router_over(SCHEMAS)
    query = "{ media { ... on Book { reviewCount } ... on Movie { headline } } }"
    document = router.prepare(query, None)[0].document
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
                    title
                  }
                }
              }
            },
            Parallel {
              Flatten(path: "media.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Book {
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
              Flatten(path: "media.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Movie {
                      __typename
                      id
                      title
                    }
                  } =>
                  {
                    ... on Media {
                      headline
                    }
                  }
                },
              },
            },
          },
        }"""
    )


async def test_the_subgraph_owning_a_field_for_a_type_answers_it() -> None:
    router, transport = router_over(SCHEMAS)
    transport.requests.clear()
    query = "{ mostReviewed { id rating } media { ... on Book { rating } } }"
    assert await router.execute(query) == {
        "data": {
            "mostReviewed": [{"id": "m1", "rating": 1.0}, {"id": "b1", "rating": 4.5}],
            "media": [{"rating": 4.5}, {}],
        }
    }
    # mostReviewed: reviews -> library (types; Book.rating) -> reviews (Movie.rating)
    assert transport.services.count("library") == 2
