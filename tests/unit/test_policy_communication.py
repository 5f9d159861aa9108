"""Communication policies (policy/homeops_policy/communication.py): cross-workspace tokens, the
directions they may go, the flows they may run, and their documentation."""

from __future__ import annotations

from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE

from policy.homeops_policy import communication
from tests.unit.policy_stacks import GENERIC, WM, link_stack, one, resource, violations, wm_props


def test_token_limited_to_one_workspace() -> None:
    policy = communication.TOKEN_SINGLE_WORKSPACE
    ok = resource(WM + "Token", wm_props("token", label="x", workspace="homeops-financial"))
    assert violations(policy, ok) == []
    # Unknown during preview (the platform's id from a StackReference) is still a workspace.
    preview = resource(WM + "Token", wm_props("token", label="x", workspace=UNKNOWN_STRING_VALUE))
    assert violations(policy, preview) == []
    bad = resource(GENERIC, {"label": "ops", "scopes": ["jobs:run:flows:f/a/b"]})  # recognised by shape
    assert "token 'ops' is not limited to a workspace" in one(policy, bad)


def test_direction_domain_to_platform_and_platform_to_domain_pass() -> None:
    policy = communication.TOKEN_DIRECTION
    services = link_stack("homeops-platform", "homeops-financial", ["jobs:run:flows:f/monitoring/alert_dispatcher"])
    triggers = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/nightly_scan"])
    assert violations(policy, services.args()) == []
    assert violations(policy, triggers.args()) == []


def test_direction_domain_to_domain_is_refused() -> None:
    stack = link_stack("homeops-media", "homeops-financial", ["jobs:run:flows:f/media/scan"])
    message = one(communication.TOKEN_DIRECTION, stack.args())
    assert "for homeops-media is held by homeops-financial" in message
    assert "a domain never calls another domain" in message
    # Not stored anywhere: held by the stack's own workspace, still refused.
    unstored = link_stack("homeops-media", "homeops-financial", [], store=False)
    assert "held by homeops-financial" in one(communication.TOKEN_DIRECTION, unstored.args())
    # A suffixed domain workspace is still a domain: no way around the rule by renaming.
    moved = link_stack("homeops-media-v2", "homeops-financial", ["jobs:run:flows:f/media/scan"])
    assert "a domain never calls another domain" in one(communication.TOKEN_DIRECTION, moved.args())


def test_direction_needs_named_workspaces() -> None:
    stack = link_stack("windmill-ops", "homeops-financial", ["jobs:run:flows:f/a/b"])
    assert "windmill-ops is neither homeops-platform nor a domain workspace" in one(
        communication.TOKEN_DIRECTION, stack.args())


def test_scopes_named_flows_and_scripts_pass() -> None:
    policy = communication.TOKEN_SCOPES
    services = link_stack("homeops-platform", "homeops-financial",
                          ["jobs:run:flows:f/monitoring/alert_dispatcher", "jobs:run:scripts:f/monitoring/notify"])
    triggers = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/nightly_scan"])
    assert violations(policy, services.args()) == []
    assert violations(policy, triggers.args()) == []
    preview = link_stack("homeops-platform", "homeops-financial", UNKNOWN_ARRAY_VALUE)
    assert violations(policy, preview.args()) == []


def test_scopes_refuse_full_access_wildcards_scripts_and_foreign_folders() -> None:
    policy = communication.TOKEN_SCOPES
    full = link_stack("homeops-platform", "homeops-financial", [])
    assert "it has no scopes, so it may do everything" in one(policy, full.args())
    wildcard = link_stack("homeops-platform", "homeops-financial", ["jobs:run:flows:f/monitoring/*"])
    assert "scope 'jobs:run:flows:f/monitoring/*' is not jobs:run:flows:f/<folder>/<name> or" in one(
        policy, wildcard.args())
    writer = link_stack("homeops-platform", "homeops-financial", ["variables:write"])
    assert "scope 'variables:write'" in one(policy, writer.args())
    script = link_stack("homeops-financial", "homeops-platform", ["jobs:run:scripts:f/atom/place_order"])
    assert "is not jobs:run:flows:f/<folder>/<name> (one named flow per scope" in one(policy, script.args())
    outside = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/secret_folder/x"])
    assert "names a flow outside homeops-financial's own folders (atom)" in one(policy, outside.args())


def test_cross_workspace_variable_documented() -> None:
    policy = communication.TOKEN_DOCUMENTED
    described = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/a"])
    assert violations(policy, described.args()) == []
    bare = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/a"], description=" ")
    assert "holds the token homeops-platform uses to call homeops-financial, but has no description" in one(
        policy, bare.args())
