"""The policy pack (policy/) as a whole: every policy named, levelled and documented, the pack's pins,
how Windmill resources are recognised, unknown values during preview, that no message ever shows a
secret value, and that the PR preview runs the pack. Each group of rules has its own file
(test_policy_<group>.py), with a resource or stack that passes and one that violates each policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.homeops_policy import PACK_NAME, POLICIES, model
from tests.unit.policy_stacks import (
    CONTAINER,
    GENERIC,
    SECRET_VALUE,
    TYPE_NAMES,
    WM,
    StackBuilder,
    options,
    postgres_stack,
    resource,
    violations,
)

ROOT = Path(__file__).resolve().parents[2]

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
