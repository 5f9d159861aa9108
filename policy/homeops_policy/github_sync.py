"""The GitHub sync workflow's Windmill token: limited to the workspace it syncs, and expiring.

A sync token is a Windmill API token whose value the stack stores in a GitHub Actions secret (the
engine reports the secret's ``plaintextValue`` as depending on the token); a token whose label
starts with ``github-sync`` counts too, for stacks that hand it to GitHub some other way.

Whether the token must expire, and how soon, is a trade-off between exposure and the chores of
rotation, so that rule is advisory with a configurable maximum (``maxDays``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .model import UNKNOWN, Item, Stack

SYNC_LABEL_PREFIX = "github-sync"
DEFAULT_MAX_DAYS = 366


def sync_tokens(stack: Stack) -> Iterator[Item]:
    for token in stack.of_kind("token"):
        label = token.props.get("label")
        if stack.github_secrets_holding(token) or (isinstance(label, str) and label.startswith(SYNC_LABEL_PREFIX)):
            yield token


def _limited(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    own = stack.own_workspaces
    for token in sync_tokens(stack):
        workspace = token.workspace
        if workspace is UNKNOWN:
            continue
        if not isinstance(workspace, str) or not workspace:
            report(
                f"Windmill token '{token.label}' of the GitHub sync workflow is not limited to a workspace: anyone who "
                f"can run a workflow of the repository could change every workspace. Limit it to the workspace it "
                f"syncs.",
                token.urn,
            )
        elif own and workspace not in own:
            report(
                f"Windmill token '{token.label}' of the GitHub sync workflow works on {workspace}, but this stack "
                f"syncs {', '.join(sorted(own))}. Limit it to the workspace it syncs.",
                token.urn,
            )


SYNC_TOKEN_LIMITED = StackValidationPolicy(
    name="sync-token-limited-to-its-workspace",
    description="The Windmill token of a GitHub sync workflow is limited to the workspace that workflow syncs.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_limited,
)


def _parse(moment: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def expiry_problem(expiration: object, max_days: int, now: dt.datetime) -> str | None:
    """Why a sync token's ``expiration`` is not acceptable, or None."""
    if expiration is UNKNOWN:
        return None
    if not expiration:
        return "never expires"
    moment = _parse(expiration) if isinstance(expiration, str) else None
    if moment is None:
        return "has an expiration that is not an RFC 3339 date-time"
    if moment - now > dt.timedelta(days=max_days):
        return f"expires more than {max_days} days from now"
    return None


def _expires(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    configured = (args.get_config() or {}).get("maxDays")
    max_days = configured if isinstance(configured, int) and configured > 0 else DEFAULT_MAX_DAYS
    now = dt.datetime.now(dt.UTC)
    for token in sync_tokens(stack):
        problem = expiry_problem(token.props.get("expiration"), max_days, now)
        if problem:
            report(
                f"Windmill token '{token.label}' of the GitHub sync workflow {problem}: give it an expiration within "
                f"{max_days} days (rotating it is a replacement the stack makes on the next `pulumi up`).",
                token.urn,
            )


SYNC_TOKEN_EXPIRES = StackValidationPolicy(
    name="sync-token-expires",
    description="The Windmill token of a GitHub sync workflow expires (within maxDays, 366 by default).",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_expires,
    config_schema=PolicyConfigSchema(
        properties={"maxDays": {"type": "integer", "minimum": 1, "default": DEFAULT_MAX_DAYS}},
    ),
)

POLICIES = (SYNC_TOKEN_LIMITED, SYNC_TOKEN_EXPIRES)
