"""What ``python -m homeops secrets`` works with: a stack's needed secrets, their state in the stack file,
the environment variable each is read from, and storing one through the real Pulumi CLI.

The list of secrets is ``components.config.needed_secrets``: the program's own rules, so the command
asks for exactly what a preview would report missing. A value is handed to ``pulumi config set
--secret`` on its standard input, never as an argument (an argument is visible to every user of the
machine in the process list, and ``pulumi.automation``'s ``set_config`` passes it as one); the CLI
reads a value it was not given from standard input when that is not a terminal
(pulumi/pulumi, pkg/cmd/pulumi/config/config.go, ``configSetCmd.Run``) and encrypts it with the
stack's secrets provider. Values are never printed, logged or put in an exception.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.errors import Problems
from components.config.needed_secrets import NeededSecret, needed_secrets
from components.config.schema import key
from components.config.workspace_file import workspace_source

ENV_PREFIX = "HOMEOPS_"
SET, PLAIN, MISSING = "set", "plain", "missing"


def env_name(need: NeededSecret) -> str:
    """The environment variable a secret is read from: ``HOMEOPS_SECRET_<NAME>`` for ``secrets.<name>``
    (the name upper-cased), else ``HOMEOPS_`` and the key in upper snake case (``windmillToken`` ->
    ``HOMEOPS_WINDMILL_TOKEN``, ``wmillSyncToken`` -> ``HOMEOPS_WMILL_SYNC_TOKEN``)."""
    if need.secret_name is not None:
        return f"{ENV_PREFIX}SECRET_{need.secret_name.upper()}"
    return ENV_PREFIX + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", need.name).upper()


@dataclass(frozen=True)
class SecretState:
    """One needed secret and whether the stack file holds it: ``set`` (a ``secure:`` value), ``plain``
    (a value stored without --secret, which the program refuses) or ``missing``."""

    need: NeededSecret
    state: str

    @property
    def env(self) -> str:
        return env_name(self.need)

    @property
    def label(self) -> str:
        """What ``--list`` prints: set, missing, or either with ``(optional)``."""
        word = {SET: "set", PLAIN: "set in plain text (refused)", MISSING: "missing"}[self.state]
        return f"{word} (optional)" if self.need.optional else word


class SetupError(Exception):
    """Why the command cannot go on; the message names the key, file or flag, never a value."""


@dataclass
class StackSecrets:
    """A stack's file in a project folder and the secrets it needs, each with its state."""

    project_dir: Path
    stack: str
    config: dict[str, Any]
    encrypted_with_passphrase: bool
    states: list[SecretState]

    @classmethod
    def load(cls, project_dir: Path, stack: str) -> StackSecrets:
        if not (project_dir / "Pulumi.yaml").exists():
            raise SetupError(f"{project_dir} has no Pulumi.yaml: run it in the project folder or pass --project-dir")
        path = project_dir / f"Pulumi.{stack}.yaml"
        if not path.exists():
            raise SetupError(f"{path.name} does not exist in {project_dir}: write the stack file first "
                             "(README: Adding a domain), then run pulumi stack init")
        document = yaml.safe_load(path.read_text()) or {}
        config = dict(document.get("config") or {})
        needs = needed_secrets(config, _workspace_file(config, project_dir))
        states = [SecretState(need, _state(config, need)) for need in needs]
        passphrase = "encryptionsalt" in document and document.get("secretsprovider") in (None, "passphrase")
        return cls(project_dir, stack, config, passphrase, states)

    def find(self, written: str) -> SecretState:
        """The secret a ``--rotate`` argument names: the full key, the key without the project, or
        the name of a ``secrets`` entry."""
        for state in self.states:
            if written in (state.need.key, state.need.name, state.need.secret_name):
                return state
        known = ", ".join(s.need.name for s in self.states) or "none"
        raise SetupError(f"--rotate {written}: not a secret this stack needs (it needs: {known})")

    def env_clashes(self) -> list[str]:
        """Secrets whose names differ only in case share an environment variable: each clash, named."""
        by_env: dict[str, list[str]] = {}
        for state in self.states:
            by_env.setdefault(state.env, []).append(state.need.name)
        return [f"{' and '.join(names)} share {env}; rename one" for env, names in by_env.items() if len(names) > 1]


def _workspace_file(config: Mapping[str, Any], project_dir: Path) -> Any:
    """The mapping ``workspaceFile`` names, read with the program's own checks; None without one."""
    file_value = config.get(key("workspaceFile"))
    if not file_value:
        return None
    problems = Problems()
    source = workspace_source(None, file_value, problems, project_dir)
    if source is None:
        raise SetupError("; ".join(str(error) for error in problems.errors))
    return source.data


def _state(config: Mapping[str, Any], need: NeededSecret) -> str:
    if need.secret_name is not None:
        entries = config.get(key("secrets"))
        value = entries.get(need.secret_name) if isinstance(entries, Mapping) and "secure" not in entries else None
    else:
        value = config.get(need.key)
    if isinstance(value, Mapping) and "secure" in value:
        return SET
    return MISSING if value in (None, "") else PLAIN


@dataclass(frozen=True)
class PulumiCli:
    """The real ``pulumi`` CLI, run in the project folder with the given environment."""

    executable: str
    project_dir: Path
    env: Mapping[str, str]

    def _run(self, args: list[str], value: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.executable, *args], cwd=self.project_dir, env=dict(self.env), input=value,
                              stdin=None if value is not None else subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=120, check=False)

    def stack_exists(self, stack: str) -> bool:
        done = self._run(["stack", "ls", "--json"])
        if done.returncode != 0:
            raise SetupError(f"pulumi stack ls failed: {done.stderr.strip() or done.stdout.strip()}")
        names = {entry.get("name", "") for entry in json.loads(done.stdout or "[]")}
        return stack in names or stack.rsplit("/", 1)[-1] in {name.rsplit("/", 1)[-1] for name in names}

    def set_secret(self, stack: str, need: NeededSecret, value: str) -> None:
        """``pulumi config set --stack S --secret [--path] KEY`` with ``value`` on standard input."""
        done = self._run(config_set_args(stack, need), value)
        if done.returncode != 0:
            answer = (done.stderr.strip() or done.stdout.strip()).replace(value, "[secret]")
            raise SetupError(f"pulumi config set for {need.key} failed (value not shown): {answer}")


def config_set_args(stack: str, need: NeededSecret) -> list[str]:
    """The arguments that store ``need`` on ``stack``: the key and flags only; the value goes to stdin."""
    return ["config", "set", "--stack", stack, "--secret", *(["--path"] if need.path else []), need.name]
