"""One declaration per Windmill resource: the README tables, the Args classes, the resource classes
and the providers all come from it, and none drifts from it."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest

import components.windmill as package
from components.windmill.base import WindmillResource
from components.windmill.readiness import READINESS_GATE, ReadinessGate
from components.windmill.reference import DECLARATIONS, README, readme_block, render
from components.windmill.schema import KIND_KEY, Declaration, DeclaredProvider


def _modules() -> list[object]:
    return [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    for cls in base.__subclasses__():
        found |= {cls, *_subclasses(cls)}
    return found


MODULES = _modules()
PROVIDERS = {cls for cls in _subclasses(DeclaredProvider) if "declaration" in vars(cls)}
RESOURCES = {cls for cls in _subclasses(WindmillResource) if "provider_class" in vars(cls)}


def test_readme_resource_tables_are_generated_from_the_declarations() -> None:
    assert readme_block(README.read_text()) == render(), (
        "README.md's resource tables differ from the declarations: run python -m components.windmill.reference --write"
    )


def test_every_provider_has_a_declaration_listed_in_the_reference_and_kinds_are_unique() -> None:
    assert sorted(p.declaration.kind for p in PROVIDERS) == sorted(d.kind for d in DECLARATIONS)
    assert all(any(p.declaration is d for p in PROVIDERS) for d in DECLARATIONS)
    kinds = [d.kind for d in DECLARATIONS]
    assert len(set(kinds)) == len(kinds)
    assert len({d.type_name for d in DECLARATIONS}) == len(DECLARATIONS)


@pytest.mark.parametrize("resource", sorted(RESOURCES, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_program_side_class_args_and_annotations_follow_the_declaration(resource: type[WindmillResource]) -> None:
    declaration: Declaration = resource.provider_class.declaration
    assert resource.__name__ == declaration.type_name
    assert resource._resource_type_name == f"dynamic/windmill:{declaration.type_name}"
    module = importlib.import_module(resource.__module__)
    args = getattr(module, f"{declaration.type_name}Args")
    assert {f.name for f in dataclasses.fields(args)} == {f.name for f in declaration.inputs}
    required = {f.name for f in dataclasses.fields(args) if f.default is dataclasses.MISSING}
    assert required == {f.name for f in declaration.inputs if f.required}
    names = {f.name for f in (*declaration.inputs, *declaration.outputs)} | {KIND_KEY}
    assert names <= set(resource.__annotations__)


def test_every_declared_resource_has_a_program_side_class() -> None:
    kinds = {r.provider_class.declaration.kind for r in RESOURCES} | {READINESS_GATE.kind}
    assert kinds == {d.kind for d in DECLARATIONS}
    assert ReadinessGate.__annotations__.keys() >= {f.name for f in READINESS_GATE.inputs}
