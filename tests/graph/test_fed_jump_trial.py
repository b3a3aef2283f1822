"""Entity jumps chosen by trial walks (issue 16 item 8): the fewest fetches, not the subgraph
serving the most fields at one level.

Products come from the catalog. `Product.details` is resolved by both "reviews" and "specs";
reviews also has the sibling fields `rating` and `colour`, specs has `stock` and the nested
`Details.warrantyMonths`. Greedy (most fields first) sends `details` to reviews with its
siblings, and `warrantyMonths` then needs a second, sequential specs fetch below it: four
fetches. Sending `details` to specs with `stock` takes three, two of them side by side.

Through @provides: reviews' authors come from "basic" or "curated"; only curated provides the
author's `name`, so one fetch there answers `author { name }` where basic needs accounts too.
"""

from textwrap import dedent
from typing import Any

import pytest
import strawberry

from graph.planner import jump_choice
from tests.graph.support import router_over
from tests.graph.test_fed_plan_quality import fetch_count

WARRANTY_MONTHS = {"d1": 24, "d2": 12}
USERS = {"u1": "Ada", "u2": "Alan"}


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def products(self) -> list[Product]:
        return [Product(upc="1"), Product(upc="2")]


@strawberry.federation.type(name="Details", keys=["id"])
class ReviewsDetails:
    id: strawberry.ID
    summary: str = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "ReviewsDetails":
        return ReviewsDetails(id=id, summary=f"details of {id}")


@strawberry.federation.type(name="Product", keys=["upc"])
class ReviewsProduct:
    upc: str

    @strawberry.field(description="Average review score, 1 to 5 stars.")
    def rating(self) -> int:
        return 4 if self.upc == "1" else 3

    @strawberry.field(description="Colour named by reviewers.")
    def colour(self) -> str:
        return "oak" if self.upc == "1" else "grey"

    @strawberry.federation.field(shareable=True)
    def details(self) -> ReviewsDetails:
        return ReviewsDetails(id=strawberry.ID(f"d{self.upc}"), summary=f"details of d{self.upc}")

    @classmethod
    def resolve_reference(cls, upc: str) -> "ReviewsProduct":
        return ReviewsProduct(upc=upc)


@strawberry.federation.type(name="Details", keys=["id"])
class SpecsDetails:
    id: strawberry.ID
    summary: str = strawberry.federation.field(shareable=True)

    @strawberry.field(description="Warranty length in months.")
    def warranty_months(self) -> int:
        return WARRANTY_MONTHS[str(self.id)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "SpecsDetails":
        return SpecsDetails(id=id, summary=f"details of {id}")


@strawberry.federation.type(name="Product", keys=["upc"])
class SpecsProduct:
    upc: str

    @strawberry.field(description="Units in stock.")
    def stock(self) -> int:
        return 7 if self.upc == "1" else 0

    @strawberry.federation.field(shareable=True)
    def details(self) -> SpecsDetails:
        return SpecsDetails(id=strawberry.ID(f"d{self.upc}"), summary=f"details of d{self.upc}")

    @classmethod
    def resolve_reference(cls, upc: str) -> "SpecsProduct":
        return SpecsProduct(upc=upc)


PRODUCT_SCHEMAS = {
    "catalog": strawberry.federation.Schema(query=CatalogQuery),
    "reviews": strawberry.federation.Schema(types=[ReviewsProduct, ReviewsDetails]),
    "specs": strawberry.federation.Schema(types=[SpecsProduct, SpecsDetails]),
}
PRODUCT_QUERY = "{ products { rating colour stock details { warrantyMonths } } }"


async def test_details_go_where_their_nested_field_is_three_fetches_not_four() -> None:
    router, transport = router_over(PRODUCT_SCHEMAS)
    plan = router.planner.plan(router.prepare(PRODUCT_QUERY, None)[0].document)
    assert fetch_count(plan.node) == 3
    assert await router.execute(PRODUCT_QUERY) == {
        "data": {
            "products": [
                {"rating": 4, "colour": "oak", "stock": 7, "details": {"warrantyMonths": 24}},
                {"rating": 3, "colour": "grey", "stock": 0, "details": {"warrantyMonths": 12}},
            ]
        }
    }
    assert sorted(transport.services) == ["catalog", "reviews", "specs"]


async def test_the_plan_fetches_reviews_and_specs_side_by_side() -> None:
    router, _ = router_over(PRODUCT_SCHEMAS)
    document = router.prepare(PRODUCT_QUERY, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                products {
                  __typename
                  upc
                }
              }
            },
            Parallel {
              Flatten(path: "products.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Product {
                      __typename
                      upc
                    }
                  } =>
                  {
                    ... on Product {
                      rating
                      colour
                    }
                  }
                },
              },
              Flatten(path: "products.@") {
                Fetch(service: "specs") {
                  {
                    ... on Product {
                      __typename
                      upc
                    }
                  } =>
                  {
                    ... on Product {
                      stock
                      details {
                        warrantyMonths
                      }
                    }
                  }
                },
              },
            },
          },
        }"""
    )


@strawberry.federation.type(keys=["id"])
class Review:
    id: strawberry.ID


@strawberry.type(name="Query")
class FeedQuery:
    @strawberry.field
    def top_reviews(self) -> list[Review]:
        return [Review(id=strawberry.ID("r1")), Review(id=strawberry.ID("r2"))]


@strawberry.federation.type(name="User", keys=["id"])
class AccountUser:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "AccountUser":
        return AccountUser(id=id, name=USERS[str(id)])


@strawberry.type(name="Query")
class AccountsQuery:
    @strawberry.field
    def user_count(self) -> int:
        return len(USERS)


def _author_of(review: strawberry.ID) -> str:
    return "u1" if review == "r1" else "u2"


@strawberry.federation.type(name="User", keys=["id"])
class BasicUser:
    id: strawberry.ID


@strawberry.federation.type(name="Review", keys=["id"])
class BasicReview:
    id: strawberry.ID

    @strawberry.federation.field(shareable=True)
    def author(self) -> BasicUser:
        return BasicUser(id=strawberry.ID(_author_of(self.id)))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "BasicReview":
        return BasicReview(id=id)


@strawberry.federation.type(name="User", keys=["id"])
class CuratedUser:
    id: strawberry.ID
    name: str = strawberry.federation.field(external=True)


@strawberry.federation.type(name="Review", keys=["id"])
class CuratedReview:
    id: strawberry.ID

    @strawberry.federation.field(shareable=True, provides=["name"])
    def author(self) -> CuratedUser:
        user = _author_of(self.id)
        return CuratedUser(id=strawberry.ID(user), name=USERS[user])

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "CuratedReview":
        return CuratedReview(id=id)


REVIEW_SCHEMAS = {
    "feed": strawberry.federation.Schema(query=FeedQuery),
    "accounts": strawberry.federation.Schema(query=AccountsQuery, types=[AccountUser]),
    "basic": strawberry.federation.Schema(types=[BasicReview]),
    "curated": strawberry.federation.Schema(types=[CuratedReview]),
}
REVIEW_QUERY = "{ topReviews { id author { name } } }"


async def test_provides_sends_the_author_jump_to_the_providing_subgraph() -> None:
    router, transport = router_over(REVIEW_SCHEMAS)
    plan = router.planner.plan(router.prepare(REVIEW_QUERY, None)[0].document)
    assert fetch_count(plan.node) == 2
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "feed") {
              {
                topReviews {
                  id
                  __typename
                }
              }
            },
            Flatten(path: "topReviews.@") {
              Fetch(service: "curated") {
                {
                  ... on Review {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Review {
                    author {
                      name
                    }
                  }
                }
              },
            },
          },
        }"""
    )
    assert await router.execute(REVIEW_QUERY) == {
        "data": {
            "topReviews": [
                {"id": "r1", "author": {"name": "Ada"}},
                {"id": "r2", "author": {"name": "Alan"}},
            ]
        }
    }
    assert transport.services == ["feed", "curated"]


def test_trial_walks_stay_within_their_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nine fields each resolvable in two subgraphs: 512 assignments, over the cap, so no trial
    walk is made and the greedy choice (one jump) stands; two fields: four assignments, tried."""
    trials: list[int] = []
    cost = jump_choice._cost

    def counted(*args: Any) -> Any:
        trials.append(1)
        return cost(*args)

    router, _ = router_over(PRODUCT_SCHEMAS)
    monkeypatch.setattr(jump_choice, "_cost", counted)
    aliases = " ".join(f"{name}: details {{ summary }}" for name in "abcdefghi")
    plan = router.planner.plan(router.prepare(f"{{ products {{ {aliases} }} }}", None)[0].document)
    assert fetch_count(plan.node) == 2
    assert trials == []
    plan = router.planner.plan(
        router.prepare("{ products { a: details { summary } b: details { summary } } }", None)[
            0
        ].document
    )
    assert fetch_count(plan.node) == 2
    assert 0 < len(trials) <= 4
