"""The policy pack (policy/): per policy, a resource or stack that passes and one that violates it,
built as the SDK builds them (``ResourceValidationArgs`` / ``StackValidationArgs`` with proxied
props), asserting the violation message. Plus: how Windmill resources are recognised, unknown
values during preview, and that no message ever shows a secret value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.homeops_policy import (
    PACK_NAME,
    POLICIES,
    communication,
    docker_host,
    github_sync,
    model,
    secret_values,
    workspace_layout,
)

ROOT = Path(__file__).resolve().parents[2]
WM = "pulumi-python:dynamic/windmill:"
GENERIC = "pulumi-python:dynamic:Resource"
CONTAINER, VOLUME, IMAGE, PASSWORD = model.CONTAINER, model.VOLUME, model.REMOTE_IMAGE, model.RANDOM_PASSWORD
ACTIONS_SECRET = "github:index/actionsSecret:ActionsSecret"
ACTIONS_VARIABLE = "github:index/actionsVariable:ActionsVariable"
TYPE_NAMES = {"workspace": "Workspace", "folder": "Folder", "group": "Group", "member": "Member",
              "variable": "Variable", "resource": "Resource", "resource_type": "ResourceType", "token": "Token",
              "readiness_gate": "ReadinessGate"}
SECRET_VALUE = "hunter2-0f8a7c6e5d4b3a29"  # a password that must never appear in a message


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:test::homeops-windmill::{typ}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource(typ: str, props: dict[str, Any], *, name: str = "r", protect: bool = False,
             config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(typ, unknown_checking_proxy(props), urn(typ, name), name, options(protect), None,
                                  config)


def wm_props(kind: str, **props: Any) -> dict[str, Any]:
    return {"windmill_kind": kind, **props}


class StackBuilder:
    """Resources of one stack, with the property dependencies the engine reports."""

    def __init__(self) -> None:
        self.resources: list[PolicyResource] = []

    def add(self, typ: str, name: str, props: dict[str, Any], *, protect: bool = False,
            depends: dict[str, list[PolicyResource]] | None = None) -> PolicyResource:
        deps = depends or {}
        entry = PolicyResource(typ, unknown_checking_proxy(props), urn(typ, name), name, options(protect), None, None,
                               [d for ds in deps.values() for d in ds], dict(deps))
        self.resources.append(entry)
        return entry

    def wm(self, kind: str, resource_name: str, /, *, depends: dict[str, list[PolicyResource]] | None = None,
           **props: Any) -> PolicyResource:
        return self.add(WM + TYPE_NAMES[kind], resource_name, wm_props(kind, **props), depends=depends)

    def workspace(self, ws: str, *folders: str) -> None:
        self.wm("workspace", f"{ws}-workspace", workspace_id=ws, name=ws)
        for folder in folders:
            self.wm("folder", f"{ws}-folder-{folder}", workspace=ws, name=folder, summary="", owners=[])

    def args(self, config: dict[str, Any] | None = None) -> StackValidationArgs:
        return StackValidationArgs(self.resources, config)


def violations(policy: Any, args: Any) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def one(policy: Any, args: Any) -> str:
    found = violations(policy, args)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------------------
# The pack
# ------------------------------------------------------------------------------------------------

MANDATORY = {
    "token-limited-to-one-workspace", "cross-workspace-calls-allowed-directions",
    "cross-workspace-tokens-run-named-flows-only", "workspaces-named-by-prefix", "items-under-own-folders",
    "no-shared-resources", "foreign-variables-prefixed-by-owner", "no-infrastructure-in-domain-stacks",
    "secret-values-in-secret-variables", "credentials-only-by-reference", "tokens-in-secret-variables",
    "no-credentials-in-github-variables", "sync-token-limited-to-its-workspace", "windmill-images-pinned",
    "postgres-never-published", "published-ports-on-loopback", "postgres-data-volume-protected",
    "postgres-password-generated",
}
ADVISORY = {
    "cross-workspace-calls-documented", "domain-folders-not-platform-concerns", "platform-folders-not-domains",
    "sync-token-expires", "postgres-password-protected",
}


def test_every_policy_has_a_unique_name_a_description_and_its_level() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert {p.name for p in POLICIES if p.enforcement_level == EnforcementLevel.MANDATORY} == MANDATORY
    assert {p.name for p in POLICIES if p.enforcement_level == EnforcementLevel.ADVISORY} == ADVISORY
    for policy in POLICIES:
        assert policy.description.endswith(".") and len(policy.description) > 40, policy.name
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", policy.name), policy.name
    assert re.fullmatch(r"[\w.-]+", PACK_NAME)


def test_docs_list_every_policy_with_its_level() -> None:
    text = (ROOT / "docs" / "policies.md").read_text()
    for policy in POLICIES:
        level = "mandatory" if policy.name in MANDATORY else "advisory"
        assert re.search(rf"`{policy.name}`[^\n]*\b{level}\b", text), policy.name


def test_pack_files_pin_what_the_tests_use() -> None:
    project = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": ".venv"}}
    pins = {line.split("==")[0]: line.split("==")[1]
            for line in (ROOT / "policy" / "requirements.txt").read_text().splitlines() if "==" in line}
    dev = (ROOT / "requirements-dev.txt").read_text() + (ROOT / "requirements.txt").read_text()
    assert pins.keys() == {"pulumi", "pulumi-policy"}
    for package, version in pins.items():
        assert f"\n{package}=={version}\n" in f"\n{dev}\n", package


# ------------------------------------------------------------------------------------------------
# Recognising Windmill resources
# ------------------------------------------------------------------------------------------------

SHAPES = {
    "workspace": {"workspace_id": "homeops-media", "name": "Media", "deletion_mode": "archive"},
    "folder": {"workspace": "homeops-media", "name": "media", "summary": "", "owners": [], "extra_perms": {}},
    "group": {"workspace": "homeops-media", "name": "team", "summary": "", "members": []},
    "member": {"workspace": "homeops-media", "email": "a@b.example", "role": "developer"},
    "variable": {"workspace": "homeops-media", "path": "f/media/x", "value": "v", "is_secret": False},
    "resource": {"workspace": "homeops-media", "path": "f/media/db", "resource_type": "postgresql", "value": {}},
    "resource_type": {"workspace": "homeops-media", "name": "c_x", "schema": {"type": "object"}},
    "token": {"label": "sync", "workspace": "homeops-media", "scopes": None, "expiration": None},
    "readiness_gate": {"url": "http://localhost", "timeout_seconds": 120.0, "interval_seconds": 2.0},
}


@pytest.mark.parametrize("kind", list(SHAPES))
def test_kind_from_windmill_kind_type_token_and_input_shape(kind: str) -> None:
    props = SHAPES[kind]
    assert model.windmill_kind(GENERIC, {**props, "windmill_kind": kind}) == kind
    assert model.windmill_kind(WM + TYPE_NAMES[kind], props) == kind
    assert model.windmill_kind(GENERIC, props) == kind


def test_windmill_kind_wins_and_other_types_are_not_windmill() -> None:
    # A variable-shaped resource that declares itself a resource type is a resource type.
    assert model.windmill_kind(GENERIC, {**SHAPES["variable"], "windmill_kind": "resource_type"}) == "resource_type"
    assert model.windmill_kind(CONTAINER, SHAPES["variable"]) is None
    assert model.windmill_kind(GENERIC, {"something": "else"}) is None


def test_plain_unwraps_proxies_and_marks_unknowns() -> None:
    proxied = unknown_checking_proxy({"a": [1, UNKNOWN_STRING_VALUE], "b": {"c": UNKNOWN_ARRAY_VALUE}})
    assert model.plain(proxied) == {"a": [1, model.UNKNOWN], "b": {"c": model.UNKNOWN}}
    assert not model.known(model.plain(proxied))


# ------------------------------------------------------------------------------------------------
# Communication
# ------------------------------------------------------------------------------------------------


def test_token_limited_to_one_workspace() -> None:
    policy = communication.TOKEN_SINGLE_WORKSPACE
    ok = resource(WM + "Token", wm_props("token", label="x", workspace="homeops-financial"))
    assert violations(policy, ok) == []
    # Unknown during preview (the platform's id from a StackReference) is still a workspace.
    preview = resource(WM + "Token", wm_props("token", label="x", workspace=UNKNOWN_STRING_VALUE))
    assert violations(policy, preview) == []
    bad = resource(GENERIC, {"label": "ops", "scopes": ["jobs:run:flows:f/a/b"]})  # recognised by shape
    assert "token 'ops' is not limited to a workspace" in one(policy, bad)


def link_stack(token_ws: str, holder_ws: str, scopes: list[str] | str, *, own: str = "homeops-financial",
               own_folders: tuple[str, ...] = ("atom",), description: str = "Runs flows (managed by Pulumi)",
               store: bool = True) -> StackBuilder:
    stack = StackBuilder()
    stack.workspace(own, *own_folders)
    token = stack.wm("token", "link-token", label="link", workspace=token_ws, scopes=scopes)
    if store:
        stack.wm("variable", "link-variable", depends={"value": [token]}, workspace=holder_ws,
                 path="f/deployment/financial_trigger_token" if holder_ws != own else "f/atom/platform_token",
                 value=UNKNOWN_STRING_VALUE, is_secret=True, description=description)
    return stack


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


# ------------------------------------------------------------------------------------------------
# Workspace layout
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "word"), [
    ("fmp_api_key", "api_key"), ("trading_db_password", "password"), ("githubToken", "token"),
    ("alerts_webhook_url", "webhook"), ("alpaca_key_id", "key_id"), ("library_root", None), ("WMILL_URL", None),
])
def test_credential_names(name: str, word: str | None) -> None:
    assert secret_values.credential_name(name) == word


@pytest.mark.parametrize(("value", "shape"), [
    ("https://hooks.slack.com/services/T000/B000/XXXXXXXX", "a Slack webhook URL"),
    ("ghp_" + "a1" * 18, "a GitHub token"),
    ("postgres://atom:" + SECRET_VALUE + "@db:5432/trading", "a URL with a password"),
    ("AKIAABCDEFGHIJKLMNOP", "an AWS access key id"),
    ("Xk9fQ2mZ7rT1vB8nL4pW6yH3cJ5dG0sA", "a long random key"),
    ("$var:f/atom/fmp_api_key", None),
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", None),  # a hex digest
    ("https://financialmodelingprep.com/api", None),
])
def test_credential_shapes(value: str, shape: str | None) -> None:
    assert secret_values.credential_shape(value) == shape


def test_secret_values_in_secret_variables() -> None:
    policy = secret_values.SECRET_VARIABLES
    secret = resource(WM + "Variable", wm_props("variable", workspace="homeops-financial", path="f/atom/fmp_api_key",
                                                value=SECRET_VALUE, is_secret=True))
    plain = resource(WM + "Variable", wm_props("variable", workspace="homeops-media", path="f/media/library_root",
                                               value="/srv/media", is_secret=False))
    assert violations(policy, secret) == [] and violations(policy, plain) == []
    by_name = resource(WM + "Variable", wm_props("variable", workspace="homeops-financial",
                                                 path="f/atom/trading_db_password", value=SECRET_VALUE,
                                                 is_secret=False))
    message = one(policy, by_name)
    assert "Windmill variable f/atom/trading_db_password in homeops-financial is a plain variable, but its name " \
           "contains 'password'" in message
    assert SECRET_VALUE not in message
    by_shape = resource(GENERIC, {"workspace": "homeops-media", "path": "f/media/notify", "is_secret": False,
                                  "value": "https://hooks.slack.com/services/T0/B0/" + SECRET_VALUE})
    message = one(policy, by_shape)
    assert "but its value looks like a Slack webhook URL" in message and SECRET_VALUE not in message


def test_credentials_only_by_reference() -> None:
    policy = secret_values.RESOURCE_REFERENCES
    ok = resource(WM + "Resource", wm_props(
        "resource", workspace="homeops-financial", path="f/atom/trading_db", resource_type="postgresql",
        value={"host": "db", "port": 5432.0, "user": "atom", "password": "$var:f/atom/trading_db_password"}))
    assert violations(policy, ok) == []
    bad = resource(WM + "Resource", wm_props(
        "resource", workspace="homeops-financial", path="f/atom/alpaca", resource_type="c_alpaca",
        value={"key_id": "$var:f/atom/alpaca_api_key_id", "secret_key": SECRET_VALUE,
               "hooks": [{"url": "https://hooks.slack.com/services/T0/B0/" + SECRET_VALUE}]}))
    found = violations(policy, bad)
    assert found == [
        "Windmill resource f/atom/alpaca in homeops-financial: value.secret_key is written in the resource, but its "
        "key names a credential ('secret'). Store it in a secret variable of the same workspace and reference it as "
        "\"$var:<path>\".",
        "Windmill resource f/atom/alpaca in homeops-financial: value.hooks[0].url is written in the resource, but it "
        "looks like a Slack webhook URL. Store it in a secret variable of the same workspace and reference it as "
        "\"$var:<path>\".",
    ]


def test_tokens_in_secret_variables() -> None:
    policy = secret_values.GENERATED_VALUES
    secret = link_stack("homeops-platform", "homeops-financial", ["jobs:run:flows:f/a/b"])
    assert violations(policy, secret.args()) == []
    stack = StackBuilder()
    stack.workspace("homeops-platform", "infrastructure")
    password = stack.add(PASSWORD, "db-password", {"length": 32.0, "special": False})
    stack.wm("variable", "pg", depends={"value": [password]}, workspace="homeops-platform",
             path="f/infrastructure/pg", value=SECRET_VALUE, is_secret=False)
    message = one(policy, stack.args())
    assert "Windmill variable f/infrastructure/pg in homeops-platform holds a generated password (db-password) but " \
           "is not secret" in message


def test_no_credentials_in_github_variables() -> None:
    policy = secret_values.GITHUB_ACTIONS_VARIABLES
    ok = resource(ACTIONS_VARIABLE, {"repository": "HomeOps", "variableName": "WMILL_URL",
                                     "value": "https://windmill.homeops.example"})
    assert violations(policy, ok) == []
    bad = resource(ACTIONS_VARIABLE, {"repository": "HomeOps", "variableName": "WMILL_TOKEN", "value": SECRET_VALUE})
    message = one(policy, bad)
    assert "GitHub Actions variable WMILL_TOKEN is readable by anyone" in message and SECRET_VALUE not in message


# ------------------------------------------------------------------------------------------------
# GitHub sync token
# ------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------
# The Docker-hosted instance
# ------------------------------------------------------------------------------------------------


def test_windmill_images_pinned() -> None:
    policy = docker_host.WINDMILL_IMAGE_PINNED
    for name in ("ghcr.io/windmill-labs/windmill:1.819.0", "ghcr.io/windmill-labs/windmill-extra:v1.819.0",
                 "ghcr.io/windmill-labs/windmill-ee@sha256:" + "a" * 64, "ghcr.io/windmill-labs/caddy-l4:latest",
                 "postgres:16"):
        assert violations(policy, resource(IMAGE, {"name": name, "keepLocally": True})) == [], name
    assert "windmill uses the tag 'main', which is not a release" in one(
        policy, resource(IMAGE, {"name": "ghcr.io/windmill-labs/windmill:main"}))
    assert "windmill-ee has no tag, which means :latest" in one(
        policy, resource(CONTAINER, {"image": "ghcr.io/windmill-labs/windmill-ee"}))


POSTGRES = {
    "image": "sha256:pg", "command": ["postgres", "-c", "max_connections=100"],
    "healthcheck": {"tests": ["CMD-SHELL", "pg_isready -U postgres -d windmill"]},
    "volumes": [{"volumeName": "windmill_db_data", "containerPath": "/var/lib/postgresql/data"}],
    "envs": [f"POSTGRES_PASSWORD={SECRET_VALUE}", "POSTGRES_DB=windmill"],
}


def postgres_stack(*, protect_volume: bool = True, protect_password: bool = True,
                   **overrides: Any) -> StackBuilder:
    stack = StackBuilder()
    stack.workspace("homeops-platform", "infrastructure")
    password = stack.add(PASSWORD, "windmill-db-password", {"length": 32.0}, protect=protect_password)
    volume = stack.add(VOLUME, "windmill-db-data", {"name": "windmill_db_data"}, protect=protect_volume)
    stack.add(CONTAINER, "windmill-db", {**POSTGRES, **overrides},
              depends={"envs": [password], "volumes": [volume]})
    return stack


def test_is_postgres_by_any_hint() -> None:
    stack = model.Stack(postgres_stack().resources)
    (container,) = stack.of_type(CONTAINER)
    assert docker_host.is_postgres(container, stack)
    bare = model.Item(CONTAINER, {"image": "docker.io/library/postgres:16.4"}, "u", "n", False, None)
    assert docker_host.is_postgres(bare)
    caddy = model.Item(CONTAINER, {"image": "caddy:2", "command": ["caddy", "run"]}, "u", "c", False, None)
    assert not docker_host.is_postgres(caddy)


def test_postgres_never_published() -> None:
    policy = docker_host.POSTGRES_NOT_PUBLISHED
    assert violations(policy, postgres_stack().args()) == []
    published = postgres_stack(ports=[{"internal": 5432.0, "external": 5432.0, "ip": "127.0.0.1"}])
    assert "Postgres container windmill-db publishes 1 port(s) on the Docker host" in one(policy, published.args())
    host = postgres_stack(networkMode="host")
    assert "runs in the host's network" in one(policy, host.args())


def test_published_ports_on_loopback() -> None:
    policy = docker_host.LOOPBACK
    caddy = resource(CONTAINER, {"image": "sha256:c", "ports": [{"internal": 80.0, "external": 80.0,
                                                                "ip": "127.0.0.1"}]}, name="windmill-caddy")
    assert violations(policy, caddy) == []
    lan = resource(CONTAINER, {"image": "sha256:c", "ports": [{"internal": 80.0, "external": 80.0,
                                                              "ip": "192.168.1.10"}]}, name="windmill-caddy")
    assert "Container windmill-caddy publishes port 80.0 on 192.168.1.10, not on loopback" in one(policy, lan)
    allowed = resource(CONTAINER, {"ports": [{"internal": 80.0, "external": 80.0, "ip": "192.168.1.10"}]},
                       config={"allowedBindAddresses": ["192.168.1.10"]})
    assert violations(policy, allowed) == []
    default_address = resource(CONTAINER, {"ports": [{"internal": 80.0, "external": 8080.0}]}, name="server")
    assert "publishes port 8080.0 on 0.0.0.0" in one(policy, default_address)


def test_postgres_data_volume_protected() -> None:
    policy = docker_host.DATA_PROTECTED
    assert violations(policy, postgres_stack().args()) == []
    assert "Docker volume windmill_db_data holds Windmill's database but is not protected" in one(
        policy, postgres_stack(protect_volume=False).args())
    in_container = postgres_stack(volumes=[])
    assert "keeps its data in the container itself" in one(policy, in_container.args())


def test_postgres_password_generated() -> None:
    policy = docker_host.PASSWORD_GENERATED
    assert violations(policy, postgres_stack().args()) == []
    preview = postgres_stack(envs=UNKNOWN_ARRAY_VALUE)  # secret apply of an unknown password
    assert violations(policy, preview.args()) == []
    literal = StackBuilder()
    literal.add(CONTAINER, "windmill-db", {**POSTGRES, "envs": ["POSTGRES_PASSWORD=changeme"]})
    found = violations(policy, literal.args())
    assert found == [
        "Postgres container windmill-db: POSTGRES_PASSWORD is a well-known or short value (under 16 characters).",
        "Postgres container windmill-db: its password is not generated by the stack (no RandomPassword feeds its "
        "environment), so it is written somewhere in plain text.",
    ]
    trust = postgres_stack(envs=["POSTGRES_HOST_AUTH_METHOD=trust"])
    assert "POSTGRES_HOST_AUTH_METHOD=trust lets anyone" in one(policy, trust.args())


def test_postgres_password_protected() -> None:
    policy = docker_host.PASSWORD_PROTECTED
    assert violations(policy, postgres_stack().args()) == []
    message = one(policy, postgres_stack(protect_password=False).args())
    assert "RandomPassword windmill-db-password is the password of the Postgres data volume but is not protected" \
        in message


# ------------------------------------------------------------------------------------------------
# Across policies
# ------------------------------------------------------------------------------------------------


def test_no_message_shows_a_secret_value() -> None:
    stack = postgres_stack(protect_volume=False, protect_password=False,
                           envs=[f"POSTGRES_PASSWORD={SECRET_VALUE[:8]}", "POSTGRES_HOST_AUTH_METHOD=trust"],
                           ports=[{"internal": 5432.0, "external": 5432.0, "ip": "0.0.0.0"}])  # noqa: S104
    stack.wm("variable", "leak", workspace="homeops-platform", path="f/infrastructure/db_password",
             value=SECRET_VALUE, is_secret=False)
    stack.wm("resource", "leaky", workspace="homeops-platform", path="f/infrastructure/db",
             resource_type="postgresql", value={"password": SECRET_VALUE, "dsn": f"postgres://a:{SECRET_VALUE}@h/d"})
    messages: list[str] = []
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for entry in stack.resources:
                messages += violations(policy, resource(entry.resource_type, model.plain(entry.props), name=entry.name))
        else:
            messages += violations(policy, stack.args())
    assert len(messages) >= 8
    assert not [m for m in messages if SECRET_VALUE in m or SECRET_VALUE[:8] in m]


def test_unknown_values_never_stop_a_policy() -> None:
    # A preview of a fresh stack: ids and values that come from other resources are unknown.
    stack = StackBuilder()
    stack.wm("workspace", "ws", workspace_id="homeops-platform", name="x")
    stack.wm("folder", "f", workspace="homeops-platform", name=UNKNOWN_STRING_VALUE)
    token = stack.wm("token", "t", label="x", workspace=UNKNOWN_STRING_VALUE, scopes=UNKNOWN_ARRAY_VALUE)
    stack.wm("variable", "v", depends={"value": [token]}, workspace=UNKNOWN_STRING_VALUE, path=UNKNOWN_STRING_VALUE,
             value=UNKNOWN_STRING_VALUE, is_secret=True)
    stack.add(CONTAINER, "c", {"image": UNKNOWN_STRING_VALUE, "envs": UNKNOWN_ARRAY_VALUE,
                               "ports": [{"internal": 80.0, "external": 80.0, "ip": UNKNOWN_STRING_VALUE}]})
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for entry in stack.resources:
                assert violations(policy, ResourceValidationArgs(
                    entry.resource_type, entry.props, entry.urn, entry.name, options(), None)) == [], policy.name
        else:
            assert violations(policy, stack.args()) == [], policy.name


def test_pr_preview_runs_the_pack() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "preview.yml").read_text())
    steps = workflow["jobs"]["preview"]["steps"]
    (preview,) = [s for s in steps if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert preview["with"]["policyPacks"] == "policy"
    installs = [s.get("run", "") for s in steps[: steps.index(preview)]]
    assert "python -m venv policy/.venv && policy/.venv/bin/pip install -r policy/requirements.txt" in installs
