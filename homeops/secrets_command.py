"""``python -m homeops secrets --stack platform``: set every secret a stack needs, in one command.

Run it from the project folder (or pass ``--project-dir``) after ``pulumi stack init``. It reads
``Pulumi.<stack>.yaml`` (and the stack's ``workspaceFile``), works out which secrets the stack needs
by the program's own rules (``components.config.needed_secrets``), and for each one the file does not
hold yet takes the value from its environment variable (``HOMEOPS_SECRET_<NAME>`` for
``secrets.<name>``, ``HOMEOPS_WINDMILL_TOKEN``, ``HOMEOPS_GITHUB_TOKEN``, ``HOMEOPS_WMILL_SYNC_TOKEN``)
or, in a terminal, asks for it without echo. Each value is stored encrypted by ``pulumi config set
--secret``, given on its standard input. Secrets already set are left alone (``--rotate KEY``
replaces one), so a second run asks nothing and changes nothing. Optional secrets are set when their
variable is given or with ``--include-optional``. ``--list`` shows each secret's state and variable.
Values are never printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from .secret_setup import MISSING, SET, PulumiCli, SecretState, SetupError, StackSecrets

PROG = "python -m homeops secrets"
EMPTY_ATTEMPTS = 3


class StoreFailed(SetupError):
    """The Pulumi CLI refused to store a value (wrong passphrase, a broken stack file …)."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``secrets`` on the ``python -m homeops`` parser."""
    cmd = commands.add_parser(
        "secrets", help="set every secret a stack needs: from HOMEOPS_* environment variables or asked without echo",
        description=(
            "Set the secrets Pulumi.<stack>.yaml needs (workspace variables' secrets, windmillToken, githubToken, "
            "the instance's and runtime's credentials), each encrypted by pulumi config set --secret. A value comes "
            "from its environment variable (HOMEOPS_SECRET_<NAME> for secrets.<name>, HOMEOPS_WINDMILL_TOKEN, "
            "HOMEOPS_GITHUB_TOKEN, HOMEOPS_WMILL_SYNC_TOKEN) or, in a terminal, is asked for without echo. "
            "Secrets already set are kept. Values are never printed."
        ),
    )
    cmd.add_argument("--stack", required=True, help="the stack, e.g. platform (it must exist: pulumi stack init)")
    cmd.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the folder with Pulumi.yaml (default: .)")
    cmd.add_argument("--rotate", action="append", default=[], metavar="KEY",
                     help="replace this secret although it is set (secrets.<name>, <name> or windmillToken …); "
                          "repeat for several")
    cmd.add_argument("--include-optional", action="store_true",
                     help="also ask for optional secrets (wmillSyncToken, windmillToken under first boot …)")
    cmd.add_argument("--list", action="store_true",
                     help="print each secret the stack needs: set, missing or optional, and its variable; no values")
    cmd.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``secrets`` with parsed arguments; the exit status."""
    try:
        return _run(args, os.environ, sys.stdin.isatty())
    except StoreFailed as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    except SetupError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print(f"\n{PROG}: stopped; what was stored stays stored, run it again for the rest", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, env: Mapping[str, str], interactive: bool) -> int:
    stack = StackSecrets.load(args.project_dir.resolve(), args.stack)
    if args.list:
        _print_list(stack)
        return 0
    clashes = stack.env_clashes()
    if clashes:
        raise SetupError("; ".join(clashes))
    rotate = {stack.find(written).need.key for written in args.rotate}
    todo = [s for s in stack.states if _wanted(s, rotate, args.include_optional, env)]
    if not todo:
        print(f"Every secret stack {args.stack} needs is set; nothing to do ({PROG} --stack {args.stack} --list "
              "shows them).")
        return 0
    from_env = {s.need.key: _env_value(s, env) for s in todo if s.env in env}
    unresolved = [s for s in todo if s.need.key not in from_env and not s.need.optional]
    if unresolved and not interactive:
        listed = "\n".join(f"  {s.need.key}: export {s.env}=…" for s in unresolved)
        raise SetupError(f"no terminal to ask in, and no value in the environment for {len(unresolved)} secret(s) "
                         f"of stack {args.stack}; nothing was written:\n{listed}")
    cli = _cli(stack, env, interactive)
    stored = _store_all(stack, cli, todo, from_env, interactive)
    _verify(stack, stored)
    _print_summary(stack, stored)
    return 0


def _wanted(state: SecretState, rotate: set[str], include_optional: bool, env: Mapping[str, str]) -> bool:
    """Whether this run sets the secret: a required one not set, one named by --rotate, an optional one
    asked for with --include-optional or given in its variable."""
    if state.need.key in rotate:
        return True
    if state.state == SET:
        return False
    return not state.need.optional or include_optional or state.env in env


def _env_value(state: SecretState, env: Mapping[str, str]) -> str:
    value = env[state.env]
    if not value:
        raise SetupError(f"{state.env} is set but empty ({state.need.key}); give it the value or unset it")
    return value


def _cli(stack: StackSecrets, env: Mapping[str, str], interactive: bool) -> PulumiCli:
    """The Pulumi CLI on PATH, with the stack's passphrase, once the stack is known to exist."""
    executable = shutil.which("pulumi", path=env.get("PATH"))
    if executable is None:
        raise SetupError("the Pulumi CLI (pulumi) is not on PATH: install it (README: Prerequisites) or build it "
                         "with scripts/install-pulumi-cli and put the folder it prints on PATH")
    child = dict(env)
    has_passphrase = "PULUMI_CONFIG_PASSPHRASE" in env or "PULUMI_CONFIG_PASSPHRASE_FILE" in env
    if stack.encrypted_with_passphrase and not has_passphrase:
        if not interactive:
            raise SetupError(f"stack {stack.stack} encrypts with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or "
                             "PULUMI_CONFIG_PASSPHRASE_FILE); nothing was written")
        child["PULUMI_CONFIG_PASSPHRASE"] = getpass.getpass(
            f"Passphrase of stack {stack.stack} (PULUMI_CONFIG_PASSPHRASE is not set; input hidden): ")
    cli = PulumiCli(executable, stack.project_dir, child)
    if not cli.stack_exists(stack.stack):
        raise SetupError(f"stack {stack.stack} does not exist in this project's backend: run pulumi stack init "
                         f"{stack.stack} --secrets-provider passphrase first; nothing was written")
    return cli


def _store_all(stack: StackSecrets, cli: PulumiCli, todo: list[SecretState], from_env: Mapping[str, str],
               interactive: bool) -> list[tuple[SecretState, str]]:
    """Store each value as soon as it is known, so an interrupted run keeps what it stored; returns what
    was stored and where each value came from (never the value)."""
    stored = []
    for state in todo:
        if state.need.key in from_env:
            value, origin = from_env[state.need.key], f"from {state.env}"
        elif interactive:
            value, origin = _ask(state), "typed"
        else:
            value, origin = None, ""
        if value is None:
            print(f"skipped {state.need.key} (optional; export {state.env}=… or type it to set it)")
            continue
        try:
            cli.set_secret(stack.stack, state.need, value)
        except SetupError as error:
            raise StoreFailed(str(error)) from None
        print(f"stored {state.need.key} ({origin})", flush=True)
        stored.append((state, origin))
    return stored


def _ask(state: SecretState) -> str | None:
    """The value typed at a prompt without echo; None when an optional secret is skipped with Enter."""
    need = state.need
    optional = " (optional: press Enter to skip)" if need.optional else ""
    print(f"{need.key}: {need.description}{optional}", flush=True)
    for _attempt in range(EMPTY_ATTEMPTS):
        value = getpass.getpass(f"  value for {need.name} (input hidden, or export {state.env}): ")
        if value:
            return value
        if need.optional:
            return None
        print(f"  {need.key}: empty; a value is required", flush=True)
    raise SetupError(f"{need.key}: no value given ({EMPTY_ATTEMPTS} empty answers); nothing more was written")


def _verify(stack: StackSecrets, stored: list[tuple[SecretState, str]]) -> None:
    """The stack file now holds a ``secure:`` value for each stored key (the CLI wrote where we read)."""
    again = {s.need.key: s.state for s in StackSecrets.load(stack.project_dir, stack.stack).states}
    absent = [state.need.key for state, _ in stored if again.get(state.need.key) != SET]
    if absent:
        raise StoreFailed(f"pulumi config set succeeded but Pulumi.{stack.stack}.yaml holds no secure value for "
                          f"{', '.join(absent)}; is the stack's config kept elsewhere?")


def _print_summary(stack: StackSecrets, stored: list[tuple[SecretState, str]]) -> None:
    done = {state.need.key for state, _ in stored}
    kept = [s for s in stack.states if s.state == SET and s.need.key not in done]
    open_optional = [s for s in stack.states if s.need.optional and s.state == MISSING and s.need.key not in done]
    print(f"Stack {stack.stack}: {len(stored)} secret(s) stored, {len(kept)} already set and kept.")
    for state in open_optional:
        print(f"  optional, not set: {state.need.key} ({state.env}, or --include-optional)")


def _print_list(stack: StackSecrets) -> None:
    print(f"Secrets stack {stack.stack} needs (Pulumi.{stack.stack}.yaml); values are never shown:")
    if not stack.states:
        print("  none")
    width = max((len(s.need.key) for s in stack.states), default=0)
    label_width = max((len(s.label) for s in stack.states), default=0)
    env_width = max((len(s.env) for s in stack.states), default=0)
    for state in stack.states:
        print(f"  {state.need.key:<{width}}  {state.label:<{label_width}}  {state.env:<{env_width}}  "
              f"{state.need.description}")
