"""Arguments the API cannot use come back as BAD_USER_INPUT with nothing else resolved."""

from __future__ import annotations

import pytest

from tests.micro.conftest import GraphQL


def codes(result: object) -> list[str]:
    errors = getattr(result, "errors", None) or []
    return [error.extensions["code"] for error in errors]


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ stock(symbol: "GME") { candles(from: "2021-13-45") { date } } }', None),
        ('{ stock(symbol: "GME") { postCount(from: "2021-02-01", to: "2021-01-01") } }', "from"),
        (
            '{ stock(symbol: "GME") { candles(from: "2021-02-01", to: "2021-01-01") { date } } }',
            "from",
        ),
        ('{ stock(symbol: "GME") { posts(limit: 0) { id } } }', "limit"),
        ('{ stock(symbol: "GME") { posts(limit: 501) { id } } }', "limit"),
        ('{ posts(cashtag: "GME", limit: 1000) { id } }', "limit"),
        ('{ posts(from: "2021-02-01", to: "2021-01-01") { id } }', "from"),
        ('{ post(id: "reddit:eyoxvxv") { similar(limit: -1) { id } } }', "limit"),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    graphql: GraphQL, query: str, argument: str | None
) -> None:
    result = await graphql(query)

    assert codes(result) == ["BAD_USER_INPUT"]
    if argument is not None:
        assert result.errors[0].extensions["argument"] == argument


async def test_a_malformed_date_variable_is_bad_user_input(graphql: GraphQL) -> None:
    result = await graphql(
        'query ($from: Date) { stock(symbol: "GME") { postCount(from: $from) } }',
        **{"from": "27/01/2021"},
    )

    assert codes(result) == ["BAD_USER_INPUT"]
    assert result.data is None
