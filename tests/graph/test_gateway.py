"""`/graphql` per GraphQL-over-HTTP, GraphiQL, `/healthz` and `/readyz`, and request limits."""

import httpx
import pytest

from graph.gateway import create_app
from graph.limits import RequestLimits
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
def client() -> httpx.AsyncClient:
    router, _ = router_over(
        SCHEMAS,
        RequestLimits(max_depth=4, max_aliases=2, max_root_fields=3, max_document_bytes=400),
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(router)), base_url="http://nexus"
    )


async def test_post_answers_both_media_types(client: httpx.AsyncClient) -> None:
    body = {"query": "query Me { me { name } }", "operationName": "Me"}
    response = await client.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}
    plain = await client.post("/graphql", json=body, headers={"accept": "application/json"})
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json() == response.json()


async def test_get_runs_queries_with_json_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query($n: Int) { topProducts(first: $n) { upc } }",
            "variables": '{"n":1}',
        },
    )
    assert response.json() == {"data": {"topProducts": [{"upc": "1"}]}}


async def test_get_from_a_browser_serves_graphiql(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_request_errors_have_spec_status_codes(client: httpx.AsyncClient) -> None:
    accept = {"accept": GRAPHQL_RESPONSE}
    syntax = await client.post("/graphql", json={"query": "{ me { "}, headers=accept)
    assert syntax.status_code == 400
    assert syntax.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    unknown = await client.post("/graphql", json={"query": "{ me { age } }"}, headers=accept)
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0] == {
        "message": "Cannot query field 'age' on type 'User'. Did you mean 'name'?",
        "locations": [{"line": 1, "column": 8}],
        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
    }
    legacy = await client.post("/graphql", json={"query": "{ me { age } }"})
    assert legacy.status_code == 200
    wrong_type = await client.post(
        "/graphql",
        json={
            "query": "query($n: Int) { topProducts(first: $n) { upc } }",
            "variables": {"n": "x"},
        },
    )
    assert wrong_type.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = await client.post(
        "/graphql", json={"query": "query($n: Int!) { topProducts(first: $n) { upc } }"}
    )
    assert missing.json()["errors"][0]["message"] == (
        "Variable '$n' has invalid value: Expected a value of non-null type 'Int!' to be provided."
    )
    not_json = await client.post(
        "/graphql", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    form = await client.post("/graphql", content=b"query=x", headers={"content-type": "text/plain"})
    assert form.status_code == 415
    xml = await client.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"accept": "text/xml"}
    )
    assert xml.status_code == 406


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ topProducts { reviews { author { id } } } }", None),
        ("{ topProducts { reviews { author { id ... on User { name } } } } }", None),
        ("{ a: me { name } b: me { name } c: me { name } }", "MAX_ALIASES_EXCEEDED"),
        (
            "{ me { name } m: me { id } topProducts { upc } x: __typename }",
            "MAX_ROOT_FIELDS_EXCEEDED",
        ),
        ("{ topProducts { reviews { author { id } } } } fragment F on User { id }", None),
        ("{ " + " ".join("me{name}" for _ in range(60)) + " }", "MAX_DOCUMENT_SIZE_EXCEEDED"),
    ],
)
async def test_limits_reject_before_any_subgraph_call(
    client: httpx.AsyncClient, query: str, code: str | None
) -> None:
    response = await client.post("/graphql", json={"query": query})
    errors = response.json().get("errors")
    if code is None:
        assert errors is None or errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    else:
        assert errors[0]["extensions"]["code"] == code


async def test_depth_limit() -> None:
    router, transport = router_over(SCHEMAS, RequestLimits(max_depth=3))
    response = await router.execute("{ topProducts { reviews { author { name } } } }")
    assert response == {
        "errors": [
            {
                "message": "The operation is 4 levels deep; the limit is 3. Select fewer nested "
                "fields.",
                "extensions": {"code": "MAX_DEPTH_EXCEEDED"},
            }
        ]
    }
    assert transport.requests == []


async def test_a_request_seen_before_is_still_checked_for_its_own_variables() -> None:
    """The router remembers the coerced variables of a request that passed (the same
    document and variables are not coerced and fan-out-checked again); other variables for
    the same document are checked as the first were, refused ones every time, and each
    request gets answers for its own variables."""
    router, transport = router_over(SCHEMAS, RequestLimits(max_list_fan_out=30))
    query = "query($n: Int) { topProducts(first: $n) { upc reviews { body } } }"
    two = await router.execute(query, {"n": 2})
    assert [p["upc"] for p in two["data"]["topProducts"]] == ["1", "2"]
    assert await router.execute(query, {"n": 2}) == two
    assert (await router.execute(query, {"n": 1}))["data"]["topProducts"] == [
        two["data"]["topProducts"][0]
    ]
    fetched = len(transport.requests)
    for _ in range(2):  # 3 products + 3 x 10 reviews could resolve 33 objects: over 30
        refused = await router.execute(query, {"n": 3})
        assert refused["errors"][0]["extensions"]["code"] == "MAX_LIST_FAN_OUT_EXCEEDED"
        wrong = await router.execute(query, {"n": "two"})
        assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(transport.requests) == fetched  # the refused ones reached no subgraph
    assert await router.execute(query, {"n": 2}) == two


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["subgraphs"] == {
        "accounts": True,
        "inventory": True,
        "products": True,
        "reviews": True,
    }
