"""@shareable value types and fields: resolved where the parent already is, never re-fetched."""

from typing import Any

import strawberry

from tests.graph.support import router_over


@strawberry.federation.type(name="Money", shareable=True)
class QuotedMoney:
    amount: float
    currency: str


@strawberry.federation.type(name="Coin", keys=["id"])
class QuotedCoin:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)
    price: QuotedMoney


@strawberry.type(name="Query")
class QuotesQuery:
    @strawberry.field
    def coin(self, id: strawberry.ID) -> QuotedCoin:
        return QuotedCoin(id=id, name="Bitcoin", price=QuotedMoney(amount=64000.0, currency="USD"))


@strawberry.federation.type(name="Money", shareable=True)
class ConvertedMoney:
    amount: float
    currency: str


@strawberry.federation.type(name="Coin", keys=["id"])
class ListedCoin:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)
    listed_on: list[str]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "ListedCoin":
        return ListedCoin(id=id, name="Bitcoin", listed_on=["Coinbase", "Kraken"])


@strawberry.type(name="Query")
class FxQuery:
    @strawberry.field
    def convert(self, amount: float) -> ConvertedMoney:
        return ConvertedMoney(amount=amount * 0.92, currency="EUR")

    @strawberry.field
    def listed(self) -> list[ListedCoin]:
        return [ListedCoin.resolve_reference(strawberry.ID("btc"))]


SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "quotes": {"query": QuotesQuery},
    "fx": {"query": FxQuery},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}


async def test_shareable_value_types_resolve_in_each_root_subgraph() -> None:
    router, transport = router_over(SCHEMAS)
    query = '{ coin(id: "btc") { price { amount currency } } convert(amount: 100) { currency } }'
    assert await router.execute(query) == {
        "data": {
            "coin": {"price": {"amount": 64000.0, "currency": "USD"}},
            "convert": {"currency": "EUR"},
        }
    }
    assert sorted(transport.services) == ["fx", "quotes"]


async def test_shareable_field_comes_from_the_parent_subgraph() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute('{ coin(id: "btc") { name } listed { name } }') == {
        "data": {"coin": {"name": "Bitcoin"}, "listed": [{"name": "Bitcoin"}]}
    }
    assert sorted(transport.services) == ["fx", "quotes"]
    await router.execute('{ coin(id: "btc") { name listedOn } }')
    assert transport.services[2:] == ["quotes", "fx"]
