"""The README's quickstart as data: the command blocks marked ``<!-- engine-tier: <stack> -->``.

The real-engine tier runs exactly these lines, so the README cannot drift from what is tested.
Placeholders become values the test knows: the emulator's URL and admin token, and one generated
value per secret (never a real credential).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"<!-- engine-tier: (\w+) -->\n```bash\n(.*?)```", re.S)
PLACEHOLDER_URL = "https://windmill.example.com"
PLACEHOLDER_TOKEN = "<superadmin API token>"


def quickstart_lines(stack: str) -> list[str]:
    """The ``pulumi`` lines of the README block for ``stack``, comments stripped."""
    blocks = dict(BLOCK.findall(README.read_text()))
    assert stack in blocks, f"README.md has no <!-- engine-tier: {stack} --> block"
    lines = [line.split("  #", 1)[0].strip() for line in blocks[stack].splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert all(line.startswith("pulumi ") for line in lines), lines
    return lines


def secret_value(name: str) -> str:
    """The generated value the tier sets for ``secrets.<name>``: unique, so a leak is found by search."""
    return f"engine-tier-{name.replace('_', '-')}-5f3a9c"


def quickstart_commands(stack: str, *, url: str, token: str) -> list[list[str]]:
    """The block's commands as argument lists, placeholders filled in; ``up`` gets ``--yes``.

    ``pulumi up`` asks for confirmation on a terminal; the tier has none, so it answers ``--yes``
    as an operator would at the prompt. Nothing else is added.
    """
    commands = []
    for line in quickstart_lines(stack):
        line = line.replace(PLACEHOLDER_TOKEN, "TOKEN_PLACEHOLDER").replace(PLACEHOLDER_URL, url)
        args = shlex.split(line)[1:]
        if "TOKEN_PLACEHOLDER" in args:
            args[args.index("TOKEN_PLACEHOLDER")] = token
        if args[-1] in ("<value>", "<url>", "<token>"):
            path = args[args.index("--path") + 1]
            args[-1] = secret_value(path.removeprefix("secrets."))
        if args[0] == "up":
            args.append("--yes")
        commands.append(args)
    return commands
