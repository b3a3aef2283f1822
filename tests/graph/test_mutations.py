"""Mutations: root fields run in order, even when they alternate between subgraphs."""

from collections.abc import AsyncGenerator
from textwrap import dedent

import httpx
import strawberry

from graph.gateway import create_app
from tests.graph.support import router_over

JOURNAL: list[str] = []


@strawberry.federation.type(name="Watchlist", keys=["id"])
class Watchlist:
    id: strawberry.ID
    name: str


@strawberry.type(name="Query")
class PlatformQuery:
    @strawberry.field
    def watchlist(self) -> Watchlist:
        return Watchlist(id=strawberry.ID("w1"), name="Main")


@strawberry.type(name="Mutation")
class PlatformMutation:
    @strawberry.mutation
    def rename_watchlist(self, name: str) -> Watchlist:
        JOURNAL.append(f"rename:{name}")
        return Watchlist(id=strawberry.ID("w1"), name=name)


@strawberry.federation.type(name="Watchlist", keys=["id"])
class AlertedWatchlist:
    id: strawberry.ID

    @strawberry.field
    def alerts(self) -> int:
        JOURNAL.append(f"alerts:{self.id}")
        return 3

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "AlertedWatchlist":
        return AlertedWatchlist(id=id)


@strawberry.type(name="Query")
class AlertsQuery:
    @strawberry.field
    def alert_count(self) -> int:
        return len(JOURNAL)


@strawberry.type(name="Subscription")
class AlertsSubscription:
    @strawberry.subscription
    async def watchlist_alerted(self) -> AsyncGenerator[AlertedWatchlist, None]:
        yield AlertedWatchlist(id=strawberry.ID("w1"))


@strawberry.type(name="Mutation")
class AlertsMutation:
    @strawberry.mutation
    def raise_alert(self, symbol: str) -> int:
        JOURNAL.append(f"alert:{symbol}")
        return len(JOURNAL)


SCHEMAS = {
    "platform": strawberry.federation.Schema(query=PlatformQuery, mutation=PlatformMutation),
    "alerts": strawberry.federation.Schema(
        query=AlertsQuery,
        mutation=AlertsMutation,
        subscription=AlertsSubscription,
        types=[AlertedWatchlist],
    ),
}

MUTATION = """
mutation {
  first: renameWatchlist(name: "A") { name alerts }
  raiseAlert(symbol: "BTC")
  last: renameWatchlist(name: "B") { name }
}
"""


async def test_mutation_root_fields_run_in_order() -> None:
    JOURNAL.clear()
    router, transport = router_over(SCHEMAS)
    response = await router.execute(MUTATION)
    assert response == {
        "data": {"first": {"name": "A", "alerts": 3}, "raiseAlert": 3, "last": {"name": "B"}}
    }
    assert JOURNAL == ["rename:A", "alerts:w1", "alert:BTC", "rename:B"]
    assert transport.services == ["platform", "alerts", "alerts", "platform"]


async def test_mutation_plan_is_a_sequence() -> None:
    router, _ = router_over(SCHEMAS)
    plan = router.planner.plan(router.prepare(MUTATION, None)[0].document)
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "platform") {
              mutation {
                first: renameWatchlist(name: "A") {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "first") {
              Fetch(service: "alerts") {
                {
                  ... on Watchlist {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Watchlist {
                    alerts
                  }
                }
              },
            },
            Fetch(service: "alerts") {
              mutation {
                raiseAlert(symbol: "BTC")
              }
            },
            Fetch(service: "platform") {
              mutation {
                last: renameWatchlist(name: "B") {
                  name
                }
              }
            },
          },
        }"""
    )


async def test_get_never_runs_a_mutation() -> None:
    router, transport = router_over(SCHEMAS)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(router)), base_url="http://nexus"
    )
    response = await client.get("/graphql", params={"query": MUTATION})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert transport.requests == []


async def test_subscription_plan_forwards_to_the_owner_and_resolves_the_rest_per_event() -> None:
    router, _ = router_over(SCHEMAS)
    subscription = "subscription { watchlistAlerted { alerts name } }"
    plan = router.planner.plan(router.prepare(subscription, None)[0].document)
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Subscription {
            Primary: {
              Fetch(service: "alerts") {
                subscription {
                  watchlistAlerted {
                    alerts
                    __typename
                    id
                  }
                }
              },
            },
            Rest: {
              Flatten(path: "watchlistAlerted") {
                Fetch(service: "platform") {
                  {
                    ... on Watchlist {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Watchlist {
                      name
                    }
                  }
                },
              },
            },
          },
        }"""
    )
    response = await router.execute(subscription)
    assert response["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_TRANSPORT_REQUIRED"
