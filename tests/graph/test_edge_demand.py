"""Demand control: each operation's cost estimated from @cost/@listSize before it runs, refused
over the plan's maximum, debited from the caller's per-minute budget (one budget across router
processes through Redis), with 429 + Retry-After over budget and RateLimit headers always."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import pytest
import strawberry
from strawberry.federation.schema_directives import Cost, ListSize

from graph.edge.budget import Budget, InProcessBudget, RedisBudget, open_budget
from graph.edge.demand import DemandControl
from graph.gateway import create_app
from graph.in_process import in_process_router
from tests.graph.edge_support import SCHEMAS, ContextLog, authenticator
from tests.support.redis_server import RedisServer

KEY = {"x-api-key": "nxa_analyst"}  # the pro plan: 60 units a minute, 40 at most per operation


def _client(budget: Budget, log: ContextLog | None = None) -> httpx.AsyncClient:
    contexts = (log or ContextLog()).contexts()
    router = in_process_router(SCHEMAS, contexts=contexts, demand=DemandControl(budget))
    app = create_app(router, authenticator=authenticator())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nexus")


def _quotes(first: int) -> dict[str, object]:
    return {
        "query": "query Q($n: Int!) { quotes(first: $n) { symbol price } }",
        "variables": {"n": first},
    }


@pytest.mark.parametrize(
    ("query", "estimated", "actual"),
    [
        # a list of objects: 1 per object, times the slicing argument (a variable here)
        ("{ quotes(first: 4) { symbol price } }", 4, 4),
        # the slicing argument's default (3) when none is passed
        ("{ quotes { symbol } }", 3, 3),
        # @listSize(assumedSize: 5) where there is no slicing argument; 1 mover comes back
        ("{ movers { symbol } }", 5, 1),
        # a daily series given `from` and `to`: the days in the range, not the assumed 31
        ('{ history(from: "2021-01-25", to: "2021-01-29") { symbol } }', 5, 1),
        ("{ history { symbol } }", 31, 1),
        # @cost(weight: 4) on Quote.holders, fetched from the second subgraph
        ("{ quotes(first: 2) { symbol holders } }", 10, 10),
        # a mutation's root field costs 10 on top of its object
        ('mutation { touch(symbol: "X") { symbol } }', 11, 11),
    ],
)
async def test_estimated_and_actual_costs_follow_the_directives(
    query: str, estimated: int, actual: int
) -> None:
    async with _client(InProcessBudget()) as client:
        response = await client.post(
            "/graphql", json={"query": query}, headers={"authorization": "Bearer jwt-bob"}
        )
    assert response.json()["extensions"]["cost"] == {"estimated": estimated, "actual": actual}


@strawberry.type
class Coupon:
    amount: float


@strawberry.type
class Bond:
    id: strawberry.ID
    rating: str = strawberry.field(directives=[Cost(weight=3)])
    coupons: list[Coupon]


@strawberry.type
class Cash:
    id: strawberry.ID
    rating: str  # same name as Bond's, no weight: a Cash costs 1 whatever it selects


@strawberry.type
class HoldingsQuery:
    @strawberry.field(directives=[ListSize(assumed_size=10)])
    def holdings(self) -> list[Annotated[Bond | Cash, strawberry.union("Holding")] | None]:
        coupon = Coupon(amount=1.5)
        return [
            Bond(id=strawberry.ID("b1"), rating="AA", coupons=[coupon, coupon]),
            Cash(id=strawberry.ID("c1"), rating="n/a"),
            None,
            Bond(id=strawberry.ID("b2"), rating="B", coupons=[]),
        ]

    @strawberry.field
    def grid(self) -> list[list[Cash]]:
        cash = Cash(id=strawberry.ID("c"), rating="n/a")
        return [[cash, cash], [cash]]


async def test_the_actual_cost_counts_each_object_by_its_own_type_and_real_list_lengths() -> None:
    """A union's members weighed by the type each item has (Bond.rating costs 3, Cash.rating
    nothing), nulls free, lists of lists at their real lengths."""
    schema = strawberry.federation.Schema(query=HoldingsQuery, types=[Bond, Cash])
    # Measured, not enforced: the estimate (lists at their assumed sizes) is over the plan's.
    demand = DemandControl(InProcessBudget(), enforce=False)
    router = in_process_router({"holdings": schema}, demand=demand)
    app = create_app(router, authenticator=authenticator())
    query = """{
      holdings { ... on Bond { rating coupons { amount } } ... on Cash { rating } }
      grid { id }
    }"""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://nexus"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": query}, headers={"authorization": "Bearer jwt-bob"}
        )
    body = response.json()
    assert body["data"]["holdings"][2] is None
    # Bonds: 1 + 3 (rating) + 1 per coupon: 6 and 4; the Cash 1; the null 0; grid: 3 Cash.
    assert body["extensions"]["cost"]["actual"] == 6 + 1 + 0 + 4 + 3


async def test_an_operation_over_the_plans_maximum_is_refused_before_it_runs() -> None:
    log = ContextLog()
    async with _client(InProcessBudget(), log) as client:
        response = await client.post("/graphql", json=_quotes(50), headers=KEY)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert "50 cost units" in body["errors"][0]["message"]
    assert "at most 40" in body["errors"][0]["message"]
    assert "data" not in body
    assert log.built == []


async def test_a_refusal_names_the_dearest_fields_and_tells_anonymous_callers_of_keys() -> None:
    """The message points at what to cut: the root fields dearest first, as the request names
    them (an alias), each with its estimate; an anonymous caller is also told that signing in
    or a key raises the limit (its plan's maximum is 500 here, the pro key's 40)."""
    query = """{
      few: quotes(first: 30) { symbol }
      movers { symbol }
      history { symbol }
    }"""
    many = "{ a: quotes(first: 300) { symbol } b: quotes(first: 250) { symbol } }"
    log = ContextLog()
    async with _client(InProcessBudget(), log) as client:
        keyed = (await client.post("/graphql", json={"query": query}, headers=KEY)).json()
        anonymous = (await client.post("/graphql", json={"query": many})).json()
    [error] = keyed["errors"]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert "estimated cost is 66 cost units" in error["message"]
    assert "Dearest fields: `history` 31, `few` 30, `movers` 5." in error["message"]
    assert "API key" not in error["message"]
    [error] = anonymous["errors"]
    assert "estimated cost is 550 cost units" in error["message"]
    assert "the anonymous plan allows at most 500" in error["message"]
    assert "Dearest fields: `a` 300, `b` 250." in error["message"]
    assert "sign in or send an API key" in error["message"]
    assert "data" not in keyed and "data" not in anonymous
    assert log.built == []  # refused before any subgraph was asked


async def _spend(clients: list[httpx.AsyncClient]) -> list[httpx.Response]:
    """Four operations of 20 units each against a budget of 60 a minute, across `clients`."""
    return [
        await clients[n % len(clients)].post("/graphql", json=_quotes(20), headers=KEY)
        for n in range(4)
    ]


def _assert_one_budget(responses: list[httpx.Response]) -> None:
    first, *_, last = responses
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert first.headers["ratelimit-policy"] == '"cost";q=60;w=60'
    assert first.headers["ratelimit"] == '"cost";r=40;t=20'
    assert first.json()["extensions"]["cost"] == {"estimated": 20, "actual": 20}
    assert last.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "data" not in last.json()
    # 20 units at 60 a minute come back in about 20 s
    assert 18 <= int(last.headers["retry-after"]) <= 21
    assert last.headers["ratelimit"].startswith('"cost";r=')


async def test_over_budget_the_caller_gets_429_with_retry_after() -> None:
    async with _client(InProcessBudget()) as client:
        responses = await _spend([client])
        _assert_one_budget(responses)
        # another caller has a budget of its own
        other = await client.post(
            "/graphql", json=_quotes(20), headers={"authorization": "Bearer jwt-bob"}
        )
        assert other.status_code == 200


@pytest.mark.redis
async def test_two_routers_on_one_redis_enforce_one_budget(redis_server: RedisServer) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    # As deployed (open_budget): slices per caller; the pro plan's 60 units a minute make
    # slices too small for any of these operations, so each is debited in Redis.
    budgets = [open_budget(redis_server.url, prefix=prefix) for _ in range(2)]
    clients = [_client(budget) for budget in budgets]
    try:
        _assert_one_budget(await _spend(clients))
    finally:
        for client, budget in zip(clients, budgets, strict=True):
            await client.aclose()
            await budget.close()


@pytest.mark.redis
async def test_an_unreachable_budget_store_lets_operations_through(tmp_path: Path) -> None:
    budget = RedisBudget("redis://127.0.0.1:1/0")
    async with _client(budget) as client:
        response = await client.post("/graphql", json=_quotes(2), headers=KEY)
    assert response.status_code == 200
    assert response.json()["data"]["quotes"] == [
        {"symbol": "S0", "price": 0.0},
        {"symbol": "S1", "price": 1.0},
    ]
    await budget.close()


@pytest.mark.redis
async def test_a_burst_beyond_the_connection_pool_is_still_debited(
    redis_server: RedisServer,
) -> None:
    # 300 debits at once against a 100-unit budget: every debit must reach Redis (a burst
    # larger than the pool once ran undebited), so exactly 100 are allowed.
    budget = RedisBudget(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        debits = await asyncio.gather(*(budget.debit("burst", 1, 100) for _ in range(300)))
    finally:
        await budget.close()
    assert sum(debit.allowed for debit in debits) == 100
    assert min(debit.remaining for debit in debits if debit.allowed) == 0
