"""@key variants (compound, nested, several, `resolvable: false`), @shareable, @override,
@inaccessible, and @requires with arguments and nested selections."""

from textwrap import dedent
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key

from tests.graph.support import router_over

TIERS = {"a1": "gold", "a2": "silver"}


@strawberry.federation.type(name="Account", keys=[Key(fields="id", resolvable=False)])
class AccountRef:
    id: strawberry.ID


@strawberry.federation.type(name="Position", keys=["account { id } symbol"])
class HeldPosition:
    account: AccountRef
    symbol: str
    quantity: int


@strawberry.federation.type(name="Instrument", keys=["id", "isin"])
class ListedInstrument:
    id: strawberry.ID
    isin: str
    name: str = strawberry.federation.field(shareable=True)
    venue: str


@strawberry.type(name="Query")
class LedgerQuery:
    @strawberry.field
    def positions(self) -> list[HeldPosition]:
        return [
            HeldPosition(account=AccountRef(id=strawberry.ID("a1")), symbol="GME", quantity=10),
            HeldPosition(account=AccountRef(id=strawberry.ID("a2")), symbol="BTC", quantity=2),
        ]

    @strawberry.field
    def instrument(self) -> ListedInstrument:
        return ListedInstrument(
            id=strawberry.ID("i1"), isin="US36467W1099", name="GameStop (ledger)", venue="NYSE"
        )


@strawberry.federation.type(name="Account", keys=["id"])
class CustomerAccount:
    id: strawberry.ID
    tier: str = strawberry.federation.field(inaccessible=True)
    owner: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "CustomerAccount":
        return CustomerAccount(id=id, tier=TIERS[str(id)], owner=f"owner-{id}")


@strawberry.federation.type(name="Account", keys=["id"])
class RiskAccount:
    id: strawberry.ID
    tier: str = strawberry.federation.field(external=True)


@strawberry.federation.type(name="Position", keys=["account { id } symbol"])
class RiskPosition:
    account: RiskAccount = strawberry.federation.field(shareable=True)
    symbol: str = strawberry.federation.field(shareable=True)
    quantity: int = strawberry.federation.field(external=True)

    @strawberry.federation.field(requires=["quantity account { tier }"])
    def exposure(self, multiplier: int = 1) -> float:
        boost = 2 if self.account.tier == "gold" else 1
        return float(self.quantity * multiplier * boost)

    @classmethod
    def resolve_reference(cls, **representation: object) -> "RiskPosition":
        account = representation["account"]
        assert isinstance(account, dict)
        return RiskPosition(
            account=RiskAccount(id=account["id"], tier=account.get("tier", "")),
            symbol=str(representation["symbol"]),
            quantity=int(representation.get("quantity", 0)),  # type: ignore[call-overload]
        )


@strawberry.federation.type(name="Instrument", keys=["isin"])
class RatedInstrument:
    isin: str

    @strawberry.field
    def rating(self) -> str:
        return "BBB"

    @classmethod
    def resolve_reference(cls, isin: str) -> "RatedInstrument":
        return RatedInstrument(isin=isin)


@strawberry.federation.type(name="Instrument", keys=["id"])
class ReferenceInstrument:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True, override="ledger")

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "ReferenceInstrument":
        return ReferenceInstrument(id=id, name="GameStop Corp.")


# Each subgraph's Schema arguments, so the interop tests can rebuild them for v2.9.
SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "ledger": {"query": LedgerQuery},
    "customers": {"types": [CustomerAccount]},
    "risk": {"types": [RiskPosition]},
    "ratings": {"types": [RatedInstrument]},
    "reference": {"types": [ReferenceInstrument]},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}


async def test_nested_compound_key_and_nested_requires_with_arguments() -> None:
    router, transport = router_over(SCHEMAS)
    query = "{ positions { symbol exposure(multiplier: 3) account { owner } } }"
    assert await router.execute(query) == {
        "data": {
            "positions": [
                {"symbol": "GME", "exposure": 60.0, "account": {"owner": "owner-a1"}},
                {"symbol": "BTC", "exposure": 6.0, "account": {"owner": "owner-a2"}},
            ]
        }
    }
    risk_call = next(v for s, _, v in transport.requests if s == "risk")
    assert risk_call == {
        "representations": [
            {
                "__typename": "Position",
                "account": {"id": "a1", "tier": "gold"},
                "symbol": "GME",
                "quantity": 10,
            },
            {
                "__typename": "Position",
                "account": {"id": "a2", "tier": "silver"},
                "symbol": "BTC",
                "quantity": 2,
            },
        ]
    }


async def test_requires_from_another_subgraph_is_fetched_first() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare("{ positions { exposure } }", None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "ledger") {
              {
                positions {
                  __typename
                  account {
                    id
                    __typename
                  }
                  symbol
                  quantity
                }
              }
            },
            Flatten(path: "positions.@.account") {
              Fetch(service: "customers") {
                {
                  ... on Account {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Account {
                    tier
                  }
                }
              },
            },
            Flatten(path: "positions.@") {
              Fetch(service: "risk") {
                {
                  ... on Position {
                    __typename
                    account {
                      id
                      tier
                    }
                    symbol
                    quantity
                  }
                } =>
                {
                  ... on Position {
                    exposure
                  }
                }
              },
            },
          },
        }"""
    )


async def test_several_keys_each_jump_uses_a_key_the_target_resolves() -> None:
    router, transport = router_over(SCHEMAS)
    response = await router.execute("{ instrument { venue rating name } }")
    assert response == {
        "data": {"instrument": {"venue": "NYSE", "rating": "BBB", "name": "GameStop Corp."}}
    }
    sent = {s: v for s, _, v in transport.requests if v}
    assert sent["ratings"] == {
        "representations": [{"__typename": "Instrument", "isin": "US36467W1099"}]
    }
    assert sent["reference"] == {"representations": [{"__typename": "Instrument", "id": "i1"}]}


async def test_inaccessible_fields_are_hidden_from_clients_and_introspection() -> None:
    router, _ = router_over(SCHEMAS)
    response = await router.execute("{ positions { account { tier } } }")
    assert response["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    introspection = await router.execute('{ __type(name: "Account") { fields { name } } }')
    assert introspection == {"data": {"__type": {"fields": [{"name": "id"}, {"name": "owner"}]}}}


async def test_unresolvable_key_reference_needs_no_fetch_for_the_key_itself() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute("{ positions { account { id } } }") == {
        "data": {"positions": [{"account": {"id": "a1"}}, {"account": {"id": "a2"}}]}
    }
    assert transport.services == ["ledger"]
