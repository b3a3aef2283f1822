"""@context / @fromContext (Federation 2.8): an argument filled by the router from a field of
the nearest ancestor of the context's type, one `_entities` call per distinct value."""

from textwrap import dedent
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Context, FromContext

from graph.in_process import compose_schemas
from tests.graph.support import router_over

CURRENCIES = {"u1": "EUR", "u2": "USD"}
RATES = {"EUR": 0.5, "USD": 1.0}


@strawberry.federation.type(name="User", keys=["id"])
class AccountUser:
    id: strawberry.ID

    @strawberry.field
    def currency(self) -> str:
        return CURRENCIES[str(self.id)]


@strawberry.type(name="Query")
class AccountsQuery:
    @strawberry.field
    def users(self) -> list[AccountUser]:
        return [AccountUser(id=strawberry.ID(i)) for i in CURRENCIES]


@strawberry.federation.type(keys=["id"])
class Transaction:
    id: strawberry.ID

    @strawberry.field
    def amount(
        self,
        currency: Annotated[
            str | None,
            strawberry.argument(directives=[FromContext(field="$userContext { currency }")]),
        ] = None,
    ) -> str:
        return f"{100 * RATES[currency or 'USD']:.2f} {currency}"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Transaction":
        return Transaction(id=id)


@strawberry.federation.type(name="User", keys=["id"], directives=[Context(name="userContext")])
class LedgerUser:
    id: strawberry.ID

    @strawberry.field
    def transactions(self) -> list[Transaction]:
        return [Transaction(id=strawberry.ID(f"{self.id}-t{n}")) for n in (1, 2)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "LedgerUser":
        return LedgerUser(id=id)


SCHEMAS = {
    "accounts": strawberry.federation.Schema(query=AccountsQuery, federation_version="2.8"),
    "ledger": strawberry.federation.Schema(types=[LedgerUser], federation_version="2.8"),
}
QUERY = "{ users { id transactions { id amount } } }"


def test_the_context_argument_is_not_in_the_client_schema() -> None:
    supergraph = compose_schemas(SCHEMAS)
    assert '@context(name: "ledger__userContext")' in supergraph
    assert "amount: String! @join__field(graph: LEDGER, contextArguments:" in supergraph


async def test_the_router_fills_the_argument_from_the_nearest_user() -> None:
    router, transport = router_over(SCHEMAS)
    assert await router.execute(QUERY) == {
        "data": {
            "users": [
                {
                    "id": "u1",
                    "transactions": [
                        {"id": "u1-t1", "amount": "50.00 EUR"},
                        {"id": "u1-t2", "amount": "50.00 EUR"},
                    ],
                },
                {
                    "id": "u2",
                    "transactions": [
                        {"id": "u2-t1", "amount": "100.00 USD"},
                        {"id": "u2-t2", "amount": "100.00 USD"},
                    ],
                },
            ]
        }
    }
    amounts = [v for s, q, v in transport.requests if "amount" in q]
    assert sorted(v["contextualArgument_0"] for v in amounts) == ["EUR", "USD"]


async def test_plan_reads_the_context_in_the_ancestors_fetch() -> None:
    router, _ = router_over(SCHEMAS)
    document = router.prepare(QUERY, None)[0].document
    assert str(router.planner.plan(document)) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "accounts") {
              {
                users {
                  id
                  __typename
                  currency
                }
              }
            },
            Flatten(path: "users.@") {
              Fetch(service: "ledger") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    transactions {
                      id
                      __typename
                    }
                  }
                }
              },
            },
            Flatten(path: "users.@.transactions.@") {
              Fetch(service: "ledger") {
                $contextualArgument_0 = users.@.currency on User
                {
                  ... on Transaction {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Transaction {
                    amount(currency: $contextualArgument_0)
                  }
                }
              },
            },
          },
        }"""
    )
