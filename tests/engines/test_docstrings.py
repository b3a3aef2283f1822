"""Every public engine function documents formula, example and references; examples run."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import engines

MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(engines.__path__, "engines.")
    if not info.name.split(".")[-1].startswith("_")
]


def public_functions() -> list[tuple[str, object]]:
    found = []
    for module in MODULES:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__ == module.__name__:
                found.append((f"{module.__name__}.{name}", obj))
    return found


@pytest.mark.parametrize(("name", "function"), public_functions())
def test_docstring_has_formula_example_and_references(name: str, function: object) -> None:
    doc = inspect.getdoc(function) or ""
    assert "Example" in doc, name
    assert "References" in doc, name
    assert "Formula" in doc or "=" in doc, name


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert result.failed == 0
