"""Hot reload of `nexus router`'s supergraph: when its file changes (polled) or on SIGHUP.

The new file is read and checked first; a file that does not parse or compose into a usable
supergraph is logged and ignored, and the router keeps serving the old one. A good one is
swapped in between two requests (`Router.use_supergraph`): requests in flight finish on the
plans they hold, new requests are planned on the new supergraph, and the subgraph URLs it names
(after `--subgraph-url` overrides) take effect for new calls. No connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from collections.abc import Mapping
from pathlib import Path

from graph.router import Router
from graph.supergraph import SupergraphError, read_supergraph

log = logging.getLogger("graph.reload")

DEFAULT_POLL_SECONDS = 2.0


class SupergraphReloader:
    def __init__(
        self,
        router: Router,
        path: str | Path,
        *,
        url_overrides: Mapping[str, str] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.router = router
        self.path = Path(path)
        self.url_overrides = dict(url_overrides or {})
        self.poll_seconds = poll_seconds
        self.reloads = 0
        self._digest = self._read_digest()
        self._task: asyncio.Task[None] | None = None

    def _read_digest(self) -> bytes | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return None

    def reload(self) -> bool:
        """Read the file and serve it if it changed and is valid; whether it was swapped in."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as error:
            log.error("supergraph reload: cannot read %s (%s)", self.path, error)
            return False
        digest = hashlib.sha256(text.encode()).digest()
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            supergraph = read_supergraph(text)
        except SupergraphError as error:
            log.error(
                "supergraph reload: %s is not usable, still serving the old one: %s",
                self.path,
                error,
            )
            return False
        urls = {name: endpoint.url for name, endpoint in supergraph.subgraphs.items()}
        urls.update(self.url_overrides)
        self._point_transport_at(urls)
        self.router.use_supergraph(supergraph)
        self.reloads += 1
        log.info("supergraph reloaded from %s", self.path, extra={"subgraphs": sorted(urls)})
        return True

    def _point_transport_at(self, urls: Mapping[str, str]) -> None:
        transport = getattr(self.router.transport, "inner", self.router.transport)
        if hasattr(transport, "urls"):
            transport.urls = dict(urls)
        hub = self.router.hub
        streams = getattr(hub, "streams", None) if hub is not None else None
        if streams is not None and hasattr(streams, "urls"):
            from graph.subscriptions.remote import websocket_url

            streams.urls = {name: websocket_url(url) for name, url in urls.items()}

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self._read_digest() != self._digest:
                self.reload()

    def start(self) -> None:
        """Poll the file (unless `poll_seconds` is 0), and reload on SIGHUP (where the
        platform has it)."""
        if self.poll_seconds > 0:
            self._task = asyncio.ensure_future(self._watch())
        with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)

    async def stop(self) -> None:
        with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
