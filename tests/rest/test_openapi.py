"""The generated OpenAPI document: served as generated, described from the schema, and held to
the v1 rule (additions only) against the checked-in snapshot.

After an intended addition, regenerate the snapshot with `nexus export-openapi` and commit it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from graph.rest.compat import breaking_changes
from nexus.assembly.schema_export import openapi_v1

SNAPSHOT = Path(__file__).parent / "openapi_v1.json"


def frozen() -> dict[str, Any]:
    return dict(json.loads(SNAPSHOT.read_text()))


def test_v1_responses_keep_their_shape() -> None:
    assert breaking_changes(frozen(), openapi_v1()) == []


def test_the_snapshot_is_the_current_document() -> None:
    # An addition is fine, but it must be committed: `nexus export-openapi`.
    assert openapi_v1() == frozen()


def test_a_changed_response_shape_is_caught() -> None:
    current = openapi_v1()
    changed = copy.deepcopy(current)
    token = changed["paths"]["/api/v1/tokens/{symbol}"]["get"]["responses"]["200"]
    schema = token["content"]["application/json"]["schema"]
    del schema["properties"]["name"]
    schema["properties"]["symbol"]["type"] = "integer"
    candles = changed["paths"]["/api/v1/stocks/{symbol}/candles"]["get"]
    candles["parameters"] = [p for p in candles["parameters"] if p["name"] != "from"]
    del changed["paths"]["/api/v1/watchlists"]["post"]
    assert set(breaking_changes(current, changed)) == {
        "GET /api/v1/stocks/{symbol}/candles: parameter from removed",
        "POST /api/v1/watchlists: removed",
        "GET /api/v1/tokens/{symbol} 200.name: removed",
        "GET /api/v1/tokens/{symbol} 200.symbol: type ['string'] became ['integer']",
    }
    added = copy.deepcopy(current)
    series = added["paths"]["/api/v1/macro/series/{id}"]["get"]["responses"]["200"]
    series_schema = series["content"]["application/json"]["schema"]
    series_schema["properties"]["notes"] = {"type": ["string", "null"]}
    assert breaking_changes(current, added) == []


def test_schemas_carry_the_graphs_descriptions_and_nullability() -> None:
    document = openapi_v1()
    jsonschema.Draft202012Validator.check_schema(document["components"]["schemas"]["Problem"])
    token = document["paths"]["/api/v1/tokens/{symbol}"]["get"]
    body = token["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator.check_schema(body)
    assert body["properties"]["latestPrice"]["type"] == ["object", "null"]
    close = body["properties"]["latestPrice"]["properties"]["close"]
    assert close == {"type": "number", "description": "The last close on record, US dollars."}
    [symbol] = token["parameters"]
    assert symbol["in"] == "path" and symbol["description"]
    posts = document["paths"]["/api/v1/posts"]["get"]
    limit = next(p for p in posts["parameters"] if p["name"] == "limit")
    assert limit["schema"]["default"] == 20 and limit["description"] == (
        "Most posts to return, 1 to 500."
    )
    start = document["paths"]["/api/v1/simulations"]["post"]["requestBody"]
    assert start["content"]["application/json"]["schema"]["required"] == ["shockBp"]


async def test_openapi_and_docs_are_served_offline(client: httpx.AsyncClient) -> None:
    served = await client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json() == openapi_v1()
    page = await client.get("/api/docs")
    assert page.status_code == 200 and "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert (await client.get(f"/api/docs/assets/{asset}")).status_code == 200


def test_a_method_answering_405_may_become_served() -> None:
    """DELETE /simulations/{id} answered 405 in the first v1 document; serving it (with a 200
    and no 405) is an addition, while removing a served method still breaks v1."""
    current = openapi_v1()
    placeholder = copy.deepcopy(current)
    delete = placeholder["paths"]["/api/v1/simulations/{id}"]["delete"]
    delete["responses"] = {"405": {"description": "Not offered."}}
    assert breaking_changes(placeholder, current) == []
    served = copy.deepcopy(current)
    del served["paths"]["/api/v1/simulations/{id}"]["delete"]
    assert breaking_changes(current, served) == ["DELETE /api/v1/simulations/{id}: removed"]
