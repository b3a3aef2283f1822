"""The per-request time budget on a real `nexus serve` process.

A mutation of twenty sign-ups (the root-field limit) runs its fields one after another, each
hashing a password (scrypt, tens of milliseconds on a quiet machine, 0.1-0.3 s under load), so
it cannot finish inside a 0.5 s budget (15 sign-ups once fit in a 1 s budget on a quiet run).
The client must get TIMEOUT with its code, the server must keep serving others, and the
store must hold only whole accounts: each user written has its organisation and owner
membership, and no organisation is left without its user (each sign-up is one transaction;
the budget cancels between or inside them, never half-way through a commit).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.hostile import HealthProbe
from tests.support.processes import NexusProcess

BUDGET_SECONDS = 0.5
SIGN_UPS = 20


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NexusProcess]:
    process = NexusProcess(
        ["serve", "--no-demo"],
        tmp_path,
        env={
            "NEXUS_TIME_BUDGET_SECONDS": str(BUDGET_SECONDS),
            "NEXUS_REPLAY": "off",
            "NEXUS_DEMAND_CONTROL": "measure",  # cost is not what this test is about
        },
    )
    process.wait()
    yield process
    process.stop()


def sign_ups(count: int) -> str:
    fields = " ".join(
        f'a{n}: signUp(input: {{email: "budget{n}@example.com", password: "budget password {n}",'
        f' displayName: "Budget {n}", organizationName: "Budget org {n}"}}) {{ accessToken }}'
        for n in range(count)
    )
    return f"mutation {{ {fields} }}"


def test_a_request_past_its_time_budget_is_stopped_and_writes_nothing_half_way(
    server: NexusProcess, tmp_path: Path
) -> None:
    with HealthProbe(server.port) as probe:
        started = time.monotonic()
        response = httpx.post(
            f"{server.url}/graphql", json={"query": sign_ups(SIGN_UPS)}, timeout=60
        )
        seconds = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TIMEOUT"], body
    assert f"{BUDGET_SECONDS:g} s time budget" in body["errors"][0]["message"]
    assert body.get("data") is None
    assert seconds < BUDGET_SECONDS + 5  # stopped at the budget, not run to the end
    assert probe.failures == 0, str(probe)
    assert probe.p99_ms < probe.bound_ms, f"{probe}; bound {probe.bound_ms:.0f} ms"

    time.sleep(0.5)  # anything the cancelled request still had in flight has landed by now
    with sqlite3.connect(tmp_path / "platform.db") as db:
        users = db.execute(
            "SELECT u.email, u.organization_id, m.role, o.name FROM users u "
            "LEFT JOIN memberships m ON m.user_id = u.id AND m.organization_id = u.organization_id "
            "LEFT JOIN organizations o ON o.id = u.organization_id "
            "WHERE u.email LIKE 'budget%@example.com'"
        ).fetchall()
        organizations = db.execute(
            "SELECT name FROM organizations WHERE name LIKE 'Budget org %'"
        ).fetchall()
    assert len(users) < SIGN_UPS, "the budget did not stop the mutation"
    for email, organization_id, role, organization in users:
        number = email.removeprefix("budget").split("@")[0]
        assert organization_id is not None and organization == f"Budget org {number}", email
        assert role == "OWNER", email
    assert sorted(name for (name,) in organizations) == sorted(o for *_, o in users)

    # The server stays healthy: it answers the next requests, and a sign-up writes whole.
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    fresh = (
        'mutation { signUp(input: {email: "after@example.com", password: "after the budget", '
        'displayName: "After"}) { accessToken organization { name } } }'
    )
    again = httpx.post(f"{server.url}/graphql", json={"query": fresh}, timeout=30).json()
    assert again.get("errors") is None, again
    assert again["data"]["signUp"]["accessToken"]
