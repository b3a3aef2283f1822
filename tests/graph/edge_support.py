"""Two small subgraphs with access and demand-control directives, callers made of real `Caller`
objects, and an authenticator over them (as the platform's checks keys and tokens)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Authenticated, Cost, ListSize

from graph.edge.authn import AuthenticationFailed
from graph.edge.context import current_caller
from nexus.auth.caller import ANONYMOUS, Caller, PlanLimits
from nexus.demand import assumed_size

PRO = PlanLimits(
    name="pro", cost_per_minute=60, max_operation_cost=40, max_subscriptions=2, scopes=frozenset()
)
ANALYST = Caller(
    kind="api_key",
    user_id="u-ada",
    organization_id="org-a",
    role="member",
    scopes=frozenset({"market:read"}),
    plan=PRO,
    api_key_id="key-1",
)
HOLDERS_READER = Caller(
    kind="user",
    user_id="u-bob",
    organization_id="org-a",
    role="admin",
    scopes=frozenset({"market:read", "holders:read"}),
    plan=PRO,
    token_id="jti-1",
)


class FakeAuthenticator:
    """API keys and bearer tokens by their secret; a revoked secret is refused from then on."""

    def __init__(self, callers: Mapping[str, Caller]) -> None:
        self.callers = dict(callers)
        self.calls = 0

    def revoke(self, secret: str) -> None:
        self.callers.pop(secret, None)

    async def authenticate(self, credentials: Mapping[str, str]) -> Caller:
        self.calls += 1
        if not credentials:
            return ANONYMOUS
        secret = credentials.get("x-api-key")
        authorization = credentials.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise AuthenticationFailed("The Authorization header must be `Bearer <token>`.")
            secret = token
        caller = self.callers.get(secret or "")
        if caller is None:
            raise AuthenticationFailed("The API key or token is not valid.")
        return caller


def authenticator() -> FakeAuthenticator:
    return FakeAuthenticator({"nxa_analyst": ANALYST, "jwt-bob": HOLDERS_READER})


def _caller(info: strawberry.Info) -> Caller:
    caller = info.context["caller"]
    assert isinstance(caller, Caller)
    return caller


@strawberry.federation.type(keys=["symbol"])
class Quote:
    symbol: strawberry.ID
    price: float


@strawberry.type
class MarketQuery:
    @strawberry.field(
        directives=[ListSize(slicing_arguments=["first"], require_one_slicing_argument=False)]
    )
    def quotes(self, first: int = 3) -> list[Quote]:
        return [Quote(symbol=strawberry.ID(f"S{n}"), price=float(n)) for n in range(first)]

    @strawberry.field(directives=[assumed_size(31)], name="history")
    def history(
        self,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
    ) -> list[Quote]:
        return [Quote(symbol=strawberry.ID("S1"), price=1.0)]

    @strawberry.field(directives=[ListSize(assumed_size=5)])
    def movers(self) -> list[Quote]:
        return [Quote(symbol=strawberry.ID("S1"), price=1.0)]


@strawberry.type
class MarketMutation:
    @strawberry.mutation
    def touch(self, symbol: str) -> Quote:
        return Quote(symbol=strawberry.ID(symbol), price=0.0)


MARKET = strawberry.federation.Schema(query=MarketQuery, mutation=MarketMutation)


@strawberry.federation.type(name="Quote", keys=["symbol"])
class HeldQuote:
    symbol: strawberry.ID
    holders: int | None = strawberry.federation.field(
        requires_scopes=[["holders:read"]], directives=[Cost(weight=4)]
    )

    @classmethod
    def resolve_reference(cls, symbol: strawberry.ID) -> HeldQuote:
        return HeldQuote(symbol=symbol, holders=len(symbol) * 100)


@strawberry.type
class Account:
    user_id: str | None
    organization_id: str | None


@strawberry.type
class AccountsQuery:
    @strawberry.federation.field(authenticated=True)
    def whoami(self, info: strawberry.Info) -> Account | None:
        caller = _caller(info)
        return Account(user_id=caller.user_id, organization_id=caller.organization_id)

    @strawberry.field
    def caller_kind(self, info: strawberry.Info) -> str:
        return _caller(info).kind


@strawberry.type
class AccountsSubscription:
    @strawberry.subscription(directives=[Authenticated()])
    async def alerts(self, info: strawberry.Info) -> AsyncGenerator[str, None]:
        caller = _caller(info)
        for n in range(1000):
            yield f"{caller.user_id}:{n}"
            await asyncio.sleep(0.05)


ACCOUNTS = strawberry.federation.Schema(
    query=AccountsQuery, subscription=AccountsSubscription, types=[HeldQuote]
)
SCHEMAS = {"market": MARKET, "accounts": ACCOUNTS}


class ContextLog:
    """Builds each subgraph call's context with the operation's caller, and counts them."""

    def __init__(self) -> None:
        self.built: list[tuple[str, Caller]] = []

    def factory(self, name: str) -> Any:
        def make() -> dict[str, Any]:
            caller = current_caller()
            self.built.append((name, caller))
            return {"caller": caller}

        return make

    def contexts(self) -> dict[str, Any]:
        return {name: self.factory(name) for name in SCHEMAS}
