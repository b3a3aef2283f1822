"""@authenticated, @requiresScopes, @policy, @cost and @listSize reach the supergraph (for the
router to enforce), merged across subgraphs; Federation 2.8 contexts are refused clearly."""

from textwrap import dedent
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Cost, ListSize

from graph.compose import SubgraphSDL, client_schema_sdl, compose_supergraph
from graph.in_process import subgraph_sdl
from graph.supergraph import read_supergraph


@strawberry.federation.type(name="Portfolio", keys=["id"], authenticated=True)
class OwnedPortfolio:
    id: strawberry.ID
    value: float = strawberry.federation.field(shareable=True, requires_scopes=[["read:portfolio"]])


@strawberry.type(name="Query")
class PortfolioQuery:
    @strawberry.field(directives=[Cost(weight=5), ListSize(assumed_size=20)])
    def portfolios(self, first: int = 20) -> list[OwnedPortfolio]:
        return []


@strawberry.federation.type(name="Portfolio", keys=["id"])
class RiskedPortfolio:
    id: strawberry.ID
    value: float = strawberry.federation.field(
        shareable=True, requires_scopes=[["read:risk"], ["admin"]]
    )
    var95: float = strawberry.federation.field(policy=[["risk_desk"]])


SCHEMA_ARGS: dict[str, dict[str, Any]] = {
    "portfolios": {"query": PortfolioQuery},
    "risk": {"types": [RiskedPortfolio]},
}


def _supergraph() -> str:
    return compose_supergraph(
        [
            SubgraphSDL(name, f"http://{name}", subgraph_sdl(strawberry.federation.Schema(**args)))
            for name, args in SCHEMA_ARGS.items()
        ]
    )


def test_policy_directives_are_merged_into_the_supergraph() -> None:
    supergraph = _supergraph()
    portfolio = supergraph[supergraph.index("type Portfolio") : supergraph.index("type Query")]
    assert portfolio == dedent(
        """\
        type Portfolio
          @join__type(graph: PORTFOLIOS, key: "id")
          @join__type(graph: RISK, key: "id")
          @authenticated
        {
          id: ID!
          value: Float! @requiresScopes(scopes: [["admin", "read:portfolio"], \
["read:portfolio", "read:risk"]])
          var95: Float! @join__field(graph: RISK) @policy(policies: [["risk_desk"]])
        }

        """
    )
    assert '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)' in supergraph
    assert "scalar requiresScopes__Scope" in supergraph
    assert (
        "portfolios(first: Int! = 20): [Portfolio!]! "
        "@cost(weight: 5) @listSize(assumedSize: 20, requireOneSlicingArgument: true)"
    ) in supergraph


def test_reader_exposes_policies_for_the_router() -> None:
    supergraph = read_supergraph(_supergraph())
    portfolio = supergraph.types["Portfolio"]
    assert portfolio.policies == {"authenticated": {}}
    assert portfolio.fields["var95"].policies == {"policy": {"policies": [["risk_desk"]]}}
    assert supergraph.types["Query"].fields["portfolios"].policies["cost"] == {"weight": 5}


def test_contexts_compose_and_hide_the_argument_from_clients() -> None:
    sdl = """
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.8",
                        import: ["@key", "@context", "@fromContext"])
    type Query { t: T }
    type T @key(fields: "id") @context(name: "ctx") { id: ID! u: U }
    type U @key(fields: "id") { id: ID! v(x: String @fromContext(field: "$ctx { id }")): Int }
    """
    supergraph = compose_supergraph([SubgraphSDL("a", "http://a", sdl)])
    assert '@context(name: "a__ctx")' in supergraph
    assert (
        'contextArguments: [{context: "a__ctx", name: "x", type: "String", selection: " { id }"}]'
        in supergraph
    )
    assert "type U {\n  id: ID!\n  v: Int\n}" in client_schema_sdl(supergraph)
