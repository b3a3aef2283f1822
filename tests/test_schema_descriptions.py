"""Every type, field, argument, input field and enum value of the client schema is described.

The schema is composed from the subgraphs as they are now (not read from `schema.graphql`), so a
field added anywhere without a description fails here.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)
from graphql.type.introspection import introspection_types
from graphql.type.scalars import specified_scalar_types

from nexus.assembly.schema_export import client_schema


def undescribed(sdl: str) -> list[str]:
    """Coordinates (`Type.field(argument:)`) of every schema element without a description."""
    schema = build_schema(sdl)
    missing: list[str] = []
    for name, named in schema.type_map.items():
        if name in introspection_types or name in specified_scalar_types:
            continue
        if not (named.description or "").strip():
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg_name}:)"
                    for arg_name, arg in field.args.items()
                    if not (arg.description or "").strip()
                ]
        elif isinstance(named, GraphQLInputObjectType):
            missing += [
                f"{name}.{field_name}"
                for field_name, field in named.fields.items()
                if not (field.description or "").strip()
            ]
        elif isinstance(named, GraphQLEnumType):
            missing += [
                f"{name}.{value_name}"
                for value_name, value in named.values.items()
                if not (value.description or "").strip()
            ]
    return sorted(missing)


def test_the_checker_finds_undescribed_elements() -> None:
    sdl = '''
    """Root."""
    type Query {
      """Described."""
      bond(isin: String, "The date, ISO 8601." asOf: String): Bond
      plain: Int
    }
    type Bond { coupon: Float }
    """Side."""
    enum Side { """Buy.""" BUY SELL }
    '''
    assert undescribed(sdl) == [
        "Bond",
        "Bond.coupon",
        "Query.bond(isin:)",
        "Query.plain",
        "Side.SELL",
    ]


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed(client_schema())
    assert not missing, (
        f"{len(missing)} schema elements have no description (say what it is, with units): "
        + ", ".join(missing)
    )
