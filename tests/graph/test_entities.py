"""@key entity jumps, chains across subgraphs, @requires, @provides, batching and the plan cache."""

from textwrap import dedent
from typing import Any

import strawberry
from graphql import get_introspection_query

from tests.graph.support import router_over

PRODUCTS: dict[str, dict[str, Any]] = {
    "1": {"upc": "1", "name": "Table", "price": 900, "weight": 40},
    "2": {"upc": "2", "name": "Couch", "price": 1500, "weight": 90},
    "3": {"upc": "3", "name": "Chair", "price": 50, "weight": 6},
}
USERS: dict[str, dict[str, Any]] = {
    "u1": {"name": "Ada Lovelace", "username": "ada"},
    "u2": {"name": "Alan", "username": "al"},
}
REVIEWS = {"1": [("Sturdy", "u1"), ("Too big", "u2")], "2": [("Comfy", "u1")], "3": []}


@strawberry.federation.type(name="Product", keys=["upc"])
class CatalogProduct:
    upc: str
    name: str
    price: int
    weight: int

    @classmethod
    def resolve_reference(cls, upc: str) -> "CatalogProduct":
        return CatalogProduct(**PRODUCTS[upc])


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def top_products(self, first: int = 2) -> list[CatalogProduct]:
        return [CatalogProduct(**p) for p in list(PRODUCTS.values())[:first]]


@strawberry.federation.type(name="Product", keys=["upc"])
class StockProduct:
    upc: str
    price: int = strawberry.federation.field(external=True)
    weight: int = strawberry.federation.field(external=True)

    @strawberry.field
    def in_stock(self) -> bool:
        return self.upc != "2"

    @strawberry.federation.field(requires=["price weight"])
    def shipping_estimate(self) -> int:
        return 0 if self.price > 1000 else self.weight // 2

    @classmethod
    def resolve_reference(
        cls, upc: str, price: int | None = None, weight: int | None = None
    ) -> "StockProduct":
        return StockProduct(upc=upc, price=price or 0, weight=weight or 0)


@strawberry.federation.type(name="User", keys=["id"])
class ReviewAuthor:
    id: strawberry.ID
    username: str = strawberry.federation.field(external=True)


@strawberry.type(name="Review")
class Review:
    body: str
    author: ReviewAuthor = strawberry.federation.field(provides=["username"])


@strawberry.federation.type(name="Product", keys=["upc"])
class ReviewedProduct:
    upc: str

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [
            Review(
                body=body,
                author=ReviewAuthor(id=strawberry.ID(user), username=USERS[user]["username"]),
            )
            for body, user in REVIEWS[self.upc]
        ]

    @classmethod
    def resolve_reference(cls, upc: str) -> "ReviewedProduct":
        return ReviewedProduct(upc=upc)


@strawberry.federation.type(name="User", keys=["id"])
class Account:
    id: strawberry.ID
    name: str
    username: str = strawberry.federation.field(shareable=True)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Account":
        return Account(id=id, **USERS[str(id)])


@strawberry.type(name="Query")
class AccountQuery:
    @strawberry.field
    def me(self) -> Account:
        return Account(id=strawberry.ID("u1"), **USERS["u1"])


# Each subgraph's Schema arguments, so the interop tests can rebuild them for v2.9.
SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "products": {"query": CatalogQuery},
    "inventory": {"types": [StockProduct]},
    "reviews": {"types": [ReviewedProduct]},
    "accounts": {"query": AccountQuery},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}

SHOP_QUERY = """
query Shop($first: Int) {
  topProducts(first: $first) {
    name
    inStock
    shippingEstimate
    reviews { body author { username name } }
  }
  me { name }
}
"""


async def test_one_response_across_four_subgraphs() -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute(SHOP_QUERY, {"first": 2})
    assert response == {
        "data": {
            "topProducts": [
                {
                    "name": "Table",
                    "inStock": True,
                    "shippingEstimate": 20,
                    "reviews": [
                        {"body": "Sturdy", "author": {"username": "ada", "name": "Ada Lovelace"}},
                        {"body": "Too big", "author": {"username": "al", "name": "Alan"}},
                    ],
                },
                {
                    "name": "Couch",
                    "inStock": False,
                    "shippingEstimate": 0,
                    "reviews": [
                        {"body": "Comfy", "author": {"username": "ada", "name": "Ada Lovelace"}}
                    ],
                },
            ],
            "me": {"name": "Ada Lovelace"},
        }
    }


async def test_plan_jumps_by_key_and_sends_requires_in_representations() -> None:
    router, _ = router_over(SCHEMAS)
    plan = router.planner.plan(router.prepare(SHOP_QUERY, None)[0].document)
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Parallel {
            Sequence {
              Fetch(service: "products") {
                {
                  topProducts(first: $first) {
                    name
                    __typename
                    upc
                    price
                    weight
                  }
                }
              },
              Parallel {
                Flatten(path: "topProducts.@") {
                  Fetch(service: "inventory") {
                    {
                      ... on Product {
                        __typename
                        upc
                        price
                        weight
                      }
                    } =>
                    {
                      ... on Product {
                        inStock
                        shippingEstimate
                      }
                    }
                  },
                },
                Sequence {
                  Flatten(path: "topProducts.@") {
                    Fetch(service: "reviews") {
                      {
                        ... on Product {
                          __typename
                          upc
                        }
                      } =>
                      {
                        ... on Product {
                          reviews {
                            body
                            author {
                              username
                              __typename
                              id
                            }
                          }
                        }
                      }
                    },
                  },
                  Flatten(path: "topProducts.@.reviews.@.author") {
                    Fetch(service: "accounts") {
                      {
                        ... on User {
                          __typename
                          id
                        }
                      } =>
                      {
                        ... on User {
                          name
                        }
                      }
                    },
                  },
                },
              },
            },
            Fetch(service: "accounts") {
              {
                me {
                  name
                }
              }
            },
          },
        }"""
    )


async def test_provided_fields_are_not_fetched_again() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ topProducts { reviews { author { username } } } }"
    response = await router.execute(query)
    assert response["data"]["topProducts"][0]["reviews"][0]["author"] == {"username": "ada"}
    assert transport.services == ["products", "reviews"]


async def test_each_flatten_is_one_deduplicated_entities_call() -> None:
    router, transport = router_over(SCHEMAS)
    await router.execute("{ topProducts(first: 3) { reviews { author { name } } } }")
    assert transport.services == ["products", "reviews", "accounts"]
    _, _, variables = transport.requests[2]
    assert variables == {
        "representations": [{"__typename": "User", "id": "u1"}, {"__typename": "User", "id": "u2"}]
    }


async def test_second_run_of_an_operation_skips_planning() -> None:
    router, _ = router_over(SCHEMAS)
    first = await router.execute(SHOP_QUERY, {"first": 1})
    second = await router.execute(SHOP_QUERY, {"first": 1})
    assert first == second
    assert (router.planner.plans_built, router.planner.cache_hits) == (1, 1)


async def test_aliases_typename_defaults_and_conditions() -> None:
    router, _ = router_over(SCHEMAS)
    query = """
    query($withStock: Boolean!, $skipName: Boolean = true) {
      first: topProducts(first: 1) {
        kind: __typename
        label: name @skip(if: $skipName)
        ...Stock @include(if: $withStock)
      }
      all: topProducts(first: 3) { upc __typename }
    }
    fragment Stock on Product { stocked: inStock }
    """
    response = await router.execute(query, {"withStock": True})
    assert response == {
        "data": {
            "first": [{"kind": "Product", "stocked": True}],
            "all": [
                {"upc": "1", "__typename": "Product"},
                {"upc": "2", "__typename": "Product"},
                {"upc": "3", "__typename": "Product"},
            ],
        }
    }
    without = await router.execute(query, {"withStock": False, "skipName": False})
    assert without == {
        "data": {
            "first": [{"kind": "Product", "label": "Table"}],
            "all": [
                {"upc": "1", "__typename": "Product"},
                {"upc": "2", "__typename": "Product"},
                {"upc": "3", "__typename": "Product"},
            ],
        }
    }


async def test_alias_shadowing_a_key_field_gets_the_key_under_another_alias() -> None:
    router, transport = router_over(SCHEMAS)
    response = await router.execute("{ topProducts { upc: name inStock } }")
    assert response == {
        "data": {
            "topProducts": [{"upc": "Table", "inStock": True}, {"upc": "Couch", "inStock": False}]
        }
    }
    assert transport.requests[0][1] == "{ topProducts { upc: name __typename upc_: upc } }"
    assert transport.requests[1][2] == {
        "representations": [
            {"__typename": "Product", "upc": "1"},
            {"__typename": "Product", "upc": "2"},
        ]
    }


async def test_introspection_is_answered_by_the_router_beside_subgraph_data() -> None:
    router, transport = router_over(SCHEMAS)
    response = await router.execute("{ __schema { queryType { name } } me { name } __typename }")
    assert response == {
        "data": {
            "__schema": {"queryType": {"name": "Query"}},
            "me": {"name": "Ada Lovelace"},
            "__typename": "Query",
        }
    }
    assert transport.services == ["accounts"]
    full = await router.execute(get_introspection_query())
    assert "errors" not in full
    type_names = {t["name"] for t in full["data"]["__schema"]["types"]}
    assert {"Product", "Review", "User"} <= type_names
    assert not {"_Entity", "_Service", "join__Graph"} & type_names
