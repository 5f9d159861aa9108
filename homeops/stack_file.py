"""Where an import writes: the stack file's ``homeops-windmill:workspace`` block, or the stack's
``workspaceFile``, in the project's YAML style, leaving everything else of the file as it was.

Only the block under the workspace key is replaced, found by its indentation, so the rest of
``Pulumi.<stack>.yaml`` (other keys, their comments, ``secure:`` values, the encryption salt) keeps
its bytes; comments inside the workspace block itself are replaced along with it. The YAML is
block style with indented lists, keys in a fixed order and no line folding, so the same workspace
always renders to the same text and a change reads as a small diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config.schema import PROJECT

WORKSPACE_KEY = f"{PROJECT}:workspace"
FILE_KEY = f"{PROJECT}:workspaceFile"
HEADER = "# Written by `python -m homeops import` from the live workspace; run it again to refresh."


class _Dumper(yaml.SafeDumper):
    """The project's style: lists indented under their key, multi-line text as a literal block."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render(data: Any) -> str:
    """YAML text of ``data`` in the project's style (stable for equal data)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1_000_000, indent=2)


@dataclass
class StackFile:
    """``Pulumi.<stack>.yaml`` of a project folder, as text and as parsed config."""

    path: Path
    text: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.text)

    @classmethod
    def load(cls, project_dir: Path, stack: str) -> StackFile:
        path = project_dir / f"Pulumi.{stack}.yaml"
        if not path.exists():
            return cls(path)
        text = path.read_text()
        parsed = yaml.safe_load(text) or {}
        return cls(path, text, dict(parsed.get("config") or {}))

    def value(self, key: str) -> Any:
        """A config value by its key without the project prefix (``workspace``, ``secrets`` …)."""
        return self.config.get(f"{PROJECT}:{key}")

    @property
    def workspace_file(self) -> Path | None:
        """The stack's ``workspaceFile``, resolved in the project folder, when it sets one."""
        relative = self.value("workspaceFile")
        return self.path.parent / relative if isinstance(relative, str) and relative else None

    def previous_section(self) -> dict[str, Any]:
        """The workspace section the stack has now (inline or in its file), or {}."""
        file = self.workspace_file
        if file is not None:
            return dict(yaml.safe_load(file.read_text()) or {}) if file.exists() else {}
        section = self.value("workspace")
        return dict(section) if isinstance(section, dict) else {}


def workspace_file_text(section: dict[str, Any]) -> str:
    """The whole text of a ``workspaceFile``."""
    note = "# Secret values are in the stack config (secrets.<name>), never in this file."
    return f"{HEADER}\n{note}\n" + render(section)


def with_workspace_block(text: str, section: dict[str, Any]) -> str:
    """``text`` (a stack file) with its workspace key's block replaced by ``section``; the key is
    appended to ``config:`` when the file has none."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    config_at = next((i for i, line in enumerate(lines) if re.match(r"config:\s*(#.*)?$", line)), None)
    if config_at is None:
        lines += ["config:\n"]
        config_at = len(lines) - 1
    indent = _child_indent(lines, config_at)
    block = _block(section, indent)
    key_re = re.compile(rf"^{re.escape(' ' * indent)}{re.escape(WORKSPACE_KEY)}:(\s.*)?$")
    start = next((i for i in range(config_at + 1, len(lines)) if key_re.match(lines[i].rstrip("\n"))), None)
    if start is None:
        end = _end_of_block(lines, config_at, 0)
        return "".join(lines[:end] + block + lines[end:])
    end = _end_of_block(lines, start, indent)
    return "".join(lines[:start] + block + lines[end:])


def _block(section: dict[str, Any], indent: int) -> list[str]:
    pad = " " * (indent + 2)
    body = [pad + line if line else line for line in render(section).splitlines()]
    return [f"{' ' * indent}{WORKSPACE_KEY}:\n", f"{pad}{HEADER}\n", *(line + "\n" for line in body)]


def _child_indent(lines: list[str], config_at: int) -> int:
    """The indentation of the keys under ``config:`` (2 when it has none yet)."""
    for line in lines[config_at + 1:]:
        if line.strip() and not line.lstrip().startswith("#"):
            width = len(line) - len(line.lstrip(" "))
            return width if width > 0 else 2
    return 2


def _end_of_block(lines: list[str], start: int, indent: int) -> int:
    """The index after the block that starts at ``start``: the first later line (a comment too) that is
    indented no deeper than ``indent``, with the blank lines before it left outside."""
    end = len(lines)
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            end = i
            break
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def new_stack_text(stack: str, role: str, domain: str | None, section: dict[str, Any]) -> str:
    """A new ``Pulumi.<stack>.yaml`` holding the imported workspace."""
    head = [
        f"# Stack {stack}: the {section['id']} workspace, imported by `python -m homeops import`.\n",
        "# Secrets are not in this file until you set them (the import lists each command).\n",
        "config:\n",
        f"  {PROJECT}:role: {role}\n",
    ]
    if domain:
        head.append(f"  {PROJECT}:domain: {domain}\n")
    return with_workspace_block("".join(head), section)
