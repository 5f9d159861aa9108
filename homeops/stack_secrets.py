"""The secrets an imported stack needs: which are set, the command for each, and copying values.

A secret variable's value is never written to a file or printed. Each one becomes an entry of the
stack's ``secrets`` config, set either by the operator (the exact ``pulumi config set`` command is
printed) or, with ``--copy-secrets``, copied from Windmill into the stack's *encrypted* config
through the Pulumi Automation API (``LocalWorkspace.set_config`` with ``secret=True``: the CLI
encrypts it with the stack's secrets provider). Only secrets the stack does not hold yet are copied,
so a second import changes nothing; to replace one, run its command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .convert import SecretNeed


@dataclass(frozen=True)
class SecretStatus:
    """One needed secret and what happened to it: ``set`` (already in the stack config), ``copied``,
    ``empty`` (Windmill holds an empty value, which a stack refuses) or ``missing``."""

    need: SecretNeed
    state: str


def config_command(stack: str, name: str) -> str:
    """The exact command that sets ``secrets.<name>`` on ``stack`` (the value typed last)."""
    return f"pulumi config set --stack {stack} --secret --path 'secrets.{name}' <value>"


def statuses(needs: Iterable[SecretNeed], already_set: set[str]) -> list[SecretStatus]:
    return [SecretStatus(need, "set" if need.name in already_set else "missing") for need in needs]


class CopyFailed(Exception):
    """The CLI refused to store a secret (the stack does not exist, a wrong passphrase …)."""


def copy_missing(
    project_dir: Path, stack: str, current: list[SecretStatus], read_value: Callable[[str], str]
) -> list[SecretStatus]:
    """Copy every ``missing`` secret from Windmill into the stack's encrypted config."""
    from pulumi.automation import ConfigValue, LocalWorkspace
    from pulumi.automation.errors import CommandError

    workspace = LocalWorkspace(work_dir=str(project_dir))
    result = []
    for status in current:
        if status.state != "missing":
            result.append(status)
            continue
        value = read_value(status.need.path)
        if not value:
            result.append(SecretStatus(status.need, "empty"))
            continue
        try:
            workspace.set_config(stack, f"secrets.{status.need.name}", ConfigValue(value=value, secret=True),
                                 path=True)
        except CommandError as error:
            # The CLI's answer, without the value should it ever echo it.
            message = str(error).replace(value, "[secret]")
            raise CopyFailed(f"pulumi config set for secrets.{status.need.name} failed: {message}") from None
        result.append(SecretStatus(status.need, "copied"))
    return result
