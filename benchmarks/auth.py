"""Time the edge's authentication: a JWT verified locally, an API key looked up in the platform
store (SQLite), with and without the Authenticator's cache, against an anonymous request.

    python benchmarks/auth.py [--requests N] [--keys K]

Prints microseconds per request for each credential, side by side; K distinct keys rotate.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

from nexus.auth.authenticator import Authenticator
from nexus.config import Settings
from nexus.stores import Stores
from nexus.stores.platform import PlatformStore, upgrade
from subgraphs.platform.accounts import Accounts
from subgraphs.platform.credentials import MAX_KEYS, Credentials
from subgraphs.platform.services import services_for


async def per_request(requests: int, authenticate: Callable[[int], Awaitable[object]]) -> float:
    began = time.perf_counter()
    for i in range(requests):
        await authenticate(i)
    return (time.perf_counter() - began) / requests * 1e6


async def main(requests: int, key_count: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"NEXUS_DATA_DIR": data_dir})
        await upgrade(settings.database_url)
        store = PlatformStore.from_url(settings.database_url)
        try:
            stores = Stores(settings=settings, platform=store)
            issuer = services_for(settings).issuer
            accounts, credentials = Accounts(store, 3600), Credentials(store)
            keys: list[str] = []
            for i in range(key_count):
                if i % MAX_KEYS == 0:  # a new organisation for each 100 keys
                    session = await accounts.sign_up(
                        f"bench{i}@example.com", "correct horse", "Bench", None, None
                    )
                created = await credentials.create_api_key(
                    session.organization.id, None, f"k{i}", ["market:read"], None
                )
                keys.append(created[1])
            organization = session.organization.id
            tokens = [
                issuer.issue(
                    subject=session.user.id,
                    organization_id=organization,
                    scopes=["market:read"],
                    extra={"role": "OWNER", "plan": "free"},
                )[0]
                for _ in range(key_count)
            ]

            def fresh(cache_seconds: float = 5.0) -> Authenticator:
                return Authenticator(
                    issuer, Credentials(stores.require_platform()), cache_seconds=cache_seconds
                )

            def by_key(edge: Authenticator) -> Callable[[int], Awaitable[object]]:
                return lambda i: edge.authenticate({"X-API-Key": keys[i % key_count]})

            def by_token(edge: Authenticator) -> Callable[[int], Awaitable[object]]:
                return lambda i: edge.authenticate(
                    {"Authorization": f"Bearer {tokens[i % key_count]}"}
                )

            # name, authenticate, requests, warm first (every credential seen once)
            anonymous = fresh()
            rows = [
                ("anonymous", lambda i: anonymous.authenticate({}), requests, False),
                (f"JWT, {key_count} tokens, first use", by_token(fresh()), key_count, False),
                # Warming 1,000 keys takes longer than the 5 s cache: measure hits with 60 s.
                (f"JWT, {key_count} tokens, cache hit", by_token(fresh(60)), requests, True),
                (f"API key, {key_count} keys, cache hit", by_key(fresh(60)), requests, True),
                (f"API key, {key_count} keys, store lookup", by_key(fresh(0)), key_count, False),
            ]
            print(f"{'credential':<34} {'us/request':>11}  {'requests/s':>11}")
            for name, authenticate, count, warm in rows:
                if warm:
                    for i in range(key_count):
                        await authenticate(i)
                micros = await per_request(count, authenticate)
                print(f"{name:<34} {micros:11.1f}  {1e6 / micros:11,.0f}")
        finally:
            await store.close()
    print(f"python {sys.version.split()[0]}, platform store SQLite (embedded default)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=1_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.keys))
