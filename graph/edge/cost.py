"""Demand control: an operation's cost from its document, before it runs, and from its response.

The rules are the IBM GraphQL Cost Directives spec's, as Apollo's router applies `@cost` and
`@listSize` (Federation 2.9):
- a field returning an object, interface or union costs 1, a scalar or enum field 0, unless the
  field (or its returned type) carries `@cost(weight:)`;
- a mutation's root fields cost 10 each (writes are dearer than reads);
- of fragments on different types of an abstract field, only the dearest type counts;
- a list multiplies the cost of what it holds by its size: the largest of the
  `slicingArguments` the request passes (literal or variable), else the field's
  `@listSize(assumedSize:)` (for a daily series passed both `from` and `to` dates, the days in
  that range instead: our extension), else the router's default list size;
- `@listSize(sizedFields:)` on a field returning an object sizes that object's list fields the
  same way (`mentionNetwork(maxNodes: 80) { nodes edges }`: 80 of each).
The actual cost applies the same weights to the response: each list counts its real length.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)

from graph.planner.shape import ResponseShape, ShapeField
from graph.supergraph import Supergraph

MUTATION_WEIGHT = 10
DEFAULT_LIST_SIZE = 10


@dataclass(frozen=True, slots=True)
class _ListSize:
    assumed_size: int | None
    slicing_arguments: tuple[str, ...]
    sized_fields: tuple[str, ...]


class CostModel:
    """The weights of the supergraph's fields, and estimates cached per document shape."""

    def __init__(
        self, supergraph: Supergraph, *, default_list_size: int = DEFAULT_LIST_SIZE
    ) -> None:
        self.supergraph = supergraph
        self.default_list_size = default_list_size
        self._weights: dict[tuple[str, str], int | None] = {}
        self._list_sizes: dict[tuple[str, str], _ListSize | None] = {}
        self._estimates: OrderedDict[_Key, int] = OrderedDict()
        self._dearest: OrderedDict[_Key, list[tuple[str, int]]] = OrderedDict()
        # id(shape) -> (shape, program): plans' shapes live as long as their cached plans
        self._programs: dict[int, tuple[ResponseShape, tuple[_Node, ...]]] = {}

    def weight(self, parent: str, field: str, returned: str, composite: bool) -> int:
        key = (parent, field)
        if key not in self._weights:
            self._weights[key] = self._declared_weight(parent, field, returned)
        declared = self._weights[key]
        if declared is not None:
            return declared
        return 1 if composite else 0

    def _declared_weight(self, parent: str, field: str, returned: str) -> int | None:
        info = self.supergraph.types.get(parent)
        field_info = info.fields.get(field) if info else None
        if field_info is not None and "cost" in field_info.policies:
            return int(field_info.policies["cost"]["weight"])
        returned_info = self.supergraph.types.get(returned)
        if returned_info is not None and "cost" in returned_info.policies:
            return int(returned_info.policies["cost"]["weight"])
        return None

    def list_size(self, parent: str, field: str) -> _ListSize | None:
        key = (parent, field)
        if key not in self._list_sizes:
            info = self.supergraph.types.get(parent)
            field_info = info.fields.get(field) if info else None
            args = field_info.policies.get("listSize") if field_info else None
            self._list_sizes[key] = (
                None
                if args is None
                else _ListSize(
                    assumed_size=args.get("assumedSize"),
                    slicing_arguments=tuple(args.get("slicingArguments") or ()),
                    sized_fields=tuple(args.get("sizedFields") or ()),
                )
            )
        return self._list_sizes[key]

    def estimate(
        self,
        text: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> int:
        """The operation's estimated cost in cost units (cached per document and the values of
        the variables it uses as slicing arguments)."""
        return _remembered(
            self._estimates,
            4096,
            _cache_key(text, operation, variables),
            lambda: _Estimator(self, document, variables).operation(operation),
        )

    def dearest(
        self,
        text: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        count: int = 3,
    ) -> list[tuple[str, int]]:
        """The operation's `count` dearest root fields (as the request names them: alias or
        name) and each one's estimated cost, dearest first: what a refusal points the caller
        to. Cached as estimates are (a caller sending the same refused operation again)."""
        costs = _remembered(
            self._dearest,
            256,
            _cache_key(text, operation, variables),
            lambda: self._root_costs(operation, document, variables),
        )
        return costs[:count]

    def _root_costs(
        self,
        operation: OperationDefinitionNode,
        document: DocumentNode,
        variables: Mapping[str, Any],
    ) -> list[tuple[str, int]]:
        root = self.supergraph.api_schema.get_root_type(operation.operation)
        if root is None:
            return []
        estimator = _Estimator(self, document, variables)
        mutation = operation.operation is OperationType.MUTATION
        costs = []
        for selection in operation.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value.startswith("__"):
                continue
            definition = root.fields.get(selection.name.value)
            if definition is not None:
                name = (selection.alias or selection.name).value
                cost = estimator.field(selection, root.name, definition)
                costs.append((name, cost + (MUTATION_WEIGHT if mutation else 0)))
        return sorted(costs, key=lambda item: -item[1])

    def actual(self, shape: ResponseShape, data: Any, mutation: bool = False) -> int:
        """The cost of the response actually sent: the same weights, lists at their length."""
        if not isinstance(data, dict):
            return 0
        total = 0
        for node in self._program(shape):
            cost = _actual(node, data.get(node[0]))
            total += cost + (MUTATION_WEIGHT if mutation else 0)
        return total

    def _program(self, shape: ResponseShape) -> tuple[_Node, ...]:
        """The shape's fields with their weights, each kept only where it or a field below it
        can cost something (most leaves cost 0), built once per plan's shape."""
        entry = self._programs.get(id(shape))
        if entry is not None and entry[0] is shape:
            return entry[1]
        program = tuple(
            self._node(field)
            for field in shape.fields
            if not field.introspection and field.name != "__typename"
        )
        self._programs[id(shape)] = (shape, program)
        if len(self._programs) > 4096:
            del self._programs[next(iter(self._programs))]
        return program

    def _node(self, field: ShapeField) -> _Node:
        composite = field.children is not None
        own = self.weight(field.parent_type, field.name, field.named_type, composite)
        children = tuple(
            node
            for child in field.children or ()
            if child.name != "__typename" and _costs(node := self._node(child))
        )
        return (field.response_key, own, composite, field.applies_to, field.named_type, children)


# A field of a response shape as the actual cost walks it: response key, own weight, whether
# it returns an object, the types it applies to (None: all), its named type, its children.
_Node = tuple[str, int, bool, frozenset[str] | None, str, tuple[Any, ...]]


def _costs(node: _Node) -> bool:
    """Whether the field can add to a cost: a weight of its own or a child with one."""
    return node[1] != 0 or bool(node[5])


def _actual(node: _Node, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, list):
        total = 0
        for item in value:
            total += _actual(node, item)
        return total
    _, own, composite, _, named_type, children = node
    if not composite or not children or not isinstance(value, dict):
        return own
    runtime = None
    for child in children:
        applies_to = child[3]
        if applies_to is not None:
            if runtime is None:  # a shaped object of an abstract field knows its type
                runtime = value.get("__typename") or getattr(value, "typename", named_type)
            if runtime not in applies_to:
                continue
        own += _actual(child, value.get(child[0]))
    return own


class _Estimator:
    def __init__(
        self, model: CostModel, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.model = model
        self.schema = model.supergraph.api_schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        mutation = operation.operation is OperationType.MUTATION
        return self.selections(operation.selection_set, root.name, frozenset(), mutation)

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: str,
        visiting: frozenset[str],
        root: bool,
        sized: Mapping[str, int] | None = None,
    ) -> int:
        """The fields selected on `parent` plus, of the fragments on its possible types, the
        dearest type's (one object has one type, so only one type's fragments apply)."""
        total = 0
        by_type: dict[str, int] = {}
        parent_type = self.schema.get_type(parent)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__") or not isinstance(
                    parent_type, GraphQLObjectType | GraphQLInterfaceType
                ):
                    continue
                definition = parent_type.fields.get(selection.name.value)
                if definition is None:
                    continue
                size = sized.get(selection.name.value) if sized else None
                total += self.field(selection, parent, definition, size)
                if root:
                    total += MUTATION_WEIGHT
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                name = condition.name.value if condition else parent
                cost = self.selections(selection.selection_set, name, visiting, root, sized)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None or fragment.name.value in visiting:
                    continue
                name = fragment.type_condition.name.value
                inner = visiting | {fragment.name.value}
                cost = self.selections(fragment.selection_set, name, inner, root, sized)
            else:
                continue
            if name == parent:
                total += cost
            else:
                by_type[name] = by_type.get(name, 0) + cost
        return total + max(by_type.values(), default=0)

    def field(
        self, node: FieldNode, parent: str, definition: GraphQLField, sized: int | None = None
    ) -> int:
        """The field's cost; `sized` is its length when the parent's @listSize sized it."""
        named = get_named_type(definition.type)
        composite = is_composite_type(named)
        own = self.model.weight(parent, node.name.value, named.name, composite)
        below = 0
        if node.selection_set is not None:
            children = self._sized_children(node, parent, definition)
            below = self.selections(node.selection_set, named.name, frozenset(), False, children)
        is_list = isinstance(_nullable(definition.type), GraphQLList)
        size = sized if sized is not None else self._list_multiplier(node, parent, definition)
        return (size if is_list else 1) * (own + below)

    def _sized_children(
        self, node: FieldNode, parent: str, definition: GraphQLField
    ) -> dict[str, int] | None:
        """The sizes `@listSize(sizedFields:)` gives the list fields of this field's object."""
        list_size = self.model.list_size(parent, node.name.value)
        if list_size is None or not list_size.sized_fields:
            return None
        if isinstance(_nullable(definition.type), GraphQLList):
            return None  # sizedFields apply to an object, not a list of them
        size = self._declared_size(node, definition, list_size)
        return dict.fromkeys(list_size.sized_fields, size)

    def _list_multiplier(self, node: FieldNode, parent: str, definition: GraphQLField) -> int:
        if not isinstance(_nullable(definition.type), GraphQLList):
            return 1
        list_size = self.model.list_size(parent, node.name.value)
        if list_size is None or list_size.sized_fields:
            return self.model.default_list_size
        return self._declared_size(node, definition, list_size)

    def _declared_size(
        self, node: FieldNode, definition: GraphQLField, list_size: _ListSize
    ) -> int:
        passed = {argument.name.value: argument.value for argument in node.arguments or ()}
        given = []
        for name in list_size.slicing_arguments:
            size = self._int(passed[name]) if name in passed else None
            if name not in passed and name in definition.args:
                size = _default(definition.args[name])
            if size is not None:
                given.append(size)
        if given:
            return max(0, max(given))
        if list_size.assumed_size is not None:
            days = self._days(node)
            return int(list_size.assumed_size) if days is None else days
        return self.model.default_list_size

    def _days(self, node: FieldNode) -> int | None:
        """Days from `from` to `to` inclusive, when both are given as dates: a daily series
        over that range holds at most that many items (our extension of @listSize, which
        replaces the assumed size)."""
        bounds = {}
        for argument in node.arguments or ():
            if argument.name.value in ("from", "to"):
                value = argument.value
                if isinstance(value, VariableNode):
                    raw = self.variables.get(value.name.value)
                else:
                    raw = getattr(value, "value", None)
                try:
                    bounds[argument.name.value] = dt.date.fromisoformat(str(raw)[:10])
                except ValueError:
                    return None
        if len(bounds) != 2:
            return None
        return max(0, (bounds["to"] - bounds["from"]).days + 1)

    def _int(self, value: Any) -> int | None:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = self.variables.get(value.name.value)
            return int(given) if isinstance(given, int) else None
        return None


def _default(argument: GraphQLArgument) -> int | None:
    """An argument's declared default, when it is an integer."""
    if isinstance(argument.default_value, int):
        return argument.default_value
    node = argument.ast_node.default_value if argument.ast_node is not None else None
    return int(node.value) if isinstance(node, IntValueNode) else None


_Key = tuple[str, str | None, str]
T = TypeVar("T")


def _cache_key(text: str, operation: OperationDefinitionNode, variables: Mapping[str, Any]) -> _Key:
    """What an estimate depends on: the document, the operation, the variables that size it."""
    return text, operation.name.value if operation.name else None, _variables_key(variables)


def _remembered(cache: OrderedDict[_Key, T], limit: int, key: _Key, make: Callable[[], T]) -> T:
    """`cache[key]`, made by `make` on a miss; the least recently used of more than `limit`
    entries dropped."""
    cached = cache.get(key)
    if cached is not None:
        cache.move_to_end(key)
        return cached
    made = cache[key] = make()
    if len(cache) > limit:
        cache.popitem(last=False)
    return made


def _variables_key(variables: Mapping[str, Any]) -> str:
    # Only integers (slicing arguments) and dates (ranges) change an estimate.
    return ",".join(
        f"{k}={v}"
        for k, v in sorted(variables.items())
        if isinstance(v, int) or (isinstance(v, str) and len(v) <= 32)
    )


def _nullable(type_: GraphQLOutputType) -> GraphQLOutputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_
