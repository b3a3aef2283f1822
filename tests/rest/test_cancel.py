"""DELETE /api/v1/simulations/{id}, the seed's cancel, runs `cancelSimulation`: a queued or
running job of the caller's organisation becomes CANCELLED; a finished one is a 409; another
organisation's job is a 404, as an unknown id."""

from __future__ import annotations

import asyncio

import httpx

from tests.rest.test_callers import PROBLEM

SIGN_UP = """mutation($email: String!) { signUp(input: {email: $email, password: "correct horse",
  displayName: "Sim"}) { accessToken } }"""
# Long enough (30 years of 200,000 paths in five batches) to be running when cancelled.
LONG_JOB = {"shockBp": 100, "paths": 200_000, "horizonYears": 30}


async def bearer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    body = {"query": SIGN_UP, "variables": {"email": email}}
    signed_up = (await client.post("/graphql", json=body)).json()
    return {"authorization": f"Bearer {signed_up['data']['signUp']['accessToken']}"}


async def test_a_caller_cancels_its_organisations_running_simulation(
    client: httpx.AsyncClient,
) -> None:
    mine = await bearer(client, "sim@a.example")
    theirs = await bearer(client, "sim@b.example")
    started = await client.post("/api/v1/simulations", json=LONG_JOB, headers=mine)
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]

    other = await client.delete(f"/api/v1/simulations/{job_id}", headers=theirs)
    assert other.status_code == 404 and other.headers["content-type"] == PROBLEM

    cancelled = await client.delete(f"/api/v1/simulations/{job_id}", headers=mine)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    await asyncio.sleep(0.2)
    polled = await client.get(f"/api/v1/simulations/{job_id}", headers=mine)
    assert polled.json()["status"] == "CANCELLED" and polled.json()["result"] is None

    again = await client.delete(f"/api/v1/simulations/{job_id}", headers=mine)
    assert again.status_code == 409 and again.json()["code"] == "CONFLICT"
    unknown = await client.delete("/api/v1/simulations/no-such-job", headers=mine)
    assert unknown.status_code == 404
