"""What ``python -m homeops import`` tells the operator: what was written, the secrets the stack
needs (names and commands, never values), what was not imported and why, and what to run next."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .convert import Conversion
from .live import LiveWorkspace
from .stack_secrets import SecretStatus, config_command

if TYPE_CHECKING:
    from .importer import ImportOptions

KINDS = (("folders", "folder"), ("members", "member"), ("groups", "group"), ("resourceTypes", "resource type"),
         ("variables", "variable"), ("resources", "resource"), ("schedules", "schedule"))
STATES = {"set": "already in the stack config", "copied": "copied from Windmill into the encrypted stack config",
          "missing": "not set yet", "empty": "empty in Windmill: a stack refuses empty secrets, set a value"}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report(
    out: Callable[[str], None], options: ImportOptions, live: LiveWorkspace, conversion: Conversion,
    secrets: list[SecretStatus], written: Path, unchanged: bool,
) -> None:
    counts = ", ".join(_plural(conversion.count(key), noun) for key, noun in KINDS if conversion.count(key))
    settings = conversion.section.get("settings")
    if settings:
        counts += f", settings ({', '.join(settings)})"
    verb = "Would write" if options.dry_run else ("Unchanged" if unchanged else "Wrote")
    out(f"{verb}: {written} <- workspace {live.id} of {options.url}")
    out(f"  {counts or 'an empty workspace'}; adopt: true (the next pulumi up takes each object over)")
    _secrets(out, options, secrets)
    _skipped(out, conversion)
    out("Next:")
    out(f"  pulumi preview --stack {options.stack} --diff   # creates only, each with adopt: true; no replacement")
    out(f"  pulumi up --stack {options.stack}              # takes everything over; writes only what differs")


def _secrets(out: Callable[[str], None], options: ImportOptions, secrets: list[SecretStatus]) -> None:
    if not secrets:
        out("Secrets: none needed.")
        return
    out(f"Secrets the stack needs ({len(secrets)}; values are never written to a file or shown):")
    width = max(len(s.need.name) for s in secrets)
    for status in secrets:
        out(f"  secrets.{status.need.name:<{width}}  {status.need.path}: {STATES[status.state]}")
        if status.state in ("missing", "empty"):
            out(f"    {config_command(options.stack, status.need.name)}")
    if any(s.state == "missing" for s in secrets) and not options.copy_secrets:
        out("  or run the import again with --copy-secrets to copy them from Windmill into the stack's "
            "encrypted config (the stack must exist: pulumi stack init).")


def _skipped(out: Callable[[str], None], conversion: Conversion) -> None:
    if conversion.skipped:
        out(f"Not imported ({len(conversion.skipped)}; they stay in Windmill as they are and no stack changes them):")
        width = max(len(s.kind) for s in conversion.skipped)
        for item in sorted(conversion.skipped, key=lambda s: (s.kind, s.name)):
            out(f"  {item.kind:<{width}}  {item.name}: {item.reason}")
    for note in conversion.notes:
        out(f"Note: {note}")
    out("Note: API tokens are not imported: Windmill shows a token's value only once; the stack mints its own.")
