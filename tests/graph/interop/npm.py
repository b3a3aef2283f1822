"""Node tools for the interop tests, installed by the tests into a cache directory."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGES = (
    "@graphql-hive/gateway@2.15.1",
    "@graphql-hive/router-runtime@1.4.23",  # Hive Router's query planner, for --hive-router-runtime
    "@theguild/federation-composition@0.27.0",
    "graphql@16.15.0",
)


def npm_prefix() -> Path:
    default = Path.home() / ".cache" / "nexus-alpha" / "npm"
    return Path(os.environ.get("NEXUS_NPM_CACHE", default))


def node_modules() -> Path:
    """The cache's node_modules with PACKAGES installed; skips the test only without npm."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are not installed; the interop tests need Node 20 and npm.")
    prefix = npm_prefix()
    marker = prefix / f".installed-{hashlib.sha1(' '.join(PACKAGES).encode()).hexdigest()[:12]}"
    if not marker.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                *PACKAGES,
            ],
            check=True,
            timeout=600,
        )
        marker.touch()
    return prefix / "node_modules"


CLIENT_PACKAGES = ("meros@1.3.2",)  # the multipart parser of Apollo Client, GraphiQL and urql


def client_modules() -> Path:
    """node_modules with the client libraries (a prefix of their own, so that adding one does
    not reinstall the gateways); skips the test only without npm."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are not installed; the client tests need Node 20 and npm.")
    prefix = npm_prefix().with_name("npm-clients")
    digest = hashlib.sha1(" ".join(CLIENT_PACKAGES).encode()).hexdigest()[:12]
    marker = prefix / f".installed-{digest}"
    if not marker.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                *CLIENT_PACKAGES,
            ],
            check=True,
            timeout=300,
        )
        marker.touch()
    return prefix / "node_modules"
