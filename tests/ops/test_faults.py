"""Faults survived by real processes on loopback, each bounded in time.

- A subgraph process killed (SIGKILL) while clients query through `nexus router`: only the
  fields it owns are null, each with a SUBGRAPH_UNAVAILABLE error naming it; no 5xx, no request
  hangs; answers are whole again once the process is back on its port.
- PostgreSQL connections cut with `pg_terminate_backend` while a platform subgraph serves
  sign-ups and reads: a request fails with STORE_UNAVAILABLE or succeeds, never a 5xx or a
  hang; the pool recovers; the store holds whole accounts only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from nexus.assembly.schema_export import supergraph
from tests.support.postgres import throwaway_database
from tests.support.processes import NexusProcess, router_headers

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
HANG_SECONDS = 15  # no request may take longer than this, whatever fails beneath it


@dataclass
class Load:
    """Threads sending `send()` in a loop until stopped; every answer kept with its time."""

    send: Callable[[httpx.Client, int], httpx.Response]
    threads: int = 4
    answers: list[tuple[float, float, httpx.Response | Exception]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)
        ]

    def _run(self, worker: int) -> None:
        with httpx.Client(timeout=HANG_SECONDS * 2) as client:
            count = 0
            while not self._stop.is_set():
                started = time.monotonic()
                answer: httpx.Response | Exception
                try:
                    answer = self.send(client, worker * 100_000 + count)
                except httpx.HTTPError as error:
                    answer = error
                with self._lock:
                    self.answers.append((started, time.monotonic() - started, answer))
                count += 1

    def __enter__(self) -> Load:
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(HANG_SECONDS * 2)

    def since(self, moment: float, until: float = float("inf")) -> list[httpx.Response | Exception]:
        """The answers to requests sent from `moment` (and before `until`)."""
        with self._lock:
            return [answer for started, _, answer in self.answers if moment <= started < until]

    def wait_for(self, condition: Callable[[Any], bool], after: float, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(condition(answer) for answer in self.since(after)):
                return
            time.sleep(0.2)
        last = self.answers[-1][2] if self.answers else None
        shown = last.text[:500] if isinstance(last, httpx.Response) else repr(last)
        raise AssertionError(f"the condition never held; the last answer: {shown}")


# --- a subgraph killed under load ------------------------------------------------------------

QUERY = '{ token(symbol: "BTC") { name } series(id: "DGS10") { title } }'
TITLE = (
    "Market Yield on U.S. Treasury Securities at 10-Year Constant Maturity, "
    "Quoted on an Investment Basis"
)
WHOLE = {"token": {"name": "Bitcoin"}, "series": {"title": TITLE}}


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[dict[str, NexusProcess]]:
    started: dict[str, NexusProcess] = {}
    try:
        for name in ("crypto", "macro"):
            started[name] = NexusProcess(["subgraph", name], tmp_path / name, name)
        for process in started.values():
            process.wait("/readyz")
        # Micro and platform are not started: nothing listens on port 1.
        urls = dict.fromkeys(("micro", "platform"), "http://127.0.0.1:1/graphql")
        urls |= {name: f"{process.url}/graphql" for name, process in started.items()}
        (tmp_path / "supergraph.graphql").write_text(supergraph(urls))
        started["router"] = NexusProcess(
            ["router", "--supergraph", str(tmp_path / "supergraph.graphql")],
            tmp_path / "router",
            "router",
            {"NEXUS_DEMAND_CONTROL": "measure"},
        )
        started["router"].wait("/healthz")
        yield started
    finally:
        for process in started.values():
            process.stop()


def whole(answer: Any) -> bool:
    if not isinstance(answer, httpx.Response):
        return False
    body = answer.json()
    return body.get("data") == WHOLE and "errors" not in body


def test_a_subgraph_killed_under_load_nulls_only_its_fields_and_recovers(
    federation: dict[str, NexusProcess], tmp_path: Path
) -> None:
    router = federation["router"]

    def send(client: httpx.Client, _: int) -> httpx.Response:
        return client.post(f"{router.url}/graphql", json={"query": QUERY})

    with Load(send) as load:
        load.wait_for(whole, after=0, timeout=60)
        federation["macro"].kill()
        time.sleep(2)
        down_since = time.monotonic()  # every request from here on finds macro gone
        time.sleep(1)
        spawned_at = time.monotonic()
        restarted = NexusProcess(
            ["subgraph", "macro"], tmp_path / "macro", "macro", port=federation["macro"].port
        )
        federation["macro"] = restarted  # stopped by the fixture
        restarted.wait("/readyz")
        back_at = time.monotonic()
        load.wait_for(whole, after=back_at, timeout=30)
    answers = [answer for _, _, answer in load.answers]
    assert not [a for a in answers if isinstance(a, Exception)], "a request failed at HTTP level"
    assert {a.status_code for a in answers if isinstance(a, httpx.Response)} == {200}
    assert max(seconds for _, seconds, _ in load.answers) < HANG_SECONDS
    partial = 0
    for answer in answers:
        assert isinstance(answer, httpx.Response)
        body = answer.json()
        if whole(answer):
            continue
        # Only macro's field is null, and each error names macro with a clear code.
        assert body["data"] == {"token": {"name": "Bitcoin"}, "series": None}, body
        assert {e["extensions"]["code"] for e in body["errors"]} == {"SUBGRAPH_UNAVAILABLE"}
        assert {e["extensions"]["serviceName"] for e in body["errors"]} == {"macro"}
        partial += 1
    down = load.since(down_since, until=spawned_at)
    assert down, "no request ran while macro was down"
    assert not [a for a in down if whole(a)]  # none of them could reach it
    assert partial >= len(down)


# --- PostgreSQL connections cut --------------------------------------------------------------


@pytest.fixture
def postgres_database() -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            name = stack.enter_context(throwaway_database(POSTGRES_URL, "nexus_faults_"))
        except OSError:
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
        yield name


def terminate_backends(database: str) -> int:
    async def run() -> int:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            killed = await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
        finally:
            await connection.close()
        return len(killed)

    return asyncio.run(run())


def test_postgres_connections_cut_mid_load_fail_cleanly_and_the_pool_recovers(
    postgres_database: str, tmp_path: Path
) -> None:
    url = make_url(POSTGRES_URL).set(database=postgres_database)
    platform = NexusProcess(
        ["subgraph", "platform", "--no-demo"],
        tmp_path,
        "platform",
        {"DATABASE_URL": url.render_as_string(hide_password=False)},
    )
    try:
        platform.wait("/readyz")

        def send(client: httpx.Client, number: int) -> httpx.Response:
            if number % 2:  # a read
                query = "{ publicWatchlists { name } }"
            else:  # a write: user, organisation and membership in one transaction
                query = (
                    f'mutation {{ signUp(input: {{email: "fault{number}@example.com", '
                    f'password: "fault password {number}", displayName: "Fault {number}", '
                    f'organizationName: "Fault org {number}"}}) {{ accessToken }} }}'
                )
            return client.post(
                f"{platform.url}/graphql", json={"query": query}, headers=router_headers()
            )

        with Load(send) as load:
            load.wait_for(lambda a: isinstance(a, httpx.Response), after=0, timeout=60)
            cut = 0
            for _ in range(3):
                time.sleep(0.7)
                cut += terminate_backends(postgres_database)
            recovered_from = time.monotonic()
            time.sleep(0.5)
            load.wait_for(
                lambda a: ok(a) and "signUp" in a.json()["data"], after=recovered_from, timeout=30
            )
            load.wait_for(
                lambda a: ok(a) and "publicWatchlists" in a.json()["data"],
                after=recovered_from,
                timeout=30,
            )
        assert cut > 0, "no connection was open to cut"
        answers = [answer for _, _, answer in load.answers]
        assert not [a for a in answers if isinstance(a, Exception)]
        assert {a.status_code for a in answers if isinstance(a, httpx.Response)} == {200}
        assert max(seconds for _, seconds, _ in load.answers) < HANG_SECONDS
        failed = [a for a in answers if isinstance(a, httpx.Response) and not ok(a)]
        for answer in failed:
            codes = {e["extensions"]["code"] for e in answer.json()["errors"]}
            assert codes == {"STORE_UNAVAILABLE"}, answer.json()
        signed_up = {
            a.request.content.decode().split("fault")[1].split("@")[0]
            for a in answers
            if isinstance(a, httpx.Response) and ok(a) and "signUp" in a.json()["data"]
        }
        assert_whole_accounts(url.render_as_string(hide_password=False), signed_up)
        print(f"{len(answers)} requests, {len(failed)} STORE_UNAVAILABLE, {cut} backends cut")
    finally:
        platform.stop()


def ok(answer: Any) -> bool:
    return isinstance(answer, httpx.Response) and "errors" not in answer.json()


def assert_whole_accounts(database_url: str, acknowledged: set[str]) -> None:
    """Every account acknowledged is stored; every stored one has its organisation and owner
    membership; no organisation was left without its user."""

    async def read() -> tuple[list[Any], list[Any]]:
        connection = await asyncpg.connect(database_url)
        try:
            users = await connection.fetch(
                "SELECT u.email, o.name, m.role FROM users u "
                "LEFT JOIN organizations o ON o.id = u.organization_id "
                "LEFT JOIN memberships m ON m.user_id = u.id AND m.organization_id = o.id "
                "WHERE u.email LIKE 'fault%'"
            )
            organizations = await connection.fetch(
                "SELECT name FROM organizations WHERE name LIKE 'Fault org %'"
            )
        finally:
            await connection.close()
        return list(users), list(organizations)

    users, organizations = asyncio.run(read())
    stored = {row["email"].removeprefix("fault").split("@")[0] for row in users}
    assert acknowledged <= stored
    for row in users:
        number = row["email"].removeprefix("fault").split("@")[0]
        assert row["name"] == f"Fault org {number}" and row["role"] == "OWNER", dict(row)
    assert sorted(row["name"] for row in organizations) == sorted(row["name"] for row in users)
