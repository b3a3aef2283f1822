"""Shared subscription execution: one upstream stream per distinct subscription.

Clients who send the same subscription (same document, operation, variables and connection
parameters, so the same caller) share one `SharedStream`: one subgraph subscription, the fields of
other subgraphs fetched once per event, the response encoded to JSON once, then handed to each
client's own bounded outbox. A slow client therefore costs the others nothing, and a thousand
clients of one stream cost one execution per event. The last client to leave stops the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from graph.executor import PlanRun, Transport, shape_response
from graph.executor.data import deep_merge
from graph.planner import QueryPlan
from graph.planner.nodes import Subscription
from graph.subscriptions.streams import Errors, StreamItem, SubgraphStreams
from nexus.metrics import DELIVERED_EVENTS, OPEN_SUBSCRIPTIONS

log = logging.getLogger("graph.subscriptions")


class Listener(Protocol):
    """One client operation: it takes encoded results and must never block."""

    def next(self, payload: str) -> None: ...

    def error(self, errors: Errors) -> None: ...

    def complete(self) -> None: ...


def stream_key(
    document: str,
    operation_name: str | None,
    variables: Mapping[str, Any],
    connection_params: Mapping[str, Any],
) -> str:
    return json.dumps(
        [document, operation_name, variables, connection_params], sort_keys=True, default=str
    )


class SharedStream:
    def __init__(
        self,
        hub: SubscriptionHub,
        key: str,
        plan: QueryPlan,
        variables: dict[str, Any],
        connection_params: Mapping[str, Any],
    ) -> None:
        assert isinstance(plan.node, Subscription)
        self.hub = hub
        self.key = key
        self.plan = plan
        self.node: Subscription = plan.node
        self.variables = variables
        self.connection_params = connection_params
        self.listeners: set[Listener] = set()
        self.events = 0
        self.task = asyncio.create_task(self._pump(), name="subscription")

    async def _pump(self) -> None:
        primary = self.node.primary
        variables = {k: self.variables[k] for k in primary.variable_usages if k in self.variables}
        upstream = self.hub.streams.subscribe(
            primary.service, primary.operation, variables or None, self.connection_params
        )
        try:
            async with contextlib.aclosing(upstream) as items:  # type: ignore[type-var]
                async for item in items:
                    if item.kind == "error" or (self.events == 0 and _failed_start(item)):
                        self._broadcast_error(item.errors or item.response.get("errors") or [])
                        return
                    payload = json.dumps(await self._execute(item), separators=(",", ":"))
                    self.events += 1
                    DELIVERED_EVENTS.inc(len(self.listeners))
                    for listener in list(self.listeners):
                        listener.next(payload)
            for listener in list(self.listeners):
                listener.complete()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription stream failed")
            self._broadcast_error(
                [
                    {
                        "message": "The subscription failed.",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ]
            )
        finally:
            OPEN_SUBSCRIPTIONS.dec(len(self.listeners))
            self.listeners.clear()
            self.hub._forget(self)

    async def _execute(self, item: StreamItem) -> dict[str, Any]:
        """The client's response for one event: the event, plus other subgraphs' fields."""
        state = PlanRun(self.hub.transport, self.variables)
        data = item.response.get("data")
        if isinstance(data, dict):
            deep_merge(state.data, data)
        for error in item.response.get("errors") or ():
            if isinstance(error, dict):
                copied = dict(error)
                extensions = dict(copied.get("extensions") or {})
                extensions.setdefault("serviceName", self.node.primary.service)
                copied["extensions"] = extensions
                state.errors.append(copied)
        if self.node.rest is not None and isinstance(data, dict):
            await state.run(self.node.rest)
        response: dict[str, Any] = {
            "data": shape_response(self.plan.shape, state.data, state.errors)
        }
        if state.errors:
            response["errors"] = state.errors
        return response

    def _broadcast_error(self, errors: Errors) -> None:
        for listener in list(self.listeners):
            listener.error(errors)
        self.listeners.clear()


def _failed_start(item: StreamItem) -> bool:
    """A first response with errors and no data: the subscription never started."""
    return item.response.get("data") is None and bool(item.response.get("errors"))


class SubscriptionHub:
    def __init__(self, streams: SubgraphStreams, transport: Transport) -> None:
        self.streams = streams
        self.transport = transport
        self.shared: dict[str, SharedStream] = {}

    def join(
        self,
        key: str,
        plan: QueryPlan,
        variables: dict[str, Any],
        connection_params: Mapping[str, Any],
        listener: Listener,
    ) -> SharedStream:
        shared = self.shared.get(key)
        if shared is None:
            shared = self.shared[key] = SharedStream(self, key, plan, variables, connection_params)
        if listener not in shared.listeners:
            shared.listeners.add(listener)
            OPEN_SUBSCRIPTIONS.inc()
        return shared

    def leave(self, shared: SharedStream, listener: Listener) -> None:
        if listener in shared.listeners:
            shared.listeners.discard(listener)
            OPEN_SUBSCRIPTIONS.dec()
        if not shared.listeners and not shared.task.done():
            shared.task.cancel()
            self._forget(shared)

    def _forget(self, shared: SharedStream) -> None:
        if self.shared.get(shared.key) is shared:
            del self.shared[shared.key]

    async def close(self) -> None:
        tasks = [shared.task for shared in self.shared.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.shared.clear()
        await self.streams.close()
