"""Reading a supergraph composed by other tooling (Apollo style, join v0.3) and planning on it."""

from pathlib import Path
from textwrap import dedent

import pytest
from graphql import parse

from graph.compose import SubgraphSDL, client_schema_sdl, compose_supergraph
from graph.planner import QueryPlanner, UnsatisfiableFieldError
from graph.supergraph import SupergraphError, read_supergraph

FIXTURE = (Path(__file__).parent / "fixtures" / "apollo_supergraph.graphql").read_text()


def test_reader_understands_join_directives() -> None:
    supergraph = read_supergraph(FIXTURE)
    assert {n: s.url for n, s in supergraph.subgraphs.items()} == {
        "catalog": "http://catalog:4001/graphql",
        "quotes": "http://quotes:4002/graphql",
        "social": "http://social:4003/graphql",
    }
    stock = supergraph.types["Stock"]
    assert [(g, [k.fields for k in t.keys if k.resolvable]) for g, t in stock.graphs.items()] == [
        ("catalog", ["ticker"]),
        ("quotes", ["ticker"]),
        ("social", []),
    ]
    assert supergraph.graphs_resolving("Stock", "ticker") == ["catalog", "quotes", "social"]
    assert supergraph.graphs_resolving("Stock", "currency") == ["catalog"]
    assert supergraph.graphs_resolving("Stock", "mentions") == ["quotes"]
    assert supergraph.possible_types("Search", "social") == ["Post", "Stock"]
    assert supergraph.possible_types("Asset") == ["Stock"]


def test_client_schema_of_a_foreign_supergraph() -> None:
    assert client_schema_sdl(FIXTURE) == dedent(
        """\
        interface Asset {
          id: ID!
          name: String
        }

        enum Currency {
          EUR
          USD
        }

        type Post {
          body: String!
        }

        type Query {
          assets: [Asset!]!
          stock(ticker: String!): Stock
          trending: [Search!]!
        }

        union Search = Post | Stock

        type Stock implements Asset {
          currency: Currency
          id: ID!
          mentions: Int
          name: String
          price: Float
          ticker: String!
        }"""
    )


def test_plan_on_a_foreign_supergraph() -> None:
    planner = QueryPlanner(read_supergraph(FIXTURE))
    query = "{ trending { ... on Stock { ticker price mentions } ... on Post { body } } }"
    assert str(planner.plan(parse(query))) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "social") {
              {
                trending {
                  __typename
                  ... on Post {
                    body
                  }
                  ... on Stock {
                    ticker
                    __typename
                  }
                }
              }
            },
            Flatten(path: "trending.@") {
              Fetch(service: "catalog") {
                {
                  ... on Stock {
                    __typename
                    ticker
                  }
                } =>
                {
                  ... on Stock {
                    currency
                  }
                }
              },
            },
            Flatten(path: "trending.@") {
              Fetch(service: "quotes") {
                {
                  ... on Stock {
                    __typename
                    ticker
                    currency
                  }
                } =>
                {
                  ... on Stock {
                    price
                    mentions
                  }
                }
              },
            },
          },
        }"""
    )


def test_fed1_subgraphs_compose_and_plan() -> None:
    supergraph = compose_supergraph(
        [
            SubgraphSDL(
                "prices",
                "http://prices",
                "type Query { coin(id: ID!): Coin } "
                'type Coin @key(fields: "id") { id: ID! usd: Float }',
            ),
            SubgraphSDL(
                "chain",
                "http://chain",
                'extend type Coin @key(fields: "id") { id: ID! @external holders: Int }',
            ),
        ]
    )
    planner = QueryPlanner(read_supergraph(supergraph))
    plan = planner.plan(parse('{ coin(id: "btc") { usd holders } }'))
    assert [line.strip() for line in str(plan).splitlines() if "service" in line] == [
        'Fetch(service: "prices") {',
        'Fetch(service: "chain") {',
    ]


def test_unreachable_field_is_a_planning_error() -> None:
    supergraph = compose_supergraph(
        [
            SubgraphSDL(
                "a",
                "http://a",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
                'import: ["@shareable"]) type Query { t: T } type T { id: ID! @shareable }',
            ),
            SubgraphSDL(
                "b",
                "http://b",
                'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
                'import: ["@key"]) type T @key(fields: "id", resolvable: false) { id: ID! x: Int }',
            ),
        ],
        check_satisfiability=False,  # composition would refuse it (test_fed_unsatisfiable)
    )
    planner = QueryPlanner(read_supergraph(supergraph))
    with pytest.raises(UnsatisfiableFieldError, match=r'Cannot resolve "T.x" from subgraph "a"'):
        planner.plan(parse("{ t { x } }"))


def test_not_a_supergraph() -> None:
    with pytest.raises(SupergraphError, match="not a supergraph"):
        read_supergraph("type Query { a: Int }")
