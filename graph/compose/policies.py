"""Access and demand-control directives carried from subgraphs into the supergraph.

@authenticated, @requiresScopes and @policy (SECURITY features) and @cost/@listSize (demand
control) are not resolved by composition: the router enforces them, so the supergraph keeps them,
merged across subgraphs, with the `@link` and definitions Apollo's and Hive's tooling print.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql.language.print_string import print_string

Policies = dict[str, dict[str, Any]]

_ON = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
LINKS = {
    "authenticated": '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
    "requiresScopes": '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
    "policy": '@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
    "cost": '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])',
}
DEFINITIONS = {
    "authenticated": [f"directive @authenticated on {_ON}"],
    "requiresScopes": [
        f"directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on {_ON}",
        "scalar requiresScopes__Scope",
    ],
    "policy": [
        f"directive @policy(policies: [[policy__Policy!]!]!) on {_ON}",
        "scalar policy__Policy",
    ],
    "cost": [
        "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | "
        "INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
        "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: "
        "[String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    ],
}
_FEATURE = {"listSize": "cost"}
_ARGUMENT = {"requiresScopes": "scopes", "policy": "policies"}


def merge_policies(into: Policies, applied: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Every subgraph's requirement must hold: scope and policy alternatives are AND-ed."""
    for name, args in applied:
        existing = into.get(name)
        if existing is None:
            into[name] = dict(args)
        elif name in _ARGUMENT:
            key = _ARGUMENT[name]
            combined = {
                tuple(sorted(set(left) | set(right)))
                for left in existing[key]
                for right in args[key]
            }
            into[name] = {key: [list(c) for c in sorted(combined)]}
        elif name == "cost":
            into[name] = {"weight": max(int(existing["weight"]), int(args["weight"]))}


def features(policies: Iterable[Policies]) -> set[str]:
    return {_FEATURE.get(name, name) for applied in policies for name in applied}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return print_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def print_policies(policies: Policies) -> list[str]:
    printed = []
    for name in sorted(policies):
        args = policies[name]
        # An argument given as null is the same as one left out: print neither.
        inner = ", ".join(
            f"{key}: {_value(value)}" for key, value in args.items() if value is not None
        )
        printed.append(f"@{name}({inner})" if inner else f"@{name}")
    return printed
