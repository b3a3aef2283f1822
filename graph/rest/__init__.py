"""REST over the graph: `/api/v1` endpoints that each run a persisted GraphQL operation."""

from graph.rest.app import Executed, OperationRunner, rest_routes

__all__ = ["Executed", "OperationRunner", "rest_routes"]
