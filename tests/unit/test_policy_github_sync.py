"""GitHub sync policies (policy/homeops_policy/github_sync.py): the sync workflow's Windmill token is
limited to the workspace the stack syncs, and expires."""

from __future__ import annotations

from typing import Any

from policy.homeops_policy import github_sync
from tests.unit.policy_stacks import ACTIONS_SECRET, StackBuilder, one, violations


def sync_stack(workspace: Any, expiration: Any = "2026-12-31T00:00:00Z") -> StackBuilder:
    stack = StackBuilder()
    stack.workspace("homeops-financial", "atom")
    token = stack.wm("token", "sync-token", label="ci token", workspace=workspace, scopes=None,
                     expiration=expiration)
    stack.add(ACTIONS_SECRET, "sync-secret", {"secretName": "WMILL_TOKEN_FINANCIAL", "plaintextValue": "x"},
              depends={"plaintextValue": [token]})
    return stack


def test_sync_token_limited_to_its_workspace() -> None:
    policy = github_sync.SYNC_TOKEN_LIMITED
    assert violations(policy, sync_stack("homeops-financial").args()) == []
    assert "works on homeops-platform, but this stack syncs homeops-financial" in one(
        policy, sync_stack("homeops-platform").args())
    assert "is not limited to a workspace" in one(policy, sync_stack(None).args())
    # Recognised by its label when no GitHub secret in the stack holds it.
    labelled = StackBuilder()
    labelled.workspace("homeops-financial", "atom")
    labelled.wm("token", "t", label="github-sync homeops-financial", workspace=None)
    assert "Windmill token 'github-sync homeops-financial' of the GitHub sync workflow" in one(policy, labelled.args())


def test_sync_token_expires() -> None:
    policy = github_sync.SYNC_TOKEN_EXPIRES
    import datetime as dt

    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert violations(policy, sync_stack("homeops-financial", soon).args()) == []
    assert "never expires" in one(policy, sync_stack("homeops-financial", None).args())
    assert "expires more than 30 days from now" in one(
        policy, sync_stack("homeops-financial", soon).args({"maxDays": 30}))
