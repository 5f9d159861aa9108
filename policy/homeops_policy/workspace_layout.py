"""Workspace layout: names, folders and ownership.

* Workspaces are named by the document's prefixes: ``homeops-platform`` and ``homeops-<domain>``.
* Every variable and resource lives under a folder of its own workspace (``f/<folder>/…``), never
  under a user's or group's path.
* A stack keeps to its own workspace: in another workspace it registers nothing but the secret
  token variables of a platform link, and names each one with its own prefix (``financial_…``).
* Concerns stay apart: platform concerns (infrastructure, deployment, monitoring, maintenance) are
  not folders of a domain workspace, domains are not folders of the platform workspace, and a
  domain stack declares no infrastructure (Docker) at all.

The folder-name rules are advisory: a name is only a hint of what a folder holds (a domain's
position *monitoring* is domain logic), so they warn and leave the judgement to the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .model import (
    PLATFORM_WORKSPACE,
    WORKSPACE_ITEMS,
    Item,
    Stack,
    domain_of,
    item,
    item_name,
    workspace_role,
)

FOLDER_PATH = re.compile(r"f/([A-Za-z0-9_]+)/.+")
PLATFORM_CONCERNS = ("infrastructure", "infra", "deployment", "deployments", "deploy", "monitoring",
                     "maintenance", "backup", "backups")
# The document's domains and what they are about. Not "network": network monitoring is a platform
# concern as much as a future domain.
DOMAIN_NAMES = ("financial", "finance", "trading", "atom", "media", "music", "smart", "smart_home",
                "smarthome", "community")


def _named_like(name: str, words: Iterable[str]) -> str | None:
    lowered = name.lower()
    for word in words:
        if lowered == word or lowered.startswith(f"{word}_"):
            return word
    return None


def _config_list(args: Any, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = (args.get_config() or {}).get(key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.lower() for v in value)
    return default


def _workspace_prefix(args: ResourceValidationArgs, report: ReportViolation) -> None:
    entry = item(args)
    if entry.kind is None or entry.kind == "readiness_gate":
        return
    workspace = entry.workspace
    if entry.kind == "token" and workspace in (None, ""):
        return  # token-limited-to-one-workspace reports it
    if isinstance(workspace, str) and workspace_role(workspace) is None:
        report(
            f"Windmill {entry.kind.replace('_', ' ')} {entry.label} is in workspace {workspace!r}, which is not "
            f"named by the architecture's prefixes: {PLATFORM_WORKSPACE} for the platform, homeops-<domain> "
            f"(lowercase letters and digits) for a domain, each optionally with -<suffix> parts.",
            None,
        )


WORKSPACE_PREFIX = ResourceValidationPolicy(
    name="workspaces-named-by-prefix",
    description="Windmill workspaces are homeops-platform or homeops-<domain> (optionally -<suffix>), so every "
                "object's owner is plain from its workspace.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_workspace_prefix,
)


def _placed_items(stack: Stack) -> Iterable[tuple[Item, str, str]]:
    """``(item, workspace, path)`` of every variable and resource with a known workspace and path."""
    for entry in (*stack.of_kind("variable"), *stack.of_kind("resource")):
        workspace, path = entry.workspace, entry.props.get("path")
        if isinstance(workspace, str) and isinstance(path, str):
            yield entry, workspace, path


def _own_folders(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for entry, workspace, path in _placed_items(stack):
        match = FOLDER_PATH.fullmatch(path)
        if match is None:
            report(
                f"Windmill {entry.kind} {path} in {workspace} is not under a folder (f/<folder>/…): user and group "
                f"paths belong to a person or a group, not to the workspace.",
                entry.urn,
            )
            continue
        folders = stack.folders_of(workspace)
        if folders is not None and match.group(1) not in folders:
            report(
                f"Windmill {entry.kind} {path} is under f/{match.group(1)}, which is not one of {workspace}'s "
                f"folders ({', '.join(sorted(folders)) or 'none declared'}).",
                entry.urn,
            )


OWN_FOLDERS = StackValidationPolicy(
    name="items-under-own-folders",
    description="Every Windmill variable and resource lives under a folder of its own workspace (f/<folder>/…).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_own_folders,
)


def _is_link_variable(stack: Stack, entry: Item) -> bool:
    """A secret variable whose value is a Windmill token: what a platform link stores."""
    return (entry.kind == "variable" and entry.props.get("is_secret", True) is not False
            and any(dep.kind == "token" for dep in stack.dependencies(entry, "value")))


def _foreign_items(stack: Stack) -> Iterable[Item]:
    """Windmill objects the stack declares inside a workspace it does not declare itself."""
    own = stack.own_workspaces
    if not own:
        return
    for kind in WORKSPACE_ITEMS:
        for entry in stack.of_kind(kind):
            if isinstance(entry.workspace, str) and entry.workspace not in own:
                yield entry


def _no_shared(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    own = ", ".join(sorted(stack.own_workspaces))
    for entry in _foreign_items(stack):
        if _is_link_variable(stack, entry):
            continue
        report(
            f"Windmill {entry.kind.replace('_', ' ')} {entry.label} is declared by the stack of {own} in "
            f"{entry.workspace}: each workspace has its own resources, and another workspace only receives the "
            f"secret token variables of a platform link. Share data through a database or a platform service.",
            entry.urn,
        )


NO_SHARED = StackValidationPolicy(
    name="no-shared-resources",
    description="A stack declares Windmill objects only in its own workspace; in another one it registers nothing "
                "but the secret token variables of a platform link.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_no_shared,
)


def _owner_prefixes(stack: Stack) -> list[str]:
    prefixes = []
    for workspace in sorted(stack.own_workspaces):
        if workspace_role(workspace) == "platform":
            prefixes.append("platform")
        elif domain_of(workspace):
            prefixes.append(str(domain_of(workspace)))
    return prefixes


def _foreign_prefixed(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    prefixes = _owner_prefixes(stack)
    if not prefixes:
        return
    for entry in _foreign_items(stack):
        path = entry.props.get("path")
        if entry.kind != "variable" or not isinstance(path, str):
            continue
        name = item_name(path)
        if not any(name.startswith(f"{prefix}_") for prefix in prefixes):
            wanted = " or ".join(f"{prefix}_…" for prefix in prefixes)
            report(
                f"Windmill variable {path} is registered in {entry.workspace} by another workspace's stack, so its "
                f"name must say whose it is ({wanted}); unprefixed, two domains would write the same variable.",
                entry.urn,
            )


FOREIGN_PREFIXED = StackValidationPolicy(
    name="foreign-variables-prefixed-by-owner",
    description="A variable a stack registers in another workspace is named with the owner's prefix "
                "(<domain>_… or platform_…).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_foreign_prefixed,
)


def _domain_folders(args: ResourceValidationArgs, report: ReportViolation) -> None:
    entry = item(args)
    name = entry.props.get("name")
    if entry.kind != "folder" or workspace_role(entry.workspace) != "domain" or not isinstance(name, str):
        return
    concern = _named_like(name, _config_list(args, "platformConcerns", PLATFORM_CONCERNS))
    if concern:
        report(
            f"Folder {name} of domain workspace {entry.workspace} is named like the platform concern '{concern}': "
            f"infrastructure, deployment, monitoring and maintenance belong to {PLATFORM_WORKSPACE}. Keep it only "
            f"if it holds domain logic (e.g. position monitoring), and say so in its summary.",
            None,
        )


DOMAIN_FOLDERS = ResourceValidationPolicy(
    name="domain-folders-not-platform-concerns",
    description="A domain workspace has no folder named like a platform concern (infrastructure, deployment, "
                "monitoring, maintenance).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_domain_folders,
    config_schema=PolicyConfigSchema(
        properties={"platformConcerns": {"type": "array", "items": {"type": "string"},
                                         "default": list(PLATFORM_CONCERNS)}},
    ),
)


def _platform_folders(args: ResourceValidationArgs, report: ReportViolation) -> None:
    entry = item(args)
    name = entry.props.get("name")
    if entry.kind != "folder" or workspace_role(entry.workspace) != "platform" or not isinstance(name, str):
        return
    domain = _named_like(name, _config_list(args, "domainNames", DOMAIN_NAMES))
    if domain:
        report(
            f"Folder {name} of {entry.workspace} is named after the domain '{domain}': the platform stays "
            f"generic, so domain logic goes into that domain's own workspace.",
            None,
        )


PLATFORM_FOLDERS = ResourceValidationPolicy(
    name="platform-folders-not-domains",
    description="The platform workspace has no folder named after a domain (its logic belongs in the domain's "
                "workspace).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_platform_folders,
    config_schema=PolicyConfigSchema(
        properties={"domainNames": {"type": "array", "items": {"type": "string"}, "default": list(DOMAIN_NAMES)}},
    ),
)


def _no_infrastructure(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    own = stack.own_workspaces
    if not own or any(workspace_role(ws) != "domain" for ws in own):
        return
    for entry in stack.items:
        if entry.resource_type.startswith("docker:"):
            report(
                f"The stack of domain workspace {', '.join(sorted(own))} declares infrastructure "
                f"({entry.resource_type} {entry.name}): Windmill and its hosts belong to the platform stack.",
                entry.urn,
            )


NO_INFRASTRUCTURE = StackValidationPolicy(
    name="no-infrastructure-in-domain-stacks",
    description="A domain stack declares no infrastructure (Docker hosts, containers, volumes, images).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_no_infrastructure,
)

POLICIES = (WORKSPACE_PREFIX, OWN_FOLDERS, NO_SHARED, FOREIGN_PREFIXED, DOMAIN_FOLDERS, PLATFORM_FOLDERS,
            NO_INFRASTRUCTURE)
