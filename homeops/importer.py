"""``python -m homeops import``: bring a live Windmill workspace under a stack's management.

1. Refuse what cannot be imported (``admins``, an archived workspace, a token that is not a
   workspace admin's or a superadmin's), then read everything the workspace holds.
2. Convert it to the stack config's ``workspace`` section (``convert.py``), keeping the secret
   names and deletion mode the stack already uses and leaving out the variables another part of
   the project manages (platformLink tokens), and check the result with the program's own parser.
3. Write it where the stack keeps its workspace (``workspaceFile`` or the inline block), touching
   nothing else; ``--dry-run`` prints the diff instead.
4. Name every secret the stack needs with its ``pulumi config set`` command, or copy the missing
   ones into the stack's encrypted config (``--copy-secrets``); list what was not imported.

The section sets ``adopt: true``, so the stack's next ``pulumi up`` takes every object over
without creating or rewriting any whose content matches (``components/windmill/base.py``).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from components.config.errors import ConfigError, ConfigErrors
from components.config.schema import DOMAIN_PATTERN, PLATFORM_WORKSPACE
from components.config.workspace import WindmillWorkspaceArgs
from components.windmill.client import ConnectionSettings, WindmillClient
from components.windmill.rules import validate_instance_url

from .convert import Conversion, Previous, convert
from .live import ImportRefused, check_access, read_workspace, secret_value
from .report import report
from .stack_file import StackFile, new_stack_text, with_workspace_block, workspace_file_text
from .stack_secrets import copy_missing, statuses

Print = Callable[[str], None]


@dataclass(frozen=True)
class ImportOptions:
    """What the operator asked for (the token is passed separately and never stored here)."""

    url: str
    workspace: str
    stack: str
    project_dir: Path
    copy_secrets: bool = False
    dry_run: bool = False
    allow_insecure_http: bool = False


def run_import(options: ImportOptions, token: str, out: Print = print) -> int:
    """Import; returns the exit code (0 done, 2 refused). API failures raise WindmillError."""
    problem = validate_instance_url(options.url)
    if problem:
        raise ImportRefused(f"--url {problem}")
    if urlsplit(options.url).scheme == "http" and not _loopback(options.url) and not options.allow_insecure_http:
        raise ImportRefused(
            f"--url {options.url} is plain http to another machine: the token would cross the network "
            "unencrypted. Use https, or pass --allow-insecure-http if this network is trusted"
        )
    client = WindmillClient(ConnectionSettings(url=options.url.rstrip("/"), token=token))
    described = check_access(client, options.workspace)
    live = read_workspace(client, options.workspace, described)
    stack_file = StackFile.load(options.project_dir, options.stack)
    role, domain = _role(stack_file, options)
    conversion = convert(live, _previous(stack_file, options))
    _check(conversion)
    target, before, after = _target(stack_file, options, conversion.section, role, domain)
    needed = statuses(conversion.secrets, set(stack_file.value("secrets") or {}))
    if options.dry_run:
        out(_diff(target, before, after, options.project_dir) or f"{target.name}: no change")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(after)
        if options.copy_secrets and any(s.state == "missing" for s in needed):
            needed = copy_missing(options.project_dir, options.stack, needed,
                                  lambda path: secret_value(client, options.workspace, path))
    report(out, options, live, conversion, needed, target.relative_to(options.project_dir), before == after)
    return 0


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _role(stack_file: StackFile, options: ImportOptions) -> tuple[str, str | None]:
    """The stack's role and domain: as its file says, or as a new file gets them from the id."""
    ws = options.workspace
    if stack_file.exists:
        role = stack_file.value("role") or "platform"
        if role == "domain" and ws == PLATFORM_WORKSPACE:
            raise ImportRefused(f"stack {options.stack!r} is a domain stack; {PLATFORM_WORKSPACE} belongs to the "
                                "platform stack (import it with --stack platform)")
        return role, stack_file.value("domain")
    if ws == PLATFORM_WORKSPACE:
        return "platform", None
    suffix = ws.removeprefix("homeops-")
    domain = suffix if re.fullmatch(DOMAIN_PATTERN, suffix) else options.stack
    if not re.fullmatch(DOMAIN_PATTERN, domain):
        raise ImportRefused(f"no stack file {stack_file.path.name} yet, and neither the workspace id nor the stack "
                            f"name gives a domain name ({DOMAIN_PATTERN}); create the stack file first")
    return "domain", domain


def _previous(stack_file: StackFile, options: ImportOptions) -> Previous:
    section = stack_file.previous_section()
    names = {v["path"]: v["secret"] for v in section.get("variables") or []
             if isinstance(v, dict) and isinstance(v.get("secret"), str) and isinstance(v.get("path"), str)}
    same_workspace = section.get("id", options.workspace) == options.workspace
    return Previous(
        secret_names=names if same_workspace else {},
        deletion_mode=section.get("deletionMode") if same_workspace else None,
        managed_elsewhere=managed_elsewhere(options.project_dir, options.stack, stack_file, options.workspace),
    )


def managed_elsewhere(project_dir: Path, stack: str, stack_file: StackFile, ws: str) -> dict[str, str]:
    """Variables of ``ws`` that a platformLink writes: this domain's services token, and (for the
    platform workspace) every domain's trigger token."""
    found: dict[str, str] = {}
    services = (stack_file.value("platformLink") or {}).get("services") or {}
    if isinstance(services.get("variable"), str):
        found[services["variable"]] = "the platform services token this stack's platformLink writes"
    if ws != PLATFORM_WORKSPACE:
        return found
    for other in sorted(project_dir.glob("Pulumi.*.yaml")):
        if other.name in ("Pulumi.yaml", f"Pulumi.{stack}.yaml"):
            continue
        config = (yaml.safe_load(other.read_text()) or {}).get("config") or {}
        domain = config.get("homeops-windmill:domain")
        triggers = (config.get("homeops-windmill:platformLink") or {}).get("triggers") or {}
        if domain and triggers.get("flows"):
            path = triggers.get("variable") or f"f/deployment/{domain}_trigger_token"
            found[path] = f"the trigger token the {other.name} stack's platformLink writes"
    return found


def _check(conversion: Conversion) -> None:
    """The section must be one the program accepts: parse it with the program's own parser."""
    try:
        WindmillWorkspaceArgs.from_config(
            conversion.section, secret_names={s.name for s in conversion.secrets}, default_id=None,
        )
    except (ConfigError, ConfigErrors) as error:
        raise RuntimeError(f"the imported workspace does not pass the stack config checks (a bug of the "
                           f"import; nothing was written):\n{error}") from None


def _target(
    stack_file: StackFile, options: ImportOptions, section: dict[str, Any], role: str, domain: str | None
) -> tuple[Path, str, str]:
    """The file to write, its text now and its text after the import."""
    file = stack_file.workspace_file
    if file is not None:
        before = file.read_text() if file.exists() else ""
        return file, before, workspace_file_text(section)
    if not stack_file.exists:
        return stack_file.path, "", new_stack_text(options.stack, role, domain, section)
    return stack_file.path, stack_file.text, with_workspace_block(stack_file.text, section)


def _diff(target: Path, before: str, after: str, project_dir: Path) -> str:
    name = str(target.relative_to(project_dir))
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))
