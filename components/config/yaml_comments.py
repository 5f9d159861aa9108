"""Values YAML cut short at a ``#``: ``description: Alerts to #trading-alerts`` is ``Alerts to``.

In YAML a ``#`` after a space starts a comment, also in the middle of an unquoted value, so the rest
of the line silently disappears (the committed stack files lost four descriptions that way). Pulumi
hands the program the parsed value only, so the program reads the stack file itself and warns about
every plain value followed on its line by ``#`` and a non-space character, the shape of a channel,
an issue number or a colour, not of a comment (``# a comment`` has a space and is left alone).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

_CUT = re.compile(r"[ \t]+#\S")
# libyaml's scanner when PyYAML has it: the same tokens and marks, about 4x faster on a 2,000-object workspace file
# (0.07 s instead of 0.28 s), and the program scans the stack file and the workspace file on every run.
_SCANNER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def cut_values(text: str, file_name: str) -> list[str]:
    """One warning per plain scalar of ``text`` whose line goes on with `` #word``; [] if it is not YAML."""
    lines = text.splitlines()
    warnings = []
    try:
        tokens = list(yaml.scan(text, Loader=_SCANNER))
    except yaml.YAMLError:
        return []  # the program's own parsing reports broken YAML with its key
    for token in tokens:
        if not isinstance(token, yaml.ScalarToken) or not token.plain:
            continue
        end = token.end_mark
        rest = lines[end.line][end.column:] if end.line < len(lines) else ""
        if _CUT.match(rest):
            warnings.append(
                f"{file_name}:{end.line + 1}: the value {token.value!r} ends where '{rest.strip()}' begins: "
                f"YAML reads ' #' as the start of a comment; quote the whole value to keep it "
                f"(\"{token.value}{rest.rstrip()}\")"
            )
    return warnings


def cut_values_in_file(path: Path, file_name: str) -> list[str]:
    """``cut_values`` of a file that may not exist (a stack without its own file has nothing to cut)."""
    try:
        return cut_values(path.read_text(encoding="utf-8"), file_name)
    except (OSError, UnicodeDecodeError):
        return []
