"""``workspaceFile``: a stack's workspace contents in a YAML file of their own.

Why: a stack that declares thousands of Windmill objects cannot keep them in ``Pulumi.<stack>.yaml``.
The Python language host hands the whole stack config to the program in one environment variable,
``PULUMI_CONFIG`` (pulumi/pulumi, sdk/python/cmd/pulumi-language-python/main.go), and Linux refuses
any single environment string over 128 KiB (``MAX_ARG_STRLEN``: E2BIG, "argument list too long"); a
workspace written inline passes that at about 370 variables plus resources. Reviewers also read a
workspace's changes more easily in a file of its own.

What: ``homeops-windmill:workspaceFile: workspaces/financial.yaml`` names a YAML file, relative to
the project folder (where ``Pulumi.yaml`` is), that holds exactly what the ``workspace`` key would
hold. The same parser checks it, and its problems are named by file and field::

    workspaces/financial.yaml: variables[3].path: must be under one of this workspace's folders …

Rules: a stack sets ``workspace`` or ``workspaceFile``, never both; the file lies inside the project
folder (no absolute path, no ``..`` or symbolic link out of it, so a stack cannot read files it does
not ship with); it is one YAML mapping in which no key appears twice (YAML would silently keep the
last one). Secret values stay in the encrypted stack config: a variable's ``secret`` names an entry of
``homeops-windmill:secrets``, as inline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, Problems
from .schema import key as config_key
from .values import Section

FILE_KEY = config_key("workspaceFile")
INLINE_KEY = config_key("workspace")
# libyaml's parser when PyYAML was built with it: about ten times faster on a file of thousands of objects.
_BASE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FileSection(Section):
    """The root of a workspace file: its fields are named ``<file>: <field>``, not ``<key>.<field>``."""

    def key(self, name: str) -> str:
        return f"{self.path}: {name}"


@dataclass(frozen=True)
class WorkspaceSource:
    """Where a stack's workspace contents come from: the raw mapping, the name its problems carry
    (``homeops-windmill:workspace`` or the file as written) and the Section type that names them."""

    data: Any
    key: str
    section: Callable[[Any, str], Section] = Section
    file: Path | None = None

    def field_key(self, name: str) -> str:
        """The name of one top-level field in messages, e.g. ``workspaces/media.yaml: id``."""
        return self.section({}, self.key).key(name)


def workspace_source(
    inline: Any, file_value: Any, problems: Problems, project_dir: Path | None = None
) -> WorkspaceSource | None:
    """The stack's workspace contents: inline, or read from ``workspaceFile``.

    ``project_dir`` defaults to the working directory, which Pulumi sets to the project folder when
    it runs the program. Returns None after recording a problem (the file cannot be read or both
    keys are set).
    """
    if not file_value:
        return WorkspaceSource(inline, INLINE_KEY)
    if not isinstance(file_value, str):
        problems.add(FILE_KEY, f"must be a path such as workspaces/<stack>.yaml, got {type(file_value).__name__}")
        return None
    if inline:
        problems.add(
            FILE_KEY,
            f"is set together with {INLINE_KEY}; a stack declares its workspace in one place: keep the file "
            f"and remove the inline value (pulumi config rm workspace), or unset workspaceFile",
        )
        return None
    path = problems.check(lambda: _inside_project(file_value, (project_dir or Path.cwd()).resolve()))
    if path is None:
        return None
    data = problems.check(lambda: _read_mapping(file_value, path))
    if data is None:
        return None
    return WorkspaceSource(data, file_value, FileSection, path)


def _inside_project(written: str, project_dir: Path) -> Path:
    """The file's resolved path; refuses one outside the project folder or that is not a file."""
    if os.path.isabs(written):
        raise ConfigError(
            FILE_KEY, f"must be relative to the project folder (e.g. workspaces/<stack>.yaml), got {written!r}"
        )
    path = (project_dir / written).resolve()
    if not path.is_relative_to(project_dir):
        raise ConfigError(
            FILE_KEY, f"{written!r} leads outside the project folder {project_dir}; keep workspace files in it"
        )
    if not path.exists():
        raise ConfigError(FILE_KEY, f"{written} does not exist in the project folder {project_dir}")
    if not path.is_file():
        raise ConfigError(FILE_KEY, f"{written} is not a file")
    return path


def _read_mapping(written: str, path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except UnicodeDecodeError:
        raise ConfigError(written, "is not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise ConfigError(written, f"is not valid YAML: {_yaml_problem(error)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            written, f"must hold one mapping (id, name, folders, variables, …), got {type(data).__name__}"
        )
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else problem


class _UniqueKeyLoader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """A safe loader that refuses a mapping key written twice instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            name = self.construct_object(key_node, deep=deep)
            try:
                hash(name)
            except TypeError:
                continue  # the base constructor refuses an unhashable key with its own message
            if name in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark,
                    f"key {name!r} appears twice (also on line {seen[name].line + 1})", key_node.start_mark,
                )
            seen[name] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)
