"""Plan quality: the fewest fetches; @provides counts when subgraphs share a root field."""

from textwrap import dedent

import strawberry

from graph.planner.nodes import Fetch, Flatten, PlanNode
from tests.graph.support import router_over

USERS = {"u1": "Ada", "u2": "Alan"}
REVIEWS = [("Sturdy", "u1"), ("Too big", "u2")]


def fetch_count(node: PlanNode | None) -> int:
    """How many subgraph requests a plan makes at most."""
    if node is None:
        return 0
    if isinstance(node, Fetch | Flatten):
        return 1
    children = getattr(node, "nodes", None)
    if children is not None:
        return sum(fetch_count(child) for child in children)
    return fetch_count(getattr(node, "if_clause", None)) + fetch_count(
        getattr(node, "else_clause", None)
    )


@strawberry.federation.type(name="User", keys=["id"])
class AccountUser:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "AccountUser":
        return AccountUser(id=id, name=USERS[str(id)])


@strawberry.type(name="Query")
class AccountsQuery:
    @strawberry.field
    def user_count(self) -> int:
        return len(USERS)


@strawberry.federation.type(name="User", keys=["id"])
class FeedUser:
    id: strawberry.ID


@strawberry.federation.type(name="Review", shareable=True)
class FeedReview:
    body: str
    author: FeedUser


@strawberry.type(name="Query")
class FeedQuery:
    @strawberry.federation.field(shareable=True)
    def top_reviews(self) -> list[FeedReview]:
        return [FeedReview(body=b, author=FeedUser(id=strawberry.ID(u))) for b, u in REVIEWS]


@strawberry.federation.type(name="User", keys=["id"])
class ReviewsUser:
    id: strawberry.ID
    name: str = strawberry.federation.field(external=True)


@strawberry.federation.type(name="Review", shareable=True)
class ReviewsReview:
    body: str
    author: ReviewsUser = strawberry.federation.field(provides=["name"])


@strawberry.type(name="Query")
class ReviewsQuery:
    @strawberry.federation.field(shareable=True)
    def top_reviews(self) -> list[ReviewsReview]:
        return [
            ReviewsReview(body=b, author=ReviewsUser(id=strawberry.ID(u), name=USERS[u]))
            for b, u in REVIEWS
        ]


SCHEMAS = {
    "accounts": strawberry.federation.Schema(query=AccountsQuery, types=[AccountUser]),
    "feed": strawberry.federation.Schema(query=FeedQuery),
    "reviews": strawberry.federation.Schema(query=ReviewsQuery),
}


async def test_provides_makes_the_providing_subgraph_the_one_fetch() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ topReviews { body author { name } } }"
    plan = router.planner.plan(router.prepare(query, None)[0].document)
    assert fetch_count(plan.node) == 1
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Fetch(service: "reviews") {
            {
              topReviews {
                body
                author {
                  name
                }
              }
            }
          },
        }"""
    )
    assert await router.execute(query) == {
        "data": {
            "topReviews": [
                {"body": "Sturdy", "author": {"name": "Ada"}},
                {"body": "Too big", "author": {"name": "Alan"}},
            ]
        }
    }
    assert transport.services == ["reviews"]


async def test_a_field_the_provider_lacks_still_takes_the_fewest_fetches() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ userCount topReviews { author { id } } }"
    plan = router.planner.plan(router.prepare(query, None)[0].document)
    assert fetch_count(plan.node) == 2
    assert await router.execute(query) == {
        "data": {"userCount": 2, "topReviews": [{"author": {"id": "u1"}}, {"author": {"id": "u2"}}]}
    }
    assert sorted(transport.services) == ["accounts", "feed"]
