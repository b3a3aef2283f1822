"""A deterministic, indented text form of a plan (what planner snapshot tests compare)."""

from __future__ import annotations

from graph.planner.nodes import (
    Condition,
    ContextSource,
    Fetch,
    FieldSelection,
    Flatten,
    InlineFragment,
    Parallel,
    PlanNode,
    Selection,
    Sequence,
    Subscription,
    ValueShape,
)

_INDENT = "  "


def print_plan(node: PlanNode | None) -> str:
    if node is None:
        return "QueryPlan {}"
    return "QueryPlan {\n" + _node(node, 1) + ",\n}"


def _node(node: PlanNode, depth: int) -> str:
    pad = _INDENT * depth
    match node:
        case Fetch():
            return _fetch(node, depth)
        case Flatten(path, fetch):
            inner = _fetch(fetch, depth + 1)
            return f'{pad}Flatten(path: "{".".join(path)}") {{\n{inner},\n{pad}}}'
        case Sequence(nodes) | Parallel(nodes):
            body = ",\n".join(_node(n, depth + 1) for n in nodes)
            return f"{pad}{node.kind} {{\n{body},\n{pad}}}"
        case Condition(condition, None, else_clause) if else_clause is not None:
            return f"{pad}Skip(if: ${condition}) {{\n{_node(else_clause, depth + 1)},\n{pad}}}"
        case Condition(condition, if_clause, else_clause):
            text = f"{pad}Include(if: ${condition}) {{\n"
            text += (_node(if_clause, depth + 1) + ",\n") if if_clause else ""
            text += f"{pad}}}"
            if else_clause is not None:
                text += f" Else {{\n{_node(else_clause, depth + 1)},\n{pad}}}"
            return text
        case Subscription(primary, rest):
            text = f"{pad}Subscription {{\n{pad}{_INDENT}Primary: {{\n"
            text += _fetch(primary, depth + 2) + f",\n{pad}{_INDENT}}},\n"
            if rest is not None:
                text += f"{pad}{_INDENT}Rest: {{\n{_node(rest, depth + 2)},\n{pad}{_INDENT}}},\n"
            return text + f"{pad}}}"
    raise TypeError(f"not a plan node: {node!r}")


def _context_source(source: ContextSource) -> str:
    """`users.@.currency on User`, with the kept keys of an input object: `prop { id }`."""

    def keys(shape: ValueShape) -> str:
        return " ".join(k + (f" {{ {keys(inner)} }}" if inner else "") for k, inner in shape)

    text = ".".join((*source.path, source.key))
    if source.shape:
        text += f" {{ {keys(source.shape)} }}"
    return f"{text} on {', '.join(sorted(source.types))}"


def _fetch(fetch: Fetch, depth: int) -> str:
    pad = _INDENT * depth
    lines = [f'{pad}Fetch(service: "{fetch.service}") {{']
    for read in fetch.context_reads:  # @fromContext values, nearest ancestor first
        sources = " | ".join(_context_source(source) for source in read.sources)
        lines.append(f"{pad}{_INDENT}${read.variable} = {sources}")
    if fetch.requires:
        lines += _selection_set(fetch.requires, depth + 1)
        lines[-1] += " =>"
    lines += _selection_set(fetch.selections, depth + 1)
    if fetch.operation_kind != "query":
        lines[len(lines) - len(_selection_set(fetch.selections, depth + 1))] = (
            f"{_INDENT * (depth + 1)}{fetch.operation_kind} {{"
        )
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def _selection_set(selections: tuple[Selection, ...], depth: int) -> list[str]:
    pad = _INDENT * depth
    lines = [f"{pad}{{"]
    for selection in selections:
        lines += _selection(selection, depth + 1)
    lines.append(f"{pad}}}")
    return lines


def _selection(selection: Selection, depth: int) -> list[str]:
    pad = _INDENT * depth
    if isinstance(selection, InlineFragment):
        inner = _selection_set(selection.selections, depth)
        return [f"{pad}... on {selection.type_condition} {{", *inner[1:]]
    assert isinstance(selection, FieldSelection)
    head = f"{pad}{selection.alias + ': ' if selection.alias else ''}"
    head += selection.name + selection.arguments + selection.directives
    if selection.selections is None:
        return [head]
    inner = _selection_set(selection.selections, depth)
    return [head + " {", *inner[1:]]
