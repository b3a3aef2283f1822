"""Merge the subgraphs' schemas into one supergraph, collecting every composition error."""

from __future__ import annotations

import re
from collections.abc import Sequence

from graph.compose.contexts import check_contexts, parse_reference
from graph.compose.enums import enum_usage, kept_values
from graph.compose.errors import CompositionError
from graph.compose.fieldsets import missing_fields, top_level_names
from graph.compose.model import Argument, Field, Key, SubgraphSchema, TypeDef
from graph.compose.policies import merge_policies
from graph.compose.supergraph_model import (
    ComposedSupergraph,
    Graph,
    JoinField,
    JoinType,
    SuperField,
    SuperType,
)
from graph.compose.types import loosest, named_type, same_shape, strictest

Definition = tuple[SubgraphSchema, TypeDef]


def merge_subgraphs(subgraphs: Sequence[SubgraphSchema]) -> ComposedSupergraph:
    ordered = sorted(subgraphs, key=lambda s: s.name)
    errors: list[str] = []
    names = [s.name for s in ordered]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f'Two subgraphs are named "{duplicate}"; give each subgraph a unique name.')
    graphs = _graphs(ordered)
    enum_of = {graph.name: graph.enum_name for graph in graphs}
    type_names = sorted({name for s in ordered for name in s.types})
    usage = enum_usage(ordered)
    types: dict[str, SuperType] = {}
    for name in type_names:
        definitions = [(s, s.types[name]) for s in ordered if name in s.types]
        merged = _merge_type(name, definitions, enum_of, errors, usage.get(name, set()))
        if merged is not None:
            types[name] = merged
    _add_interface_object_fields(types)
    for subgraph in ordered:
        _check_field_sets(subgraph, errors)
        check_contexts(subgraph, ordered, errors)
    if errors:
        raise CompositionError(errors)
    return ComposedSupergraph(graphs=graphs, types=types)


def _add_interface_object_fields(types: dict[str, SuperType]) -> None:
    """Fields an @interfaceObject adds to an interface also appear on its implementations, with
    a bare `@join__field`: no subgraph resolves them on the object type itself."""
    for interface in types.values():
        object_graphs = {j.graph for j in interface.join_types if j.interface_object}
        if interface.kind != "interface" or not object_graphs:
            continue
        added = [
            f
            for f in interface.fields.values()
            if f.joins is not None and {j.graph for j in f.joins} <= object_graphs
        ]
        for implementation in types.values():
            if interface.name not in implementation.interfaces:
                continue
            for field in added:
                if field.name not in implementation.fields:
                    implementation.fields[field.name] = SuperField(
                        name=field.name,
                        type=field.type,
                        arguments=dict(field.arguments),
                        description=field.description,
                        joins=[],
                    )


def _graphs(subgraphs: Sequence[SubgraphSchema]) -> list[Graph]:
    graphs: list[Graph] = []
    used: set[str] = set()
    for subgraph in subgraphs:
        base = re.sub(r"[^A-Za-z0-9_]", "_", subgraph.name).upper()
        base = f"_{base}" if base[:1].isdigit() else base
        enum_name, suffix = base, 1
        while enum_name in used:
            enum_name, suffix = f"{base}_{suffix}", suffix + 1
        used.add(enum_name)
        graphs.append(Graph(name=subgraph.name, enum_name=enum_name, url=subgraph.url))
    return graphs


def _kind_of(type_def: TypeDef) -> str:
    return "interface" if type_def.interface_object else type_def.kind


def _merge_type(
    name: str,
    definitions: list[Definition],
    enum_of: dict[str, str],
    errors: list[str],
    usage: set[str],
) -> SuperType | None:
    kinds = {_kind_of(t) for _, t in definitions}
    if len(kinds) > 1:
        described = "; ".join(f'{_kind_of(t)} in "{s.name}"' for s, t in definitions)
        errors.append(
            f'Type "{name}" has different kinds across subgraphs ({described}); '
            "declare it with the same kind everywhere."
        )
        return None
    kind = definitions[0][1].kind if not definitions[0][1].interface_object else "interface"
    merged = SuperType(name=name, kind=kind)
    for subgraph, type_def in definitions:
        graph = enum_of[subgraph.name]
        merged.description = merged.description or type_def.description
        merged.inaccessible |= type_def.inaccessible
        merged.tags += type_def.tags
        merge_policies(merged.policies, type_def.policies)
        keys: list[Key | None] = list(type_def.keys) or [None]
        for key in keys:
            merged.join_types.append(
                JoinType(
                    graph=graph,
                    key=key.fields if key else None,
                    resolvable=key.resolvable if key else True,
                    extension=type_def.extension and key is not None,
                    interface_object=type_def.interface_object,
                )
            )
        for interface in type_def.interfaces:
            merged.implements.append((graph, interface))
            if interface not in merged.interfaces:
                merged.interfaces.append(interface)
        for member in type_def.members:
            merged.members.append((graph, member))
        merged.contexts += [f"{subgraph.name}__{name}" for name in type_def.contexts]
    merged.tags = tuple(sorted(set(merged.tags)))
    if kind == "enum":
        _merge_enum_values(merged, definitions, enum_of, usage, errors)
    elif kind == "input":
        _merge_input_fields(merged, definitions, errors)
    elif kind in ("object", "interface"):
        _merge_output_fields(merged, definitions, enum_of, errors)
    return merged


def _merge_enum_values(
    merged: SuperType,
    definitions: list[Definition],
    enum_of: dict[str, str],
    usage: set[str],
    errors: list[str],
) -> None:
    values = {s.name: list(t.values) for s, t in definitions}
    kept = kept_values(merged.name, values, usage, errors)
    for subgraph, type_def in definitions:
        for value in type_def.values.values():
            if kept is not None and value.name not in kept:
                continue
            target = merged.fields.setdefault(value.name, SuperField(name=value.name, type=""))
            target.graphs.append(enum_of[subgraph.name])
            _merge_metadata(target, value)


def _merge_metadata(target: SuperField, source: Field) -> None:
    target.description = target.description or source.description
    if source.deprecated and not target.deprecated:
        target.deprecated, target.deprecation = True, source.deprecation
    target.inaccessible |= source.inaccessible
    target.tags = tuple(sorted(set(target.tags + source.tags)))
    merge_policies(target.policies, source.policies)


def _merge_input_fields(
    merged: SuperType, definitions: list[Definition], errors: list[str]
) -> None:
    for field_name in _ordered_field_names(definitions):
        holders = [(s, t.fields[field_name]) for s, t in definitions if field_name in t.fields]
        if not _compatible(merged.name, field_name, holders, errors):
            continue
        if len(holders) < len(definitions):
            required = [s.name for s, f in holders if f.type.endswith("!") and f.default is None]
            if required:
                absent = [s.name for s, t in definitions if field_name not in t.fields]
                errors.append(
                    f'Input field "{merged.name}.{field_name}" is required in {_names(required)} '
                    f"but absent from {_names(absent)}; define it in every subgraph or make it "
                    "optional."
                )
            continue
        target = SuperField(name=field_name, type=strictest([f.type for _, f in holders]))
        for _, field in holders:
            _merge_metadata(target, field)
            target.default = target.default or field.default
        merged.fields[field_name] = target


def _ordered_field_names(definitions: list[Definition]) -> list[str]:
    seen: dict[str, None] = {}
    for _, type_def in definitions:
        for name in type_def.fields:
            seen.setdefault(name)
    return list(seen)


def _names(subgraphs: list[str]) -> str:
    quoted = [f'"{name}"' for name in subgraphs]
    return "subgraph " + quoted[0] if len(quoted) == 1 else "subgraphs " + ", ".join(quoted)


def _is_subtype(sub: str, sup: str, holders: list[tuple[SubgraphSchema, Field]]) -> bool:
    """Whether object `sub` is a member of union `sup` or implements interface `sup` in one of
    the subgraphs defining the field."""
    for subgraph, _ in holders:
        abstract, concrete = subgraph.types.get(sup), subgraph.types.get(sub)
        if abstract is not None and sub in abstract.members:
            return True
        if concrete is not None and sup in concrete.interfaces:
            return True
    return False


def _widest(holders: list[tuple[SubgraphSchema, Field]]) -> str | None:
    """The named type every subgraph's type of the field is (or is a subtype of): an object
    in one subgraph may be a union or interface containing it in another."""
    names = {named_type(f.type) for _, f in holders}
    for candidate in sorted(names):
        if all(n == candidate or _is_subtype(n, candidate, holders) for n in names):
            return candidate
    return None


def _widened(type_ref: str, widest: str) -> str:
    named = named_type(type_ref)
    return type_ref.replace(named, widest) if named != widest else type_ref


def _compatible(
    type_name: str, field_name: str, holders: list[tuple[SubgraphSchema, Field]], errors: list[str]
) -> bool:
    first_subgraph, first = holders[0]
    widest = _widest(holders) or named_type(first.type)
    for subgraph, field in holders[1:]:
        if not same_shape(_widened(first.type, widest), _widened(field.type, widest)):
            errors.append(
                f'Field "{type_name}.{field_name}" has incompatible types across subgraphs: '
                f'"{first.type}" in subgraph "{first_subgraph.name}" but "{field.type}" in '
                f'subgraph "{subgraph.name}"; use one type (nullability may differ).'
            )
            return False
    return True


def _merge_output_fields(
    merged: SuperType, definitions: list[Definition], enum_of: dict[str, str], errors: list[str]
) -> None:
    for field_name in _ordered_field_names(definitions):
        holders = [(s, t.fields[field_name]) for s, t in definitions if field_name in t.fields]
        if not _compatible(merged.name, field_name, holders, errors):
            continue
        overridden: dict[str, str] = {}
        labels: dict[str, str] = {}  # progressive @override: the old subgraph serves when off
        for subgraph, field in holders:
            if field.override == subgraph.name:
                errors.append(
                    f'Field "{merged.name}.{field_name}" in subgraph "{subgraph.name}" overrides '
                    "itself; @override(from:) must name another subgraph."
                )
            elif field.override is not None:
                overridden[field.override] = subgraph.name
                if field.override_label is not None:
                    labels[field.override] = field.override_label
        resolving = [(s, f) for s, f in holders if not f.external and s.name not in overridden]
        if merged.kind == "object":
            _check_shareable(merged.name, field_name, resolving, definitions, errors)
        widest = _widest(holders) or named_type(holders[0][1].type)
        target = SuperField(
            name=field_name,
            type=loosest([_widened(f.type, widest) for _, f in resolving or holders]),
        )
        for _, field in holders:
            _merge_metadata(target, field)
        target.arguments = _merge_arguments(merged.name, field_name, resolving or holders, errors)
        mismatch = any(f.type != target.type for _, f in holders)
        for from_context in [a for a in target.arguments if _from_context(holders, a)]:
            del target.arguments[from_context]  # filled by the router, never by clients
        special = any(
            f.external or f.requires or f.provides or f.override or _contextual(f)
            for _, f in holders
        )
        if len(holders) < len(definitions) or mismatch or special or overridden:
            target.joins = _joins(holders, overridden, labels, definitions, enum_of, mismatch)
        merged.fields[field_name] = target


def _contextual(field: Field) -> bool:
    return any(a.from_context for a in field.arguments.values())


def _from_context(holders: list[tuple[SubgraphSchema, Field]], argument: str) -> bool:
    return any(argument in f.arguments and f.arguments[argument].from_context for _, f in holders)


def _context_arguments(subgraph: str, field: Field) -> tuple[tuple[str, str, str, str], ...]:
    """`@fromContext(field: "$ctx { currency }")` as (`subgraph__ctx`, name, type, selection),
    the selection as written after the name (`" { currency }"`), as Apollo composition does."""
    found = []
    for argument in field.arguments.values():
        reference = parse_reference(argument.from_context or "")
        if reference is not None:
            context, selection = reference
            found.append((f"{subgraph}__{context}", argument.name, argument.type, selection))
    return tuple(found)


def _joins(
    holders: list[tuple[SubgraphSchema, Field]],
    overridden: dict[str, str],
    labels: dict[str, str],
    definitions: list[Definition],
    enum_of: dict[str, str],
    mismatch: bool,
) -> list[JoinField]:
    joins: list[JoinField] = []
    type_defs = {s.name: t for s, t in definitions}
    for subgraph, field in holders:
        graph = enum_of[subgraph.name]
        if subgraph.name in overridden and subgraph.name not in labels:
            key_fields = {
                name
                for key in type_defs[subgraph.name].keys
                for name in top_level_names(key.fields)
            }
            if field.name in key_fields:
                joins.append(JoinField(graph=graph, used_overridden=True))
            continue
        joins.append(
            JoinField(
                graph=graph,
                type=field.type if mismatch else None,
                requires=field.requires,
                provides=field.provides,
                external=field.external,
                override=field.override,
                override_label=field.override_label or labels.get(subgraph.name),
                context_arguments=_context_arguments(subgraph.name, field),
            )
        )
    return joins


def _check_shareable(
    type_name: str,
    field_name: str,
    resolving: list[tuple[SubgraphSchema, Field]],
    definitions: list[Definition],
    errors: list[str],
) -> None:
    if len(resolving) < 2:
        return
    type_defs = {s.name: t for s, t in definitions}
    not_shareable = []
    for subgraph, field in resolving:
        type_def = type_defs[subgraph.name]
        key_fields = {name for key in type_def.keys for name in top_level_names(key.fields)}
        if not (field.shareable or type_def.shareable or field_name in key_fields):
            not_shareable.append(subgraph.name)
    if not_shareable:
        everyone = [s.name for s, _ in resolving]
        errors.append(
            f'Non-shareable field "{type_name}.{field_name}" is resolved from {_names(everyone)} '
            f"but is not @shareable in {_names(not_shareable)}; mark it @shareable in every "
            "subgraph that resolves it, or resolve it in one subgraph only."
        )


def _merge_arguments(
    type_name: str,
    field_name: str,
    holders: list[tuple[SubgraphSchema, Field]],
    errors: list[str],
) -> dict[str, Argument]:
    merged: dict[str, Argument] = {}
    names: dict[str, None] = {}
    for _, field in holders:
        for arg_name in field.arguments:
            names.setdefault(arg_name)
    for arg_name in names:
        having = [(s, f.arguments[arg_name]) for s, f in holders if arg_name in f.arguments]
        if len(having) < len(holders):
            required = [s.name for s, a in having if a.type.endswith("!") and a.default is None]
            if required:
                absent = [s.name for s, f in holders if arg_name not in f.arguments]
                errors.append(
                    f'Argument "{type_name}.{field_name}({arg_name}:)" is required in '
                    f"{_names(required)} but absent from {_names(absent)}; define it everywhere "
                    "the field is resolved, or make it optional."
                )
            continue
        merged[arg_name] = Argument(
            name=arg_name,
            type=strictest([a.type for _, a in having]),
            default=next((a.default for _, a in having if a.default is not None), None),
            description=next((a.description for _, a in having if a.description), None),
            inaccessible=any(a.inaccessible for _, a in having),
        )
    return merged


def _check_field_sets(subgraph: SubgraphSchema, errors: list[str]) -> None:
    for type_def in subgraph.types.values():
        for key in type_def.keys:
            for missing in missing_fields(subgraph, type_def.name, key.fields):
                errors.append(
                    f'@key(fields: "{key.fields}") on type "{type_def.name}" in subgraph '
                    f'"{subgraph.name}" names field "{missing}", which subgraph '
                    f'"{subgraph.name}" does not define; add the field (as @external if another '
                    "subgraph resolves it) or fix the key."
                )
        for field in type_def.fields.values():
            _check_field_field_sets(subgraph, type_def, field, errors)


def _check_field_field_sets(
    subgraph: SubgraphSchema, type_def: TypeDef, field: Field, errors: list[str]
) -> None:
    where = f'"{type_def.name}.{field.name}" in subgraph "{subgraph.name}"'
    if field.requires is not None:
        for missing in missing_fields(subgraph, type_def.name, field.requires):
            errors.append(
                f'@requires(fields: "{field.requires}") on {where} names field "{missing}", '
                "which is not defined there; declare it with @external."
            )
        for name in top_level_names(field.requires, leaves_only=True):
            required = type_def.fields.get(name)
            if required is not None and not required.external and not subgraph.fed1:
                errors.append(
                    f'@requires(fields: "{field.requires}") on {where} names field "{name}", '
                    "which is not @external there; mark it @external."
                )
    if field.provides is not None:
        for missing in missing_fields(subgraph, named_type(field.type), field.provides):
            errors.append(
                f'@provides(fields: "{field.provides}") on {where} names field "{missing}", '
                "which is not defined there; declare it with @external."
            )
