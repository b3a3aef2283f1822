"""Pass: drop a dependency already implied by another (A needs B and C, C needs B: drop B)."""

from __future__ import annotations

from graph.planner.fetch_graph import FetchGraph


def prune_dependencies(fetch_graph: FetchGraph) -> bool:
    changed = False
    for group in fetch_graph.groups:
        kept = [
            dependency
            for dependency in group.depends_on
            if not any(
                other is not dependency and fetch_graph.depends_transitively(other, dependency)
                for other in group.depends_on
            )
        ]
        if len(kept) != len(group.depends_on):
            group.depends_on = kept
            changed = True
    return changed
