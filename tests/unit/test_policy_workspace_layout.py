"""Workspace layout policies (policy/homeops_policy/workspace_layout.py): workspace names, items
under the workspace's own folders, nothing shared or unprefixed in another workspace, folder names
that keep platform and domain concerns apart, no infrastructure in a domain stack."""

from __future__ import annotations

from policy.homeops_policy import workspace_layout
from tests.unit.policy_stacks import (
    CONTAINER,
    GENERIC,
    WM,
    StackBuilder,
    link_stack,
    one,
    resource,
    violations,
    wm_props,
)


def test_workspaces_named_by_prefix() -> None:
    policy = workspace_layout.WORKSPACE_PREFIX
    # The suffixed ids are the ones the program's guard lets a stack manage (homeops-financial-v2 while a
    # workspace is moved): the pack and the program agree on which ids are the architecture's.
    for ws in ("homeops-platform", "homeops-financial", "homeops-smart2", "homeops-financial-v2",
               "homeops-platform-staging"):
        assert violations(policy, resource(WM + "Workspace", wm_props("workspace", workspace_id=ws, name=ws))) == []
    for ws in ("homeops-", "homeops--v2", "homeops-Financial", "homeops-financial-"):
        assert violations(policy, resource(WM + "Workspace", wm_props("workspace", workspace_id=ws, name=ws))), ws
    bad = resource(GENERIC, {"workspace": "trading-prod", "path": "f/x/y", "value": "1", "is_secret": False})
    assert "Windmill variable f/x/y is in workspace 'trading-prod', which is not named by" in one(policy, bad)
    assert "'Homeops-Media'" in one(policy, resource(WM + "Workspace", wm_props(
        "workspace", workspace_id="Homeops-Media", name="x")))


def test_items_under_own_folders() -> None:
    policy = workspace_layout.OWN_FOLDERS
    stack = StackBuilder()
    stack.workspace("homeops-financial", "atom")
    stack.wm("variable", "v", workspace="homeops-financial", path="f/atom/fmp_api_key", is_secret=True)
    # Another stack's workspace: its folders are unknown here, any f/ folder passes.
    stack.wm("variable", "t", workspace="homeops-platform", path="f/deployment/financial_trigger_token")
    assert violations(policy, stack.args()) == []
    stack.wm("resource", "r", workspace="homeops-financial", path="f/ops/db", resource_type="postgresql")
    stack.wm("variable", "u", workspace="homeops-financial", path="u/admin/api_key", is_secret=True)
    found = violations(policy, stack.args())
    assert found == [
        "Windmill variable u/admin/api_key in homeops-financial is not under a folder (f/<folder>/…): user and group "
        "paths belong to a person or a group, not to the workspace.",
        "Windmill resource f/ops/db is under f/ops, which is not one of homeops-financial's folders (atom).",
    ]


def test_no_shared_resources() -> None:
    policy = workspace_layout.NO_SHARED
    ok = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/a"])
    assert violations(policy, ok.args()) == []
    bad = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/a"])
    bad.wm("resource", "shared-db", workspace="homeops-platform", path="f/infrastructure/trading_db",
           resource_type="postgresql", value={})
    message = one(policy, bad.args())
    assert "Windmill resource f/infrastructure/trading_db is declared by the stack of homeops-financial in " \
           "homeops-platform: each workspace has its own resources" in message


def test_foreign_variables_prefixed_by_owner() -> None:
    policy = workspace_layout.FOREIGN_PREFIXED
    ok = link_stack("homeops-financial", "homeops-platform", ["jobs:run:flows:f/atom/a"])
    assert violations(policy, ok.args()) == []
    bad = StackBuilder()
    bad.workspace("homeops-financial", "atom")
    token = bad.wm("token", "t", label="x", workspace="homeops-financial", scopes=["jobs:run:flows:f/atom/a"])
    bad.wm("variable", "v", depends={"value": [token]}, workspace="homeops-platform",
           path="f/deployment/trigger_token", is_secret=True)
    assert "Windmill variable f/deployment/trigger_token is registered in homeops-platform by another workspace's " \
           "stack, so its name must say whose it is (financial_…)" in one(policy, bad.args())


def test_domain_folders_not_platform_concerns() -> None:
    policy = workspace_layout.DOMAIN_FOLDERS
    atom = resource(WM + "Folder", wm_props("folder", workspace="homeops-financial", name="atom"))
    platform_infra = resource(WM + "Folder", wm_props("folder", workspace="homeops-platform", name="infrastructure"))
    assert violations(policy, atom) == [] and violations(policy, platform_infra) == []
    infra = resource(WM + "Folder", wm_props("folder", workspace="homeops-financial", name="Infrastructure_jobs"))
    assert "Folder Infrastructure_jobs of domain workspace homeops-financial is named like the platform concern " \
           "'infrastructure'" in one(policy, infra)
    # The list is configurable: a team that keeps position monitoring in its domain can drop the word.
    monitoring = resource(WM + "Folder", wm_props("folder", workspace="homeops-financial", name="monitoring"),
                          config={"platformConcerns": ["infrastructure"]})
    assert violations(policy, monitoring) == []


def test_platform_folders_not_domains() -> None:
    policy = workspace_layout.PLATFORM_FOLDERS
    assert violations(policy, resource(WM + "Folder", wm_props(
        "folder", workspace="homeops-platform", name="monitoring"))) == []
    trading = resource(WM + "Folder", wm_props("folder", workspace="homeops-platform", name="trading"))
    assert "Folder trading of homeops-platform is named after the domain 'trading'" in one(policy, trading)
    staging = resource(WM + "Folder", wm_props("folder", workspace="homeops-platform-staging", name="trading"))
    assert "Folder trading of homeops-platform-staging is named after the domain" in one(policy, staging)


def test_no_infrastructure_in_domain_stacks() -> None:
    policy = workspace_layout.NO_INFRASTRUCTURE
    platform = StackBuilder()
    platform.workspace("homeops-platform", "infrastructure")
    platform.add(CONTAINER, "windmill-db", {"image": "sha256:1"})
    assert violations(policy, platform.args()) == []
    domain = StackBuilder()
    domain.workspace("homeops-financial", "atom")
    domain.add(CONTAINER, "trading-db", {"image": "sha256:1"})
    assert "The stack of domain workspace homeops-financial declares infrastructure " \
           "(docker:index/container:Container trading-db)" in one(policy, domain.args())
