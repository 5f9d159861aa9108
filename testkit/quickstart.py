"""The README's quickstart as data and as steps to run: the blocks marked ``<!-- engine-tier: <stack> -->``
and the table *Secrets each stack needs*.

The real-engine tier and ``python -m testkit.trial`` run exactly these lines, so the README cannot
drift from what is tested. Placeholders become values the caller knows: the instance's URL and, for
``python -m homeops secrets``, each secret through the environment variable the README's table
names for it (the instance's admin token for ``windmillToken``, one generated value per other
secret, never a real credential).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from testkit.engine import PulumiProject, Result

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"<!-- engine-tier: (\w+) -->\n```bash\n(.*?)```", re.S)
PLACEHOLDER_URL = "https://windmill.example.com"
HOMEOPS = (".venv/bin/python", "-m", "homeops")
TABLE = re.compile(r"^### Secrets each stack needs\n(.*?)^#", re.S | re.M)
ROW = re.compile(r"^\| ([^|`]+?) \| `(HOMEOPS_[A-Z0-9_]+)` \| `pulumi config set --stack (\S+) --secret "
                 r"(?:--path 'secrets\.(\w+)'|(\w+))` \| (.*) \|$", re.M)


def quickstart_lines(stack: str) -> list[str]:
    """The command lines of the README block for ``stack``, comments stripped."""
    blocks = dict(BLOCK.findall(README.read_text()))
    assert stack in blocks, f"README.md has no <!-- engine-tier: {stack} --> block"
    lines = [line.split("  #", 1)[0].strip() for line in blocks[stack].splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert all(line.startswith(("pulumi ", " ".join(HOMEOPS) + " ")) for line in lines), lines
    return lines


def secret_value(name: str) -> str:
    """The generated value the tier sets for ``secrets.<name>``: unique, so a leak is found by search."""
    return f"engine-tier-{name.replace('_', '-')}-5f3a9c"


@dataclass(frozen=True)
class SecretRow:
    """One row of the README's secrets table: which stacks, the variable, the key (``secrets.<name>``
    or a key of its own) and what it is."""

    stacks: str
    env: str
    key: str
    what: str

    def applies_to(self, stack: str) -> bool:
        return self.stacks == stack or self.stacks.startswith("both")


def secrets_table() -> list[SecretRow]:
    """The rows of *Secrets each stack needs* that name one secret (the generic ``<name>`` row is left out)."""
    table = TABLE.search(README.read_text())
    assert table, "README.md has no '### Secrets each stack needs' section"
    return [SecretRow(stacks, env, f"secrets.{entry}" if entry else own, what)
            for stacks, env, _stack, entry, own, what in ROW.findall(table.group(1))]


def quickstart_secret_env(stack: str, *, token: str) -> dict[str, str]:
    """Each variable the README's table names for ``stack``, with its value: ``token`` for windmillToken,
    ``secret_value`` of the name for every other secret."""
    return {row.env: token if row.key == "windmillToken" else secret_value(row.key.removeprefix("secrets."))
            for row in secrets_table() if row.applies_to(stack)}


def quickstart_secret_names(stack: str) -> list[str]:
    """The names of the ``secrets`` entries the README's table lists for ``stack``."""
    return [row.key.removeprefix("secrets.") for row in secrets_table()
            if row.stacks == stack and row.key.startswith("secrets.")]


@dataclass(frozen=True)
class Step:
    """One line of a quickstart block: a ``pulumi`` command (``args`` after ``pulumi``) or a
    ``python -m homeops`` command (``args`` after ``homeops``); ``line`` is the README's text with the
    URL filled in (and ``--yes`` added to ``up``)."""

    program: str
    args: tuple[str, ...]
    text: str = ""

    @property
    def name(self) -> str:
        """``stack``, ``config``, ``preview``, ``up`` … or the homeops command (``secrets``)."""
        return self.args[0]

    @property
    def line(self) -> str:
        prefix = "pulumi" if self.program == "pulumi" else " ".join(HOMEOPS)
        return self.text or f"{prefix} {shlex.join(self.args)}"


def quickstart_steps(stack: str, *, url: str) -> list[Step]:
    """The block's lines as steps, the instance URL filled in; ``up`` gets ``--yes``.

    ``pulumi up`` asks for confirmation on a terminal; the tier has none, so it answers ``--yes``
    as an operator would at the prompt. Nothing else is added.
    """
    steps = []
    for line in quickstart_lines(stack):
        text = line.replace(PLACEHOLDER_URL, url)
        words = shlex.split(text)
        if words[0] == "pulumi":
            up = words[1] == "up"
            steps.append(Step("pulumi", tuple(words[1:] + (["--yes"] if up else [])), text + (" --yes" if up else "")))
        else:
            steps.append(Step("homeops", tuple(words[len(HOMEOPS):]), text))
    return steps


def run_step(project: PulumiProject, step: Step, stack: str, *, token: str, check: bool = True) -> Result:
    """Run one step in the project copy; ``python -m homeops secrets`` gets the table's variables."""
    if step.program == "pulumi":
        return project.pulumi(*step.args, check=check)
    python = str(project.dir / HOMEOPS[0])
    return project.command(python, *HOMEOPS[1:], *step.args, env=quickstart_secret_env(stack, token=token),
                           check=check)


def run_quickstart(project: PulumiProject, stack: str, *, url: str, token: str,
                   starting: Callable[[Step], None] | None = None,
                   finished: Callable[[Step, Result], None] | None = None) -> dict[str, str]:
    """Run the README block for ``stack``; return each command's output by its name (``preview``, ``up`` …).

    ``starting`` and ``finished`` see each step before it runs and with its result (``python -m
    testkit.trial`` prints them as it goes).
    """
    outputs = {}
    for step in quickstart_steps(stack, url=url):
        if starting is not None:
            starting(step)
        result = run_step(project, step, stack, token=token)
        if finished is not None:
            finished(step, result)
        outputs[step.name] = result.output
    return outputs
