"""Test helpers: a router over inline Strawberry subgraphs that records every subgraph call."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import strawberry

from graph.executor import InProcessTransport
from graph.in_process import compose_schemas, schema_call
from graph.limits import RequestLimits
from graph.router import Router


class RecordingTransport(InProcessTransport):
    def __init__(self, schemas: Mapping[str, strawberry.federation.Schema]) -> None:
        super().__init__({name: schema_call(schema) for name, schema in schemas.items()})
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []

    async def fetch(
        self, service: str, query: str, variables: dict[str, Any] | None
    ) -> dict[str, Any]:
        self.requests.append((service, query, copy.deepcopy(variables)))
        return await super().fetch(service, query, variables)

    @property
    def services(self) -> list[str]:
        return [service for service, _, _ in self.requests]


def router_over(
    schemas: Mapping[str, strawberry.federation.Schema], limits: RequestLimits | None = None
) -> tuple[Router, RecordingTransport]:
    transport = RecordingTransport(schemas)
    return Router.from_supergraph_sdl(compose_schemas(schemas), transport, limits=limits), transport
