"""Union and interface members that differ per subgraph: each is asked only for its own."""

from textwrap import dedent
from typing import Annotated

import strawberry

from tests.graph.support import router_over


@strawberry.federation.type(keys=["id"])
class Book:
    id: strawberry.ID
    title: str = strawberry.federation.field(shareable=True)


@strawberry.federation.type(shareable=True)
class Movie:
    title: str
    minutes: int


@strawberry.type(name="Query")
class ShopQuery:
    @strawberry.field
    def search(
        self,
    ) -> list[Annotated[Book | Movie, strawberry.union("Media")]]:
        return [
            Book(id=strawberry.ID("b1"), title="Flash Boys"),
            Movie(title="Margin Call", minutes=107),
        ]


@strawberry.federation.type(name="Book", keys=["id"])
class RadioBook:
    id: strawberry.ID
    title: str = strawberry.federation.field(shareable=True)
    narrator: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "RadioBook":
        return RadioBook(id=id, title="Flash Boys", narrator="Dylan Baker")


@strawberry.federation.type(shareable=True)
class Song:
    title: str
    seconds: int


@strawberry.type(name="Query")
class RadioQuery:
    @strawberry.field
    def playlist(
        self,
    ) -> list[Annotated[RadioBook | Song, strawberry.union("Media")]]:
        return [RadioBook.resolve_reference(strawberry.ID("b1")), Song(title="Money", seconds=382)]


SCHEMAS = {
    "shop": strawberry.federation.Schema(query=ShopQuery),
    "radio": strawberry.federation.Schema(
        query=RadioQuery, types=[RadioBook], federation_version="2.7"
    ),
}
SELECTION = (
    "{ __typename ... on Book { title narrator } ... on Movie { minutes } ... on Song { seconds } }"
)


async def test_each_subgraph_is_asked_only_for_its_own_members() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ search " + SELECTION + " playlist " + SELECTION + " }"
    document = router.prepare(query, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Parallel {
            Sequence {
              Fetch(service: "shop") {
                {
                  search {
                    __typename
                    ... on Book {
                      __typename
                      title
                      id
                    }
                    ... on Movie {
                      __typename
                      minutes
                    }
                  }
                }
              },
              Flatten(path: "search.@") {
                Fetch(service: "radio") {
                  {
                    ... on Book {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Book {
                      narrator
                    }
                  }
                },
              },
            },
            Fetch(service: "radio") {
              {
                playlist {
                  __typename
                  ... on Book {
                    __typename
                    title
                    narrator
                  }
                  ... on Song {
                    __typename
                    seconds
                  }
                }
              }
            },
          },
        }"""
    )
    assert await router.execute(query) == {
        "data": {
            "search": [
                {"__typename": "Book", "title": "Flash Boys", "narrator": "Dylan Baker"},
                {"__typename": "Movie", "minutes": 107},
            ],
            "playlist": [
                {"__typename": "Book", "title": "Flash Boys", "narrator": "Dylan Baker"},
                {"__typename": "Song", "seconds": 382},
            ],
        }
    }
    sent = {service: query for service, query, _ in transport.requests[:2]}
    assert "Song" not in sent["shop"] and "Movie" not in sent["radio"]
