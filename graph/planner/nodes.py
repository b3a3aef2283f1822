"""Plan nodes: small tagged frozen records, the only thing the executor reads.

A plan is a tree of Fetch, Flatten, Sequence, Parallel, Condition and Subscription nodes plus a
response shape (`graph.planner.shape`) that says what the client asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class FieldSelection:
    name: str
    alias: str | None = None
    arguments: str = ""  # printed, e.g. `(first: 5, after: $cursor)`
    selections: tuple[Selection, ...] | None = None
    directives: str = ""  # printed @skip/@include forwarded to the subgraph
    client_key: str | None = None  # an internal alias: the response key to restore
    kind: Literal["field"] = "field"

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class InlineFragment:
    type_condition: str
    selections: tuple[Selection, ...]
    kind: Literal["fragment"] = "fragment"


Selection = FieldSelection | InlineFragment


ValueShape = tuple[tuple[str, "ValueShape"], ...]  # the keys an input object keeps, nested


@dataclass(frozen=True, slots=True)
class ContextSource:
    """A @fromContext value's source: the ancestor at `path` when it is one of `types`, its
    `key`; cut to `shape` when the argument takes an input object (`{ prop { id } }`)."""

    path: tuple[str, ...]
    types: frozenset[str]
    key: str
    shape: ValueShape = ()


@dataclass(frozen=True, slots=True)
class ContextRead:
    variable: str
    sources: tuple[ContextSource, ...]  # nearest ancestor first: the first that applies wins


@dataclass(frozen=True, slots=True)
class Fetch:
    """One subgraph request; with `requires` it is an `_entities` call over representations."""

    service: str
    operation: str
    selections: tuple[Selection, ...]
    requires: tuple[Selection, ...] = ()
    variable_usages: tuple[str, ...] = ()
    operation_kind: Literal["query", "mutation", "subscription"] = "query"
    # (object type, interface): representations of that object type say the interface's name,
    # because the subgraph knows the interface only as an @interfaceObject
    typename_rewrites: tuple[tuple[str, str], ...] = ()
    internal_aliases: bool = False  # some selection's `client_key` must be restored
    # @fromContext values, each read from the nearest ancestor setting its context; one call
    # per distinct set of values
    context_reads: tuple[ContextRead, ...] = ()
    kind: Literal["Fetch"] = "Fetch"


@dataclass(frozen=True, slots=True)
class Flatten:
    """Run `node` for the objects found at `path` (`@` steps into every list item)."""

    path: tuple[str, ...]
    node: Fetch
    kind: Literal["Flatten"] = "Flatten"


@dataclass(frozen=True, slots=True)
class Sequence:
    nodes: tuple[PlanNode, ...]
    kind: Literal["Sequence"] = "Sequence"


@dataclass(frozen=True, slots=True)
class Parallel:
    nodes: tuple[PlanNode, ...]
    kind: Literal["Parallel"] = "Parallel"


@dataclass(frozen=True, slots=True)
class Condition:
    """Run `if_clause` when the boolean variable `condition` is true, else `else_clause`;
    `default` is the variable's declared default, used when the request leaves it out."""

    condition: str
    if_clause: PlanNode | None
    else_clause: PlanNode | None
    default: bool = False
    kind: Literal["Condition"] = "Condition"


@dataclass(frozen=True, slots=True)
class Subscription:
    """The subgraph stream (`primary`) and, per event, the fetches of other subgraphs (`rest`)."""

    primary: Fetch
    rest: PlanNode | None
    kind: Literal["Subscription"] = "Subscription"


PlanNode = Fetch | Flatten | Sequence | Parallel | Condition | Subscription
