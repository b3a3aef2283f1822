"""A subgraph parses and validates each distinct fetch document once: the router sends the same
documents with other variables, and those answer as if parsed afresh."""

from __future__ import annotations

import strawberry
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from nexus.graphql_errors import DOCUMENT_CACHE_SIZE, SubgraphSchema


@strawberry.type(description="Test root.")
class Query:
    @strawberry.field(description="`n` doubled.")
    def double(self, n: int) -> int:
        return 2 * n


SCHEMA = SubgraphSchema(query=Query)
DOCUMENT = "query Double($n: Int!) { double(n: $n) }"


async def test_a_repeated_document_is_not_parsed_or_validated_again() -> None:
    parse, validate = (
        _get_parse_cache(DOCUMENT_CACHE_SIZE),
        _get_validate_cache(DOCUMENT_CACHE_SIZE),
    )
    first = await SCHEMA.execute(DOCUMENT, variable_values={"n": 2})
    parsed, validated = parse.cache_info(), validate.cache_info()
    second = await SCHEMA.execute(DOCUMENT, variable_values={"n": 21})
    assert (first.data, second.data) == ({"double": 4}, {"double": 42})
    assert parse.cache_info().hits == parsed.hits + 1
    assert parse.cache_info().misses == parsed.misses
    assert validate.cache_info().hits == validated.hits + 1
    assert validate.cache_info().misses == validated.misses


async def test_a_repeated_invalid_document_is_refused_the_same_way_each_time() -> None:
    answers = [await SCHEMA.execute("{ double(n: 1) triple }") for _ in range(3)]
    for answer in answers:
        assert answer.data is None
        (error,) = answer.errors or []
        assert "triple" in error.message
        assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_a_document_cached_for_one_schema_is_validated_again_for_another() -> None:
    """The validation cache is keyed by schema: a document valid in one subgraph is still
    refused by a subgraph that lacks its field."""

    @strawberry.type(description="Another root.")
    class Other:
        @strawberry.field(description="One.")
        def one(self) -> int:
            return 1

    other = SubgraphSchema(query=Other)
    assert (await SCHEMA.execute(DOCUMENT, variable_values={"n": 1})).data == {"double": 2}
    refused = await other.execute(DOCUMENT, variable_values={"n": 1})
    assert refused.data is None and refused.errors
