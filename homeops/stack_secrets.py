"""The secrets an imported stack needs: which are set, the command for each, and copying values.

A secret variable's value is never written to a file or printed. Each one becomes an entry of the
stack's ``secrets`` config, set either by the operator (the exact ``pulumi config set`` command is
printed) or, with ``--copy-secrets``, copied from Windmill into the stack's *encrypted* config
by the Pulumi CLI (``pulumi config set --secret`` with the value on its standard input: the CLI
encrypts it with the stack's secrets provider). Only secrets the stack does not hold yet are copied,
so a second import changes nothing; to replace one, run its command.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from components.config.needed_secrets import NeededSecret
from components.config.schema import PROJECT

from .convert import SecretNeed
from .secret_setup import PulumiCli, SetupError


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
    """Copy every ``missing`` secret from Windmill into the stack's encrypted config.

    Each value goes to ``pulumi config set --secret --path`` on its standard input, as
    ``python -m homeops secrets`` stores them (``secret_setup.PulumiCli``): given as an argument, as
    ``pulumi.automation``'s ``set_config`` does, it would be readable in the process list.
    """
    cli = _pulumi_cli(project_dir)
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
            cli.set_secret(stack, NeededSecret(key=f"{PROJECT}:secrets.{status.need.name}", description=""), value)
        except SetupError as error:  # its message never holds the value
            raise CopyFailed(str(error)) from None
        result.append(SecretStatus(status.need, "copied"))
    return result


def _pulumi_cli(project_dir: Path) -> PulumiCli:
    executable = shutil.which("pulumi")
    if executable is None:
        raise CopyFailed("the Pulumi CLI (pulumi) is not on PATH; nothing was copied")
    return PulumiCli(executable, project_dir, dict(os.environ))
