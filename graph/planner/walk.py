"""Stage 3, walk: the normalised operation over the query graph, growing the fetch graph.

Fields a group's subgraph resolves stay in that group; the others become entity jumps: the
current group selects `__typename` and the key (and any @requires fields), and a new `_entities`
group for the chosen subgraph waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    TypeNode,
    parse,
    parse_type,
    type_from_ast,
)

from graph.planner.choose import entity_keys, jump_targets
from graph.planner.context_reads import read_contexts
from graph.planner.errors import UnsatisfiableFieldError
from graph.planner.fetch_graph import (
    FetchGraph,
    FetchGroup,
    SelectionSet,
    unshadowed,
)
from graph.planner.jump_choice import cheapest_jumps
from graph.planner.operation import (
    INTROSPECTION_FIELDS,
    Conditions,
    NormalizedOperation,
    OperationField,
)
from graph.planner.requirements import split_by_requirements
from graph.planner.roots import root_parts
from graph.supergraph.model import EntityKey, Supergraph

Provided = dict[str, "Provided"]
_MAX_JUMP_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Position:
    group: FetchGroup
    target: SelectionSet
    path: tuple[str, ...]
    provided: Provided | None = None
    requires_satisfied: bool = False
    depth: int = 0
    conditions: Conditions = frozenset()  # @skip/@include of the fields on the way here
    # (type, subgraph) jumps whose keys are being gathered: entering one again is a cycle
    chain: frozenset[tuple[str, str]] = frozenset()
    # the one object type behind an @interfaceObject entity position (its representations)
    object_type: str | None = None
    # the object this one was selected on, its type and the field: a keyless value's field
    # that no jump reaches is fetched by re-entering that parent elsewhere
    parent: tuple[Position, str, OperationField] | None = None
    # @context scopes, nearest first: (context, the ancestor's position, its type)
    contexts: tuple[tuple[str, Position, str], ...] = ()


def list_depth(type_: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        depth += isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return depth


class Walker:
    def __init__(
        self, supergraph: Supergraph, operation: NormalizedOperation, *, trial_depth: int = 0
    ) -> None:
        self.supergraph = supergraph
        self.operation = operation
        self.trial_depth = trial_depth  # how many trial walks (costing a choice) this is inside
        self.fetch_graph = FetchGraph()
        self._context_variables: dict[tuple[str, ...], str] = {}  # see `context_variable`

    def walk(self) -> FetchGraph:
        roots: list[FetchGroup] = []
        for field in self.operation.fields:
            if field.name in INTROSPECTION_FIELDS or field.name == "__typename":
                continue
            for graph, part in root_parts(self, field, roots):
                self.plan_root(roots, graph, part)
        return self.fetch_graph

    def plan_root(self, roots: list[FetchGroup], graph: str, field: OperationField) -> None:
        """Plan root `field` from `graph`, in the root fetch already going there if it may be
        shared (mutations run in order: only with the one just before)."""
        if self.operation.kind == "mutation":
            group = roots[-1] if roots and roots[-1].subgraph == graph else None
        else:
            group = next((g for g in roots if g.subgraph == graph), None)
        if group is None:
            group = self.fetch_graph.new_group(graph, (), entity=False, depends_on=[])
            group.root_order = len(roots)
            roots.append(group)
        group.restrict(field.conditions)
        root_type = self.operation.root_type
        self.plan_fields(Position(group, group.selections, ()), root_type, [field])

    def plan_fields(self, position: Position, type_name: str, fields: list[OperationField]) -> None:
        kind = self.supergraph.types[type_name].kind
        if kind in ("interface", "union"):
            self._plan_abstract(position, type_name, fields)
            return
        relevant = [f for f in fields if f.applies_to is None or type_name in f.applies_to]
        remote = [f for f in relevant if not self._local(position, type_name, f)]
        remote_ids = {id(f) for f in remote}
        for field in relevant:
            if id(field) not in remote_ids:
                self._plan_local(position, type_name, field)
        if remote:
            keys: dict[tuple[str, str], EntityKey | None] = {}

            def usable(graph: str, entity_type: str) -> bool:
                keys[graph, entity_type] = self._key_for(position, type_name, graph, entity_type)
                return keys[graph, entity_type] is not None

            try:
                targets = jump_targets(
                    self.supergraph, type_name, remote, position.group.subgraph, usable
                )
            except UnsatisfiableFieldError as error:
                self._reenter(position, type_name, remote, error)
                return
            targets = cheapest_jumps(self, position, type_name, remote, targets, keys)
            for (graph, entity_type), served in targets.items():
                key = keys[graph, entity_type]
                assert key is not None
                self.jump(position, type_name, graph, entity_type, served, key)

    def _reenter(
        self,
        position: Position,
        type_name: str,
        fields: list[OperationField],
        error: UnsatisfiableFieldError,
    ) -> None:
        """Fetch `fields` of a keyless value by selecting it again on its parent entity in a
        subgraph that resolves both (`details { colour }` on the Product): further up when the
        parent is keyless too; `error` when no subgraph can."""
        if position.parent is None:
            raise error
        parent, parent_type, via = position.parent
        narrowed = replace(via, children=tuple(fields))
        for graph in self.supergraph.graphs_resolving(parent_type, via.name):
            if graph == position.group.subgraph:
                continue
            key = self._key_for(parent, parent_type, graph, parent_type)
            if key is not None and self._serves(parent, graph, parent_type, narrowed):
                self.jump(parent, parent_type, graph, parent_type, [narrowed], key)
                return
        self._reenter(parent, parent_type, [narrowed], error)

    def _serves(
        self, position: Position, graph: str, type_name: str, field: OperationField
    ) -> bool:
        trial = Walker(self.supergraph, self.operation)
        group = trial.fetch_graph.new_group(graph, position.path, entity=True, depends_on=[])
        entered = Position(group, group.selections, position.path, requires_satisfied=True)
        try:
            trial.plan_fields(entered, type_name, [field])
        except UnsatisfiableFieldError:
            return False
        return True

    def _key_for(
        self, position: Position, type_name: str, graph: str, entity_type: str
    ) -> EntityKey | None:
        """The first key of `graph` the objects here can supply, searching the jumps that
        gather its fields (a cycle back to a jump in progress is a dead end, not an error)."""
        if (type_name, graph) in position.chain:
            return None
        chain = position.chain | {(type_name, graph)}
        for key in entity_keys(self.supergraph, entity_type, graph, position.group.subgraph):
            fields = self._field_set(type_name, key.fields)
            if all(not f.children and self._local(position, type_name, f) for f in fields):
                return key
            trial = Walker(self.supergraph, self.operation)
            group = trial.fetch_graph.new_group(
                position.group.subgraph, position.path, entity=position.group.entity, depends_on=[]
            )
            start = replace(
                position,
                group=group,
                target=group.selections,
                requires_satisfied=False,
                depth=position.depth + 1,
                chain=chain,
            )
            try:
                trial.plan_fields(start, type_name, fields)
            except UnsatisfiableFieldError:
                continue
            return key
        return None

    def _plan_abstract(
        self, position: Position, type_name: str, fields: list[OperationField]
    ) -> None:
        graph = position.group.subgraph
        in_graph = self.supergraph.types[type_name].graphs.get(graph)
        if in_graph is not None and in_graph.interface_object:
            self._plan_interface_object(position, type_name, fields)
            return
        position.target.add_field("__typename")
        implementations = self.supergraph.possible_types(type_name, graph)
        if self._stays_abstract(position, type_name, implementations, fields):
            for field in fields:
                self._plan_local(position, type_name, field)
            return
        for concrete in implementations:
            relevant = [f for f in fields if f.applies_to is None or concrete in f.applies_to]
            if relevant:
                fragment = replace(position, target=position.target.fragment(concrete))
                contexts = self.supergraph.types[concrete].contexts
                if contexts:  # a member or implementation sets a context for what is below
                    scopes = tuple((context, fragment, concrete) for context in contexts)
                    fragment = replace(fragment, contexts=scopes + position.contexts)
                self.plan_fields(fragment, concrete, relevant)

    def _plan_interface_object(
        self, position: Position, type_name: str, fields: list[OperationField]
    ) -> None:
        """In a subgraph that knows interface `type_name` only as an @interfaceObject, the real
        type (and fields it lacks) come from a subgraph where the interface is an entity; this
        one is not asked for `__typename`, which would only say the interface's name."""
        keys = self.supergraph.types[type_name].key_fields(position.group.subgraph)
        local = [
            f
            for f in fields
            if f.name != "__typename"
            and f.applies_to is None
            and self._local(position, type_name, f)
            and (f.name in keys or not self._owned_by_implementation(position, type_name, f.name))
        ]
        for field in local:
            self._plan_local(position, type_name, field)
        local_ids = {id(f) for f in local}
        rest = [f for f in fields if id(f) not in local_ids]
        if not rest:
            return
        info = self.supergraph.types[type_name]
        for target, in_graph in sorted(info.graphs.items()):
            if in_graph.interface_object:
                continue
            key = self._key_for(position, type_name, target, type_name)
            if key is not None:
                break
        else:
            raise UnsatisfiableFieldError(
                f'No subgraph resolves interface "{type_name}" as an entity, so its concrete '
                f'types cannot be found from subgraph "{position.group.subgraph}"; add @key to '
                "the interface where it is defined."
            )
        self.jump(position, type_name, target, type_name, rest, key, typename_in_parent=False)

    def _owned_by_implementation(self, position: Position, interface: str, field: str) -> bool:
        """Whether the supergraph says an implementation of `interface` that may be here gets
        `field` from a subgraph of its own (not from an @interfaceObject): that one answers."""
        possible = (
            [position.object_type]
            if position.object_type is not None
            else self.supergraph.possible_types(interface)
        )
        return any(self.supergraph.graphs_resolving(concrete, field) for concrete in possible)

    def _stays_abstract(
        self,
        position: Position,
        type_name: str,
        implementations: list[str],
        fields: list[OperationField],
    ) -> bool:
        is_interface = self.supergraph.types[type_name].kind == "interface"
        if any(self.supergraph.types[c].contexts for c in implementations):
            return False  # each implementation's fragment carries the contexts it sets
        for field in fields:
            if field.name == "__typename":
                continue
            if not is_interface:
                return False
            if field.applies_to is not None and not set(implementations) <= field.applies_to:
                return False
            if not self._local(position, type_name, field):
                return False
            for concrete in implementations:
                if not self._local(position, concrete, field):
                    return False
        return True

    def _local(self, position: Position, type_name: str, field: OperationField) -> bool:
        if field.name == "__typename":
            return True
        if position.provided is not None and field.name in position.provided:
            return True
        graph = position.group.subgraph
        if not self.supergraph.resolves(type_name, field.name, graph):
            return False
        in_graph = self.supergraph.field_in(type_name, field.name, graph)
        # @requires and @fromContext values reach a subgraph only in an `_entities` call
        needs_entry = in_graph and (in_graph.requires or in_graph.context_arguments)
        return not (needs_entry and not position.requires_satisfied)

    def _plan_local(self, position: Position, type_name: str, field: OperationField) -> None:
        composite = bool(field.children)
        in_graph = self.supergraph.field_in(type_name, field.name, position.group.subgraph)
        info = self.supergraph.types[type_name].fields.get(field.name)
        # what the subgraph itself says: where two fragments disagree, one gets an alias
        graph_type = (in_graph.type if in_graph else None) or (info.type if info else None)
        selection = position.target.add_field(
            field.name, field.alias, field.arguments, composite, field.conditions, graph_type
        )
        if not composite or selection.selections is None:
            return
        provided = (position.provided or {}).get(field.name)
        if in_graph is not None and in_graph.provides:
            provided = {**(provided or {}), **provided_tree(in_graph.provides)}
        path = position.path + (field.response_key,) + ("@",) * list_depth(field.type)
        child = Position(
            position.group,
            selection.selections,
            path,
            provided,
            depth=position.depth,
            conditions=position.conditions | field.conditions,
            parent=(position, type_name, field),
            contexts=position.contexts,
        )
        info_named = self.supergraph.types.get(field.named_type)
        if info_named is not None and info_named.contexts:
            scopes = tuple((context, child, field.named_type) for context in info_named.contexts)
            child = replace(child, contexts=scopes + position.contexts)
        named = field.named_type
        own = in_graph.type.strip("[]!") if in_graph is not None and in_graph.type else named
        if own != named:
            # an object here, a union or interface in the supergraph: fragments on the other
            # members are dropped, and `__typename` says which member it is
            selection.selections.add_field("__typename")
            named = own
        self.plan_fields(child, named, list(field.children))

    def jump(
        self,
        position: Position,
        type_name: str,
        graph: str,
        entity_type: str,
        fields: list[OperationField],
        key: EntityKey,
        *,
        typename_in_parent: bool = True,
    ) -> None:
        """Fetch `fields` of the `type_name` objects here from `graph`, which knows them as
        `entity_type` (`type_name` itself, or an interface it resolves as @interfaceObject)."""
        if position.depth > _MAX_JUMP_DEPTH:
            raise UnsatisfiableFieldError(
                f'Resolving "{type_name}.{fields[0].name}" needs a chain of more than '
                f"{_MAX_JUMP_DEPTH} entity jumps; the keys between subgraphs form a cycle."
            )
        parts = split_by_requirements(fields, lambda f: self._required(type_name, graph, f))
        if len(parts) > 1:
            for part in parts:
                self.jump(position, type_name, graph, entity_type, part, key)
            return
        field_sets = [key.fields]
        for field in fields:
            in_graph = self.supergraph.field_in(entity_type, field.name, graph)
            if in_graph is not None and in_graph.requires:
                field_sets.append(in_graph.requires)
        if typename_in_parent:
            position.target.add_field("__typename")
        before = len(self.fetch_graph.groups)
        requirement = replace(
            position,
            requires_satisfied=False,
            depth=position.depth + 1,
            chain=position.chain | {(type_name, graph)},
        )
        required = [
            unshadowed(position.target, field)
            for field_set in field_sets
            for field in self._field_set(type_name, field_set)
        ]
        self.plan_fields(requirement, type_name, required)
        contextual = read_contexts(self, position, entity_type, graph, fields)
        fields = contextual.fields
        created = self.fetch_graph.groups[before:]
        group = self.fetch_graph.new_group(
            graph,
            position.path,
            entity=True,
            depends_on=[position.group, *contextual.scopes, *created],
        )
        group.context_reads += contextual.reads
        group.context_variables.update(contextual.variable_types)
        conditions = position.conditions | frozenset.intersection(*(f.conditions for f in fields))
        group.restrict(conditions)
        if entity_type != type_name:
            group.typename_rewrites[type_name] = entity_type
        representation = group.requires.fragment(type_name)
        representation.add_field("__typename")
        _add_requirement(representation, required)
        entity = Position(
            group,
            group.selections.fragment(entity_type),
            position.path,
            requires_satisfied=True,
            depth=position.depth + 1,
            conditions=conditions,
            chain=frozenset(),
            object_type=type_name if entity_type != type_name else None,
            contexts=position.contexts,
        )
        if entity_type != type_name:
            # only `type_name` objects are sent: a fragment's condition on it already holds
            fields = [replace(f, applies_to=None) for f in fields]
        self.plan_fields(entity, entity_type, fields)

    def context_variable(self, use: tuple[str, ...]) -> str:
        """The variable of a @fromContext value: one per `use` (where the jump fetches from,
        the field's response key, the argument), so the jumps to one field from several type
        conditions share it, and their fetches can merge."""
        if use not in self._context_variables:
            self._context_variables[use] = f"contextualArgument_{len(self._context_variables)}"
        return self._context_variables[use]

    def field_set_of(self, type_name: str, selection_set: SelectionSetNode) -> list[OperationField]:
        return self._operation_fields(type_name, selection_set, None)

    def _required(self, type_name: str, graph: str, field: OperationField) -> list[OperationField]:
        """The fields `field`'s @requires in `graph` names (those at its top level)."""
        in_graph = self.supergraph.field_in(type_name, field.name, graph)
        if in_graph is None or not in_graph.requires:
            return []
        return self._field_set(type_name, in_graph.requires)

    def _field_set(self, type_name: str, field_set: str) -> list[OperationField]:
        return self._operation_fields(type_name, _parse_field_set(field_set), None)

    def _operation_fields(
        self, type_name: str, selection_set: SelectionSetNode, applies_to: frozenset[str] | None
    ) -> list[OperationField]:
        fields: list[OperationField] = []
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner_type = condition.name.value if condition else type_name
                narrowed = frozenset(self.supergraph.possible_types(inner_type))
                fields.extend(self._operation_fields(inner_type, selection.selection_set, narrowed))
                continue
            assert isinstance(selection, FieldNode)
            name = selection.name.value
            field_type = self._field_type(type_name, name)
            children: list[OperationField] = []
            if selection.selection_set is not None:
                named = _named(self.supergraph.types[type_name].fields[name].type)
                children = self._operation_fields(named, selection.selection_set, None)
            fields.append(
                OperationField(
                    response_key=name,
                    name=name,
                    alias=None,
                    arguments=tuple(selection.arguments or ()),
                    parent_type=type_name,
                    type=field_type,
                    applies_to=applies_to,
                    children=tuple(children),
                )
            )
        return fields

    def _field_type(self, type_name: str, field_name: str) -> GraphQLOutputType:
        if field_name == "__typename":
            return GraphQLNonNull(GraphQLString)
        info = self.supergraph.types[type_name].fields.get(field_name)
        if info is None:
            raise UnsatisfiableFieldError(
                f'A field set names "{type_name}.{field_name}", which the supergraph does not '
                "define; recompose the supergraph."
            )
        found = type_from_ast(self.supergraph.api_schema, _parse_type(info.type))
        return found if found is not None else GraphQLString  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def _parse_type(type_ref: str) -> TypeNode:
    return parse_type(type_ref)


def _named(type_ref: str) -> str:
    return type_ref.strip("[]!")


@lru_cache(maxsize=4096)
def _parse_field_set(field_set: str) -> SelectionSetNode:
    operation = parse("{" + field_set + "}").definitions[0]
    return operation.selection_set  # type: ignore[attr-defined]


def _add_requirement(target: SelectionSet, fields: list[OperationField]) -> None:
    """The representation's selection: what the executor reads from each object."""
    for field in fields:
        if field.applies_to is not None:
            for type_name in sorted(field.applies_to):
                _add_requirement(target.fragment(type_name), [replace(field, applies_to=None)])
            continue
        added = target.add_field(field.name, field.alias, field.arguments, bool(field.children))
        if field.children and added.selections is not None:
            _add_requirement(added.selections, list(field.children))


def provided_tree(field_set: str) -> Provided:
    tree: Provided = {}

    def visit(selection_set: SelectionSetNode, into: Provided) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                child = into.setdefault(selection.name.value, {})
                if selection.selection_set is not None:
                    visit(selection.selection_set, child)
            elif isinstance(selection, InlineFragmentNode):
                visit(selection.selection_set, into)

    visit(_parse_field_set(field_set), tree)
    return tree
