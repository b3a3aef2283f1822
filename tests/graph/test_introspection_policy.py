"""NEXUS_INTROSPECTION: introspection on, for authenticated callers only, or off."""

from __future__ import annotations

import pytest

from graph.edge.introspection import Introspection, IntrospectionConfigError
from nexus.auth.caller import ANONYMOUS, Caller
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS

QUERY = "{ __schema { queryType { name } } me { __typename name } }"
ANSWER = {
    "data": {
        "__schema": {"queryType": {"name": "Query"}},
        "me": {"__typename": "User", "name": "Ada Lovelace"},
    }
}


async def test_off_refuses_schema_but_not_typename() -> None:
    router, _ = router_over(SCHEMAS)
    assert await router.execute(QUERY) == ANSWER  # on by default
    router.introspection = Introspection("off")
    refused = await router.execute(QUERY)
    assert refused == {
        "errors": [
            {
                "message": "Introspection is disabled on this server; download /schema.graphql "
                "instead.",
                "extensions": {"code": "INTROSPECTION_DISABLED"},
            }
        ]
    }
    typename = await router.execute("{ __typename me { __typename } }")
    assert typename == {"data": {"__typename": "Query", "me": {"__typename": "User"}}}


async def test_authenticated_only() -> None:
    router, _ = router_over(SCHEMAS)
    router.introspection = Introspection("authenticated")
    anonymous = await router.execute(QUERY, caller=ANONYMOUS)
    assert anonymous["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    member = Caller(kind="user", user_id="u1", organization_id="o1")
    assert await router.execute(QUERY, caller=member) == ANSWER


def test_mode_from_env() -> None:
    assert Introspection.from_env({}).mode == "on"
    assert Introspection.from_env({"NEXUS_INTROSPECTION": "OFF"}).mode == "off"
    with pytest.raises(IntrospectionConfigError):
        Introspection.from_env({"NEXUS_INTROSPECTION": "sometimes"})
