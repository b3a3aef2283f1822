"""Dependencies flow one way (README, "Layout"): engines <- runtime <- subgraphs <- assembly.

Every module of engines/, graph/, nexus/ and subgraphs/ is read with `ast` (nothing is
imported), and each import it makes -- `import`, `from ... import`, relative imports, imports
under TYPE_CHECKING, and the string literal given to `importlib.import_module` -- must name a
module of its own layer or a lower one.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

ENGINES, RUNTIME, SUBGRAPHS, ASSEMBLY = range(4)
LAYER_NAMES = ("engines", "runtime", "subgraphs", "assembly")
PACKAGES = ("engines", "graph", "nexus", "subgraphs")


def layer_of(module: str) -> int | None:
    """The layer of a dotted module name; None for the standard library and third parties."""
    parts = module.split(".")
    match parts:
        case ["nexus", "assembly", *_]:
            return ASSEMBLY
        case ["nexus" | "graph", *_]:
            return RUNTIME
        case ["engines", *_]:
            return ENGINES
        case ["subgraphs", *_]:
            return SUBGRAPHS
    return None


class Violation(NamedTuple):
    path: str
    line: int
    imported: str
    importer_layer: int
    imported_layer: int

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {LAYER_NAMES[self.importer_layer]} imports "
            f"{self.imported} ({LAYER_NAMES[self.imported_layer]}, a higher layer)"
        )


def _dynamic_target(call: ast.Call) -> str | None:
    """The module named by `importlib.import_module("...")` / `import_module(f"...{x}")`."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    argument = call.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.JoinedStr) and argument.values:
        head = argument.values[0]  # f"subgraphs.{name}": the literal prefix says the package
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value.rstrip(".")
    return None


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in `source`, the source of module `module`."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from nexus import assembly` imports nexus.assembly: judge base.name.
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and (target := _dynamic_target(node)):
            found.append((node.lineno, target))
    return sorted(found)


def violations(source: str, module: str, path: str, *, is_package: bool = False) -> list[Violation]:
    importer = layer_of(module)
    assert importer is not None, f"{module} is in no layer"
    found = []
    for line, imported in imports_of(source, module, is_package=is_package):
        target = layer_of(imported)
        if target is not None and target > importer:
            found.append(Violation(path, line, imported, importer, target))
    return found


def project_modules() -> list[tuple[Path, str, bool]]:
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules.append((path, ".".join(parts), is_package))
    return modules


def test_no_module_imports_a_higher_layer() -> None:
    modules = project_modules()
    layers = {layer_of(module) for _, module, _ in modules}
    assert layers == {ENGINES, RUNTIME, SUBGRAPHS, ASSEMBLY}  # every layer was read
    found = [
        violation
        for path, module, is_package in modules
        for violation in violations(
            path.read_text(), module, str(path.relative_to(ROOT)), is_package=is_package
        )
    ]
    assert not found, "imports against the layers:\n" + "\n".join(map(str, found))


def _check(source: str, module: str, *, is_package: bool = False) -> list[str]:
    found = violations(textwrap.dedent(source), module, "synthetic.py", is_package=is_package)
    return [violation.imported for violation in found]


def test_the_runtime_importing_a_subgraph_is_a_violation() -> None:
    assert _check("from subgraphs.macro.ddl import statements\n", "nexus.stores.bus") == [
        "subgraphs.macro.ddl.statements"
    ]
    assert _check("import subgraphs.platform.billing\n", "graph.edge.usage") == [
        "subgraphs.platform.billing"
    ]


def test_the_runtime_importing_the_assembly_is_a_violation() -> None:
    assert _check("from nexus import assembly\n", "nexus.config") == ["nexus.assembly"]
    assert _check("from nexus.assembly.registry import load_subgraph\n", "graph.router") == [
        "nexus.assembly.registry.load_subgraph"
    ]


def test_relative_and_type_checking_imports_are_read() -> None:
    relative = "from ..assembly import app\n"
    assert _check(relative, "nexus.auth.keys") == ["nexus.assembly.app"]
    assert _check("from . import registry\n", "nexus.assembly", is_package=True) == []
    guarded = """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from subgraphs.micro.records import PostRecord
    """
    assert _check(guarded, "nexus.events") == ["subgraphs.micro.records.PostRecord"]


def test_import_module_with_a_literal_name_is_read() -> None:
    source = """
        import importlib
        def load(name):
            return importlib.import_module(f"subgraphs.{name}").subgraph
        def assembly():
            return importlib.import_module("nexus.assembly.app")
    """
    assert _check(source, "nexus.subgraph") == ["subgraphs", "nexus.assembly.app"]


def test_engines_import_nothing_of_the_project_above_them() -> None:
    assert _check("from nexus.errors import BadInput\n", "engines.rates") == [
        "nexus.errors.BadInput"
    ]
    assert _check("import graph.router\n", "engines.text") == ["graph.router"]


def test_subgraphs_must_not_import_the_assembly() -> None:
    assert _check("from nexus.assembly.demo import load_demo\n", "subgraphs.macro.demo") == [
        "nexus.assembly.demo.load_demo"
    ]


def test_downward_and_third_party_imports_are_allowed() -> None:
    source = """
        import jax.numpy as jnp
        import graphql
        from engines.rates import discount_factors
        from nexus.errors import BadInput
        from graph.router import Router
        from subgraphs.macro import subgraph
    """
    assert _check(source, "nexus.assembly.app") == []
    assert _check(source.replace("from subgraphs.macro import subgraph", ""), "subgraphs.x") == []
