"""Progressive @override: `percent(x)` moves x% of requests to the new subgraph; a named label
moves every request once the deployment switches it on."""

from collections.abc import Iterator
from itertools import cycle
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Override

from graph.compose import SubgraphSDL, compose_supergraph
from graph.in_process import compose_schemas, subgraph_sdl
from graph.override_labels import OverrideLabels
from graph.router import Router
from graph.supergraph import read_supergraph
from tests.graph.support import RecordingTransport


@strawberry.federation.type(name="Coin", keys=["id"])
class LegacyCoin:
    id: strawberry.ID
    price: float
    volume: float


@strawberry.type(name="Query")
class LegacyQuery:
    @strawberry.field
    def coins(self) -> list[LegacyCoin]:
        return [LegacyCoin(id=strawberry.ID("btc"), price=1.0, volume=10.0)]


@strawberry.federation.type(name="Coin", keys=["id"])
class QuotedCoin:
    id: strawberry.ID
    price: float = strawberry.federation.field(
        override=Override(override_from="legacy", label="percent(25)")
    )
    volume: float = strawberry.federation.field(
        override=Override(override_from="legacy", label="new-volumes")
    )

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "QuotedCoin":
        return QuotedCoin(id=id, price=2.0, volume=20.0)


SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "legacy": {"query": LegacyQuery},
    "quotes": {"types": [QuotedCoin]},
}
SCHEMAS = {name: strawberry.federation.Schema(**args) for name, args in SCHEMA_ARGS.items()}


def test_labelled_overrides_keep_both_subgraphs_in_the_supergraph() -> None:
    supergraph = compose_supergraph(
        [SubgraphSDL(n, f"http://{n}", subgraph_sdl(s)) for n, s in SCHEMAS.items()]
    )
    assert (
        'price: Float! @join__field(graph: LEGACY, overrideLabel: "percent(25)") '
        '@join__field(graph: QUOTES, override: "legacy", overrideLabel: "percent(25)")'
    ) in supergraph
    assert read_supergraph(supergraph).override_labels == {"percent(25)", "new-volumes"}


def _router(rolls: Iterator[float], enabled: tuple[str, ...] = ()) -> tuple[Router, Any]:
    supergraph = read_supergraph(compose_schemas(SCHEMAS))
    labels = OverrideLabels(supergraph.override_labels, enabled=enabled, roll=lambda: next(rolls))
    transport = RecordingTransport(SCHEMAS)
    return Router(supergraph, transport, override_labels=labels), transport


async def test_percent_label_sends_that_share_of_requests_to_the_new_subgraph() -> None:
    router, transport = _router(cycle([0.10, 0.60, 0.90, 0.20]))  # on for 10% and 20%
    prices = [
        (await router.execute("{ coins { price } }"))["data"]["coins"][0]["price"] for _ in range(4)
    ]
    assert prices == [2.0, 1.0, 1.0, 2.0]
    assert transport.services == ["legacy", "quotes", "legacy", "legacy", "legacy", "quotes"]
    assert (router.planner.plans_built, router.planner.cache_hits) == (2, 2)


async def test_named_label_moves_every_request_once_enabled() -> None:
    off, _ = _router(cycle([0.99]))
    on, _ = _router(cycle([0.99]), enabled=("new-volumes",))
    assert await off.execute("{ coins { volume } }") == {"data": {"coins": [{"volume": 10.0}]}}
    assert await on.execute("{ coins { volume } }") == {"data": {"coins": [{"volume": 20.0}]}}
