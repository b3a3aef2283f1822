"""Composition: subgraph SDL -> supergraph SDL and client schema, and clear composition errors."""

from __future__ import annotations

from textwrap import dedent

import pytest
import strawberry

from graph.compose import CompositionError, SubgraphSDL, client_schema_sdl, compose_supergraph

PRODUCTS = """
schema @link(url: "https://specs.apollo.dev/federation/v2.7",
             import: ["@key", "@shareable", {name: "@inaccessible", as: "@hidden"}]) {
  query: Query
}
type Product @key(fields: "id") @key(fields: "sku", resolvable: false) {
  id: ID!
  sku: String!
  name: String @shareable
  cost: Int @hidden
}
enum Currency { USD EUR }
type Query {
  products: [Product!]!
  _service: _Service!
  _entities(representations: [_Any!]!): [_Entity]!
}
scalar _Any
union _Entity = Product
type _Service { sdl: String! }
"""

REVIEWS_FED1 = """
extend type Product @key(fields: "id") {
  id: ID! @external
  name: String!
  reviews(first: Int = 5): [Review!]!
}
type Review { body: String! }
enum Currency { USD GBP }
extend type Query { topReview: Review }
"""


def _compose(*subgraphs: tuple[str, str]) -> str:
    return compose_supergraph([SubgraphSDL(name, f"http://{name}", sdl) for name, sdl in subgraphs])


def test_supergraph_types_carry_join_directives() -> None:
    supergraph = _compose(("reviews", REVIEWS_FED1), ("products", PRODUCTS))
    types = supergraph[supergraph.index("enum Currency") : supergraph.index("input join__")]
    assert types == dedent(
        """\
        enum Currency
          @join__type(graph: PRODUCTS)
          @join__type(graph: REVIEWS)
        {
          USD @join__enumValue(graph: PRODUCTS) @join__enumValue(graph: REVIEWS)
          EUR @join__enumValue(graph: PRODUCTS)
          GBP @join__enumValue(graph: REVIEWS)
        }

        type Product
          @join__type(graph: PRODUCTS, key: "id")
          @join__type(graph: PRODUCTS, key: "sku", resolvable: false)
          @join__type(graph: REVIEWS, key: "id", extension: true)
        {
          id: ID!
          sku: String! @join__field(graph: PRODUCTS)
          name: String @join__field(graph: PRODUCTS, type: "String") @join__field(graph: REVIEWS, type: "String!")
          cost: Int @join__field(graph: PRODUCTS) @inaccessible
          reviews(first: Int = 5): [Review!]! @join__field(graph: REVIEWS)
        }

        type Query
          @join__type(graph: PRODUCTS)
          @join__type(graph: REVIEWS)
        {
          products: [Product!]! @join__field(graph: PRODUCTS)
          topReview: Review @join__field(graph: REVIEWS)
        }

        type Review
          @join__type(graph: REVIEWS)
        {
          body: String!
        }

        """  # noqa: E501
    )
    assert supergraph.startswith(
        dedent(
            """\
            schema
              @link(url: "https://specs.apollo.dev/link/v1.0")
              @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
              @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
            {
              query: Query
            }
            """
        )
    )
    assert 'REVIEWS @join__graph(name: "reviews", url: "http://reviews")' in supergraph


def test_composition_is_deterministic_whatever_the_order() -> None:
    assert _compose(("reviews", REVIEWS_FED1), ("products", PRODUCTS)) == _compose(
        ("products", PRODUCTS), ("reviews", REVIEWS_FED1)
    )


def test_client_schema_hides_machinery_and_inaccessible() -> None:
    supergraph = _compose(("reviews", REVIEWS_FED1), ("products", PRODUCTS))
    assert client_schema_sdl(supergraph) == dedent(
        """\
        enum Currency {
          EUR
          GBP
          USD
        }

        type Product {
          id: ID!
          name: String
          reviews(first: Int = 5): [Review!]!
          sku: String!
        }

        type Query {
          products: [Product!]!
          topReview: Review
        }

        type Review {
          body: String!
        }"""
    )


@strawberry.federation.type(keys=["id"])
class Coin:
    id: strawberry.ID
    symbol: str = strawberry.federation.field(shareable=True)


@strawberry.type
class CoinQuery:
    @strawberry.field
    def coins(self) -> list[Coin]:
        return []


def test_strawberry_subgraph_sdl_composes() -> None:
    schema = strawberry.federation.Schema(query=CoinQuery)
    sdl = schema.execute_sync("{ _service { sdl } }").data["_service"]["sdl"]  # type: ignore[index]
    supergraph = _compose(("crypto", sdl))
    assert client_schema_sdl(supergraph) == dedent(
        """\
        type Coin {
          id: ID!
          symbol: String!
        }

        type Query {
          coins: [Coin!]!
        }"""
    )


def _errors(*subgraphs: tuple[str, str]) -> list[str]:
    with pytest.raises(CompositionError) as raised:
        _compose(*subgraphs)
    return raised.value.messages


FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'


def test_field_in_two_subgraphs_without_shareable_is_an_error() -> None:
    assert _errors(
        ("a", FED2 + "type Query { price: Int }"),
        ("b", FED2 + "type Query { price: Int }"),
    ) == [
        'Non-shareable field "Query.price" is resolved from subgraphs "a", "b" but is not '
        '@shareable in subgraphs "a", "b"; mark it @shareable in every subgraph that resolves '
        "it, or resolve it in one subgraph only."
    ]


def test_incompatible_field_types_are_an_error() -> None:
    shareable = FED2.replace('"@key"', '"@key", "@shareable"')
    assert _errors(
        ("a", shareable + "type Query { price: Int @shareable }"),
        ("b", shareable + "type Query { price: [Int] @shareable }"),
    ) == [
        'Field "Query.price" has incompatible types across subgraphs: "Int" in subgraph "a" but '
        '"[Int]" in subgraph "b"; use one type (nullability may differ).'
    ]


def test_key_naming_a_missing_field_is_an_error() -> None:
    assert _errors(
        ("a", FED2 + 'type Query { p: P } type P @key(fields: "upc") { id: ID! }'),
    ) == [
        '@key(fields: "upc") on type "P" in subgraph "a" names field "P.upc", which subgraph '
        '"a" does not define; add the field (as @external if another subgraph resolves it) or '
        "fix the key."
    ]


def test_kind_mismatch_and_bad_sdl_are_errors() -> None:
    messages = _errors(
        ("a", FED2 + "type Query { p: P } type P { id: ID }"),
        ("b", FED2 + "type Query { q: P } interface P { id: ID }"),
    )
    assert messages == [
        'Type "P" has different kinds across subgraphs (object in "a"; interface in "b"); '
        "declare it with the same kind everywhere."
    ]
    assert _errors(("broken", "type Query {")) == [
        'Subgraph "broken" has invalid SDL: Syntax Error: Expected Name, found <EOF>.; fix its '
        "schema."
    ]


def test_input_enums_keep_the_values_every_subgraph_accepts() -> None:
    supergraph = _compose(
        ("a", FED2 + "enum Unit { KG LB } type Query { weigh(unit: Unit): Int }"),
        ("b", FED2 + "enum Unit { KG OZ } type Query { ship(unit: Unit): Int }"),
    )
    assert "enum Unit {\n  KG\n}" in client_schema_sdl(supergraph)


def test_enum_used_both_ways_must_match() -> None:
    assert _errors(
        ("a", FED2 + "enum Unit { KG LB } type Query { weigh(unit: Unit): Unit }"),
        ("b", FED2 + "enum Unit { KG } type Query { ship(unit: Unit): Int }"),
    ) == [
        'Enum "Unit" is used as both an input and an output, so every subgraph must define the '
        'same values; subgraph "b" lacks "LB".'
    ]


def test_composed_schema_must_be_valid_graphql() -> None:
    shareable = FED2.replace('"@key"', '"@key", "@shareable"')
    messages = _errors(
        ("a", shareable + "interface Named { name: String } type Query { n: Named }"),
        ("b", shareable + "type Coin implements Named { id: ID } type Query { c: Coin }"),
    )
    assert messages == [
        "The composed schema is invalid: Interface field Named.name expected but Coin does not "
        "provide it."
    ]
