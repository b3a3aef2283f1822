"""Composition: subgraph SDL in, standard supergraph SDL (link v1.0, join v0.5) out."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError, parse, validate_schema

from graph.compose.errors import CompositionError
from graph.compose.merge import merge_subgraphs
from graph.compose.printer import print_supergraph
from graph.compose.satisfiability import unreachable_fields
from graph.compose.subgraph import SubgraphSDL, read_subgraph
from graph.supergraph import read_supergraph
from graph.supergraph.api_schema import build_api_schema, client_schema_sdl

__all__ = ["CompositionError", "SubgraphSDL", "client_schema_sdl", "compose_supergraph"]


def compose_supergraph(
    subgraphs: Sequence[SubgraphSDL], *, check_satisfiability: bool = True
) -> str:
    """The supergraph SDL of `subgraphs`; raises `CompositionError` listing every problem,
    including (unless `check_satisfiability` is off) every field no query could reach."""
    if not subgraphs:
        raise CompositionError(["No subgraphs to compose; pass at least one subgraph's SDL."])
    schemas = []
    errors: list[str] = []
    for subgraph in subgraphs:
        try:
            schemas.append(read_subgraph(subgraph))
        except CompositionError as error:
            errors.extend(error.messages)
    if errors:
        raise CompositionError(errors)
    supergraph = print_supergraph(merge_subgraphs(schemas))
    _check_valid(supergraph)
    if check_satisfiability:
        unreachable = unreachable_fields(read_supergraph(supergraph))
        if unreachable:
            raise CompositionError(unreachable)
    return supergraph


def _check_valid(supergraph: str) -> None:
    """The merged schema must itself be valid GraphQL (an object lacking a field its interface
    declares in another subgraph, say)."""
    try:
        problems = [e.message for e in validate_schema(build_api_schema(parse(supergraph)))]
    except (GraphQLError, TypeError) as error:
        problems = [str(error)]
    if problems:
        raise CompositionError(
            [f"The composed schema is invalid: {problem}" for problem in problems]
        )
