"""Execution of query plans through a transport (in-process or HTTP)."""

from __future__ import annotations

from graph.executor.executor import PlanRun
from graph.executor.http import HttpTransport
from graph.executor.in_process import InProcessTransport
from graph.executor.shaping import shape_response
from graph.executor.transport import Transport

__all__ = ["HttpTransport", "InProcessTransport", "PlanRun", "Transport", "shape_response"]
