"""A `nexus` command run as a real process on a fresh data directory, as a user would start it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from nexus.auth.caller import ANONYMOUS, Caller
from nexus.auth.router_identity import HEADER, sign_caller

# Every process a test starts shares this router secret (subgraphs verify what the router signs).
TEST_ROUTER_SECRET = "test-router-secret-not-for-production"


def router_headers(caller: Caller = ANONYMOUS) -> dict[str, str]:
    """The identity header the router would send a subgraph for `caller`."""
    return {HEADER: sign_caller(caller, TEST_ROUTER_SECRET.encode())}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """A `nexus` process's environment: embedded stores in `data_dir` (the machine's server
    URLs left out), the in-process bus, the tests' router secret, then `env`."""
    environment = {
        **os.environ,
        "NEXUS_DATA_DIR": str(data_dir),
        "REDIS_URL": "memory://",
        "NEXUS_ROUTER_SECRET": TEST_ROUTER_SECRET,
    }
    for variable in ("DATABASE_URL", "ANALYTICS_URL", "VECTOR_URL"):
        environment.pop(variable, None)
    return {**environment, **env}


def load_demo_into(data_dir: Path) -> Path:
    """`nexus load-demo` into `data_dir`, as a process of its own (the embedded stores of one
    data directory, like a server's): a seed for `NexusProcess(..., seed=...)`, so tests whose
    servers only need the demo data do not each load it again (the micro domain's posts and
    their encodings take tens of seconds per process)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "nexus.assembly.cli", "load-demo"],
        env=_environment(data_dir, {}),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return data_dir


class NexusProcess:
    """`python -m nexus.assembly.cli ARGS --port P` with embedded stores in `data_dir`, logging to
    a file."""

    def __init__(
        self,
        args: list[str],
        data_dir: Path,
        name: str = "server",
        env: dict[str, str] | None = None,
        port: int | None = None,
        seed: Path | None = None,
    ) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        if seed is not None:  # start from a copy of a loaded data directory (`demo_seed`)
            shutil.copytree(seed, data_dir, symlinks=True, dirs_exist_ok=True)
        self.port = port or free_port()  # a port of its own, or a restarted process's old one
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log = data_dir / f"{name}.log"
        with self.log.open("a") as log:  # a restart on the same directory appends
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nexus.assembly.cli", *args, "--port", str(self.port)],
                env=_environment(data_dir, env or {}),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait(self, path: str = "/readyz", timeout: float = 180) -> None:
        """Return once `path` answers 200; fail with the process's log if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"process exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}{path}", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"not ready in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def query(self, path: str, query: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}{path}", json={"query": query}, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
