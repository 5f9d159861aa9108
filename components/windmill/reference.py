"""The README's Windmill resource tables, rendered from the resource declarations.

``python -m components.windmill.reference`` prints the tables; ``--write`` puts them into README.md
between the markers below, and tests/unit/test_resource_reference.py fails while the README differs
from the declarations, so the tables cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .default_admin import DEFAULT_ADMIN
from .edition_limits import EDITION_LIMITS
from .first_boot import FIRST_BOOT
from .folders import FOLDER
from .groups import GROUP
from .instance_groups import INSTANCE_GROUP
from .instance_settings import INSTANCE_SETTING
from .instance_users import INSTANCE_USER
from .members import MEMBER
from .readiness import READINESS_GATE
from .resource_types import RESOURCE_TYPE
from .resources import RESOURCE
from .schedules import SCHEDULE
from .schema import CONNECTION_INPUTS, KIND_KEY, Declaration, Field
from .scripts import SCRIPT
from .tokens import TOKEN
from .variables import VARIABLE
from .worker_group_configs import WORKER_GROUP_CONFIG
from .workspace_settings import WORKSPACE_SETTINGS
from .workspaces import WORKSPACE

DECLARATIONS: tuple[Declaration, ...] = (
    WORKSPACE, FOLDER, GROUP, MEMBER, VARIABLE, RESOURCE, RESOURCE_TYPE, TOKEN, READINESS_GATE,
    SCHEDULE, SCRIPT, WORKSPACE_SETTINGS,
    FIRST_BOOT, DEFAULT_ADMIN, INSTANCE_USER, INSTANCE_GROUP, INSTANCE_SETTING, WORKER_GROUP_CONFIG, EDITION_LIMITS,
)
README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN = (
    "<!-- BEGIN windmill-resources: generated from the declarations in components/windmill/ by "
    "`python -m components.windmill.reference --write`; do not edit by hand -->"
)
END = "<!-- END windmill-resources -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default(spec: Field) -> str:
    if spec.required:
        return "required"
    value: Any = spec.default
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{json.dumps(value)}`"


def _names(fields: Iterable[Field]) -> str:
    return ", ".join(f"`{f.name}`" for f in fields) or "nothing"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def summary_table() -> list[str]:
    lines = [
        _row(["resource", f"`{KIND_KEY}`", "replaces on a change of", "outputs"]),
        "|---|---|---|---|",
    ]
    for declaration in DECLARATIONS:
        identity = [f for f in declaration.inputs if f.replace_on_change]
        lines.append(_row([
            f"`{declaration.type_name}`", f"`{declaration.kind}`", _names(identity),
            _names(declaration.outputs) if declaration.outputs else "",
        ]))
    return lines


def field_table(fields: Iterable[Field], outputs: Iterable[Field] = ()) -> list[str]:
    lines = [_row(["field", "type", "default", "secret", "on change", "description"]), "|---|---|---|---|---|---|"]
    for spec in fields:
        change = "replaces" if spec.replace_on_change else "in place"
        secret = "yes" if spec.secret else "no"
        lines.append(_row([f"`{spec.name}`", spec.type_label, _default(spec), secret, change, _cell(spec.description)]))
    for spec in outputs:
        secret = "yes" if spec.secret else "no"
        lines.append(_row([f"`{spec.name}`", spec.type_label, "", secret, "output", _cell(spec.description)]))
    return lines


def render() -> str:
    """The generated block, markers included."""
    lines = [BEGIN, "", *summary_table(), ""]
    lines += [
        f"Every resource also has the input and output `{KIND_KEY}`, a constant naming what it is (the "
        "second column): every dynamic resource is served by the same `pulumi-python` provider, so "
        "policies and queries read this. Every resource but `ReadinessGate` takes the connection inputs:",
        "",
        *field_table(CONNECTION_INPUTS),
    ]
    for declaration in DECLARATIONS:
        lines += ["", f"#### `{declaration.type_name}`", "", declaration.summary, ""]
        lines += field_table(declaration.inputs, declaration.outputs)
    lines += ["", END]
    return "\n".join(lines)


def readme_block(text: str) -> str:
    """The generated block as it stands in ``text`` (README.md), markers included."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def write(path: Path = README) -> bool:
    """Replace the block in ``path``; True when it changed."""
    text = path.read_text()
    updated = text.replace(readme_block(text), render())
    if updated != text:
        path.write_text(updated)
    return updated != text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the block in README.md")
    if parser.parse_args().write:
        print("README.md updated" if write() else "README.md already up to date")
    else:
        print(render())


if __name__ == "__main__":
    main()
