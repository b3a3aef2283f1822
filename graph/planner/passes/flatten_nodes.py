"""Pass: splice nested Sequence-in-Sequence and Parallel-in-Parallel, unwrap single children."""

from __future__ import annotations

from graph.planner.nodes import Condition, Parallel, PlanNode, Sequence, Subscription


def flatten_nodes(node: PlanNode) -> PlanNode:
    match node:
        case Sequence(nodes=children) | Parallel(nodes=children):
            flat: list[PlanNode] = []
            for child in (flatten_nodes(c) for c in children):
                if type(child) is type(node):
                    flat.extend(child.nodes)
                else:
                    flat.append(child)
            if len(flat) == 1:
                return flat[0]
            return type(node)(tuple(flat))
        case Condition(condition, if_clause, else_clause, default):
            return Condition(
                condition,
                flatten_nodes(if_clause) if if_clause else None,
                flatten_nodes(else_clause) if else_clause else None,
                default,
            )
        case Subscription(primary, rest):
            return Subscription(primary, flatten_nodes(rest) if rest else None)
    return node
