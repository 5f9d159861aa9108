"""Communication between workspaces: which Windmill API tokens may exist, who may hold them, and
what they may do.

Windmill runs a flow in another workspace for a caller holding a token for that workspace, so the
tokens are the cross-workspace calls. The architecture allows the platform to trigger domain flows
and a domain to call platform services, never a domain calling another domain. A token is *held*
by the workspace of the Windmill variable its value is stored in (the engine reports that variable's
``value`` as depending on the token); a token stored nowhere in the stack is held by the stack's own
workspace. A token stored in a GitHub Actions secret is the sync workflow's (``github_sync.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .model import PLATFORM_WORKSPACE, UNKNOWN, Item, Stack, item, shown, workspace_role

RUN_SCOPE = re.compile(r"jobs:run:(flows|scripts):(f/[A-Za-z0-9_]+(/[\w-]+)+)")


def _token_has_workspace(args: ResourceValidationArgs, report: ReportViolation) -> None:
    token = item(args)
    if token.kind == "token" and token.props.get("workspace") in (None, ""):
        report(
            f"Windmill API token '{token.label}' is not limited to a workspace, so it works on every workspace of "
            f"the instance, another domain's included. Set its workspace.",
            None,
        )


TOKEN_SINGLE_WORKSPACE = ResourceValidationPolicy(
    name="token-limited-to-one-workspace",
    description="Every Windmill API token the stack mints is limited to one workspace.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_token_has_workspace,
)


def cross_workspace_tokens(stack: Stack) -> Iterator[tuple[Item, str, list[Item]]]:
    """``(token, holder workspace, variables holding it)`` for every known holder of every token
    whose target workspace is known, except the sync workflow's tokens."""
    for token in stack.of_kind("token"):
        target = token.workspace
        if not isinstance(target, str) or not target:
            continue
        variables = stack.holders(token)
        if not variables and stack.github_secrets_holding(token):
            continue
        if variables:
            by_workspace: dict[str, list[Item]] = {}
            for variable in variables:
                if isinstance(variable.workspace, str):
                    by_workspace.setdefault(variable.workspace, []).append(variable)
            for holder, held_by in sorted(by_workspace.items()):
                yield token, holder, held_by
        else:
            for holder in sorted(stack.own_workspaces):
                yield token, holder, []


def direction_problem(holder: str, target: str) -> str | None:
    """Why a token for ``target`` held by ``holder`` breaks the allowed directions, or None."""
    if holder == target:
        return None
    for workspace in (holder, target):
        if workspace_role(workspace) is None:
            return (f"{workspace} is neither {PLATFORM_WORKSPACE} nor a domain workspace homeops-<domain>, so "
                    f"the direction of the call cannot be checked")
    if workspace_role(holder) == workspace_role(target) == "domain":
        return (f"{holder} could run jobs in {target}: a domain never calls another domain (move the shared "
                f"logic into a platform service both domains call)")
    return None


def _direction(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for token, holder, variables in cross_workspace_tokens(stack):
        problem = direction_problem(holder, token.workspace)
        if problem:
            stored = f" (stored in {', '.join(v.label for v in variables)})" if variables else ""
            report(f"Windmill API token '{token.label}' for {token.workspace} is held by {holder}{stored}: {problem}.",
                   token.urn)


TOKEN_DIRECTION = StackValidationPolicy(
    name="cross-workspace-calls-allowed-directions",
    description="Cross-workspace tokens go only from a domain to the platform (platform services) or from the "
                "platform to a domain (domain flows), never from one domain to another.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_direction,
)


def scope_problems(token: Item, holder: str, domain_folders: set[str] | None) -> list[str]:
    """What is wrong with the scopes of a token ``holder`` uses to call ``token.workspace``."""
    target = token.workspace
    scopes = token.props.get("scopes")
    if scopes is UNKNOWN:
        return []
    if not isinstance(scopes, list) or not scopes:
        return [f"it has no scopes, so it may do everything its Windmill user may do in {target}"]
    kinds = ("flows", "scripts") if workspace_role(target) == "platform" else ("flows",)
    problems = []
    noun = "flow or script" if len(kinds) == 2 else "flow"
    for scope in scopes:
        if scope is UNKNOWN:
            continue
        match = RUN_SCOPE.fullmatch(scope) if isinstance(scope, str) else None
        if match is None or match.group(1) not in kinds:
            allowed = " or ".join(f"jobs:run:{k}:f/<folder>/<name>" for k in kinds)
            problems.append(f"scope {scope!r} is not {allowed} (one named {noun} per scope, no wildcard)")
        elif domain_folders is not None and workspace_role(target) == "domain" \
                and match.group(2).split("/")[1] not in domain_folders:
            problems.append(f"scope {scope!r} names a flow outside {target}'s own folders "
                            f"({', '.join(sorted(domain_folders)) or 'none declared'})")
    return problems


def _scopes(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for token, holder, _variables in cross_workspace_tokens(stack):
        if holder == token.workspace or direction_problem(holder, token.workspace):
            continue  # same workspace, or already refused by the direction policy
        for problem in scope_problems(token, holder, stack.folders_of(token.workspace)):
            report(f"Windmill API token '{token.label}' lets {holder} call {token.workspace}, but {problem}.",
                   token.urn)


TOKEN_SCOPES = StackValidationPolicy(
    name="cross-workspace-tokens-run-named-flows-only",
    description="A cross-workspace token only runs named items: platform services (jobs:run:flows/scripts:<path>) "
                "for a domain, domain flows in the domain's own folders (jobs:run:flows:<path>) for the platform.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_scopes,
)


def _documented(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for token, holder, variables in cross_workspace_tokens(stack):
        if holder == token.workspace:
            continue
        for variable in variables:
            description = variable.props.get("description")
            if description is not UNKNOWN and not (isinstance(description, str) and description.strip()):
                report(
                    f"Windmill variable {variable.label} in {shown(variable.workspace)} holds the token {holder} "
                    f"uses to call {token.workspace}, but has no description: say which flows it runs and who "
                    f"manages it.",
                    variable.urn,
                )


TOKEN_DOCUMENTED = StackValidationPolicy(
    name="cross-workspace-calls-documented",
    description="Every variable that holds a cross-workspace token describes the call it allows.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_documented,
)

POLICIES = (TOKEN_SINGLE_WORKSPACE, TOKEN_DIRECTION, TOKEN_SCOPES, TOKEN_DOCUMENTED)
