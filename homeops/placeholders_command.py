"""``python -m homeops placeholders --stack financial``: what is left to replace in ``Pulumi.<stack>.yaml``.

Lists every placeholder the program's check finds in the stack's config (components/config/placeholders.py:
the entries of placeholders.yaml and any host name, URL or e-mail address under a domain reserved for
examples), one a line, with the file and line to edit::

    Pulumi.financial.yaml:23: workspace.members[0].email = trader@homeops.example  (the e-mail of …)

Exit status 0 when none is left (``pulumi up`` will not refuse the stack for them), 1 otherwise, 2 when the
stack file cannot be read. It reads the files only: no Pulumi CLI, no passphrase, and secret keys are never
looked at.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from components.config.errors import ConfigError, Problems
from components.config.placeholders import Part, find_placeholders, listed_for, read_list
from components.config.schema import PROJECT
from components.config.workspace_file import workspace_source

PREFIX = f"{PROJECT}:"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``placeholders`` on the ``python -m homeops`` parser."""
    command = commands.add_parser(
        "placeholders", help="list the placeholders left in a stack file (pulumi up refuses them)",
        description=(
            "List each placeholder left in Pulumi.<stack>.yaml (and its workspaceFile) with its line, key and "
            "what to put there: the entries of placeholders.yaml and any host name, URL or e-mail address under "
            "a domain reserved for examples (RFC 2606). Exit status 0 when none is left, 1 otherwise."
        ),
    )
    command.add_argument("--stack", required=True, help="the stack whose file to read, e.g. financial")
    command.add_argument("--project-dir", type=Path, default=Path.cwd(),
                         help="the folder with Pulumi.yaml and the stack files (default: .)")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placeholders`` with parsed arguments; the exit status."""
    project_dir = args.project_dir.resolve()
    stack_file = project_dir / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(f"python -m homeops placeholders: --stack {args.stack}: no {stack_file.name} in {project_dir}",
              file=sys.stderr)
        return 2
    try:
        lines = placeholder_lines(stack_file, args.stack, project_dir)
    except (ConfigError, yaml.YAMLError) as error:
        print(f"python -m homeops placeholders: {error}", file=sys.stderr)
        return 2
    if not lines:
        print(f"{stack_file.name}: no placeholders left")
        return 0
    print("\n".join(lines))
    print(f"{len(lines)} placeholder(s): replace each (pulumi config set --stack {args.stack} --path '<key>' "
          "<value>, or edit the line); pulumi up refuses the stack until then", file=sys.stderr)
    return 1


def placeholder_lines(stack_file: Path, stack: str, project_dir: Path) -> list[str]:
    """``<file>:<line>: <key> = <value>  (<what to put>)`` for each placeholder of the stack, in file order."""
    text = stack_file.read_text(encoding="utf-8")
    document = yaml.safe_load(text) or {}
    config = {name.removeprefix(PREFIX): value for name, value in (document.get("config") or {}).items()
              if isinstance(name, str) and name.startswith(PREFIX)}
    problems = Problems()
    source = workspace_source(config.get("workspace"), config.get("workspaceFile"), problems, project_dir)
    problems.raise_if_any()
    found = find_placeholders(config, listed_for(stack, read_list()), source)
    roots = {None: _config_root(yaml.compose(text))}
    if source is not None and source.file is not None:
        roots[source.key] = yaml.compose(source.file.read_text(encoding="utf-8"))
    lines = []
    for placeholder in found:
        name = placeholder.file or stack_file.name
        line = line_of(roots[placeholder.file], placeholder.parts)
        lines.append(f"{name}:{line}: {placeholder.path} = {placeholder.shown}  ({placeholder.what})")
    return lines


def _config_root(document: yaml.Node | None) -> yaml.Node | None:
    """The stack file's ``config:`` mapping with the project prefix taken off its keys' names."""
    config = _child(document, "config")
    if not isinstance(config, yaml.MappingNode):
        return None
    pairs = [(yaml.ScalarNode(k.tag, str(k.value).removeprefix(PREFIX), k.start_mark, k.end_mark), v)
             for k, v in config.value if isinstance(k, yaml.ScalarNode)]
    return yaml.MappingNode(config.tag, pairs, config.start_mark, config.end_mark)


def line_of(root: yaml.Node | None, parts: Sequence[Part]) -> int | None:
    """The 1-based line of the value at ``parts`` under ``root``, or None when the path is not there."""
    node = root
    for part in parts:
        node = _child(node, part)
    return node.start_mark.line + 1 if node is not None else None


def _child(node: Any, part: Part) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None

