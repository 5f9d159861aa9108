"""The layers import one way, and only the config layer reads stack config.

``__main__`` loads Settings (``components.config``) and hands each component its Args; the
components declare resources with the Windmill provider package (``components.windmill``), which
knows nothing above it. The config layer declares no resource and imports no component module:
it only shares the provider's naming rules. Checked on the source (imports as written, relative
ones resolved), so a violation fails here before it can create an import cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ROOT / "components"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, relative imports resolved to absolute names."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            else:
                yield node.module or ""


def sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


CONFIG = sources(COMPONENTS / "config")
PROVIDER = sources(COMPONENTS / "windmill")
COMPONENT_MODULES = [p for p in sources(COMPONENTS) if p not in CONFIG and p not in PROVIDER]


@pytest.mark.parametrize("path", PROVIDER, ids=lambda p: module_name(p))
def test_the_provider_package_imports_nothing_above_it(path: Path) -> None:
    above = [m for m in imports(path) if m.startswith("components.") and not m.startswith("components.windmill")]
    assert above == []


@pytest.mark.parametrize("path", CONFIG, ids=lambda p: module_name(p))
def test_config_imports_no_component_and_declares_no_resource(path: Path) -> None:
    for imported in imports(path):
        if imported.startswith("components."):
            assert imported.startswith(("components.config", "components.windmill")), imported
        assert not imported.startswith(("pulumi_docker", "pulumi_github", "pulumi_random")), imported


@pytest.mark.parametrize("path", COMPONENT_MODULES, ids=lambda p: module_name(p))
def test_components_take_args_and_never_read_stack_config(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "Config" and getattr(node.value, "id", "") == "pulumi":
            pytest.fail(f"{module_name(path)} reads pulumi.Config (line {node.lineno}); take Args instead")
        if isinstance(node, ast.ImportFrom) and node.module == "pulumi":
            assert "Config" not in {alias.name for alias in node.names}
    for imported in imports(path):
        assert imported not in ("__main__", "components.config.settings"), imported
        assert not imported.startswith(("tests", "testkit")), imported


def test_only_main_loads_settings() -> None:
    loaders = [
        module_name(p) for p in sources(COMPONENTS) if "load_settings(" in p.read_text() and p not in CONFIG
    ]
    assert loaders == []
    assert "load_settings()" in (ROOT / "__main__.py").read_text()
