"""The whole program under mocks, for each stack file: resources, parents, key inputs, secrets, exports."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from components.config.errors import ConfigErrors
from testkit.mocking import is_secret, plaintext_leaks, unwrap_secrets
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, PLATFORM_SECRETS, load_stack_config, run_program

WORKSPACE = "homeops:windmill:WindmillWorkspace"
WS = "pulumi-python:dynamic/windmill:Workspace"
FOLDER = "pulumi-python:dynamic/windmill:Folder"
GROUP = "pulumi-python:dynamic/windmill:Group"
MEMBER = "pulumi-python:dynamic/windmill:Member"
VARIABLE = "pulumi-python:dynamic/windmill:Variable"
RESOURCE = "pulumi-python:dynamic/windmill:Resource"
RESOURCE_TYPE = "pulumi-python:dynamic/windmill:ResourceType"
STACK_REFERENCE = "pulumi:pulumi:StackReference"

def all_secret_values(secrets: dict[str, Any]) -> list[str]:
    values = [v for k, v in secrets.items() if k != "secrets"]
    return values + list(secrets["secrets"].values())


def test_platform_stack_declares_the_platform_workspace() -> None:
    run = run_program(load_stack_config("platform"), secrets=PLATFORM_SECRETS, stack="platform")
    env = run.env
    component = env.one(WORKSPACE, "platform")
    workspace = env.one(WS, "platform-workspace")
    assert workspace.parent == component.urn
    assert workspace.plain_inputs["workspace_id"] == "homeops-platform"
    assert workspace.plain_inputs["deletion_mode"] == "archive"

    folders = {r.plain_inputs["name"] for r in env.find(FOLDER)}
    assert folders == {"infrastructure", "deployment", "monitoring", "maintenance"}
    variables = {r.plain_inputs["path"] for r in env.find(VARIABLE)}
    assert len(variables) == 6 and all(p.split("/")[1] in folders for p in variables)
    resources = {r.plain_inputs["path"]: r.plain_inputs for r in env.find(RESOURCE)}
    assert resources["f/infrastructure/postgres"]["resource_type"] == "postgresql"
    assert resources["f/infrastructure/postgres"]["value"]["password"] == "$var:f/infrastructure/postgres_password"
    assert {"c_redis", "c_slack_webhook", "c_github_token", "c_docker_registry"} == {
        r.plain_inputs["name"] for r in env.find(RESOURCE_TYPE)
    }
    # Everything is a child of the component and waits for the workspace.
    for registration in env.find(FOLDER) + env.find(VARIABLE) + env.find(RESOURCE) + env.find(RESOURCE_TYPE):
        assert registration.parent == component.urn
        assert workspace.urn in registration.dependencies
    # A resource waits for the variables it references and its custom type.
    redis = env.one(RESOURCE, "platform-resource-f/infrastructure/redis")
    assert env.one(VARIABLE, "platform-var-f/infrastructure/redis_password").urn in redis.dependencies
    assert env.one(RESOURCE_TYPE, "platform-type-c_redis").urn in redis.dependencies
    assert not env.find(STACK_REFERENCE)

    # The committed platform stack runs Windmill itself; the API waits for its readiness gate.
    gate = env.one("pulumi-python:dynamic/windmill:ReadinessGate", "windmill-ready")
    assert gate.urn in workspace.dependencies
    assert env.one("homeops:windmill:WindmillStack", "windmill")

    assert run.exports["role"] == "platform"
    assert run.exports["workspaceId"] == "homeops-platform"
    assert run.exports["workspaceUrl"] == "http://localhost/?workspace=homeops-platform"
    assert run.exports["windmillUrl"] == "http://localhost"
    assert run.exports["windmillApiUrl"] == "http://127.0.0.1"  # Caddy is bound to loopback
    assert "windmillToken" in run.secret_exports and "postgresConnectionString" in run.secret_exports


def test_secrets_are_secret_everywhere_and_never_in_plain_inputs_or_exports() -> None:
    for stack, secrets, outputs in (
        ("platform", PLATFORM_SECRETS, None),
        ("financial", FINANCIAL_SECRETS, PLATFORM_OUTPUTS),
    ):
        run = run_program(load_stack_config(stack), secrets=secrets, stack=stack, platform_outputs=outputs)
        for variable in run.env.find(VARIABLE):
            assert is_secret(variable.inputs["value"]), variable.name
            assert {"value", "encrypted_value", "api_token"} <= set(variable.additional_secret_outputs)
        for registration in run.env.registrations:
            if "api_token" in registration.inputs:
                assert is_secret(registration.inputs["api_token"]), registration.name
        for value in [*all_secret_values(secrets), PLATFORM_OUTPUTS["windmillToken"]]:
            assert list(plaintext_leaks(run.env.registrations, value)) == [], value
            public = {k: v for k, v in run.exports.items() if k not in run.secret_exports}
            assert value not in json.dumps(public, default=str)


def test_financial_stack_reads_the_platform_stack_and_declares_its_domain() -> None:
    run = run_program(
        load_stack_config("financial"), secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS
    )
    env = run.env
    reference = env.one(STACK_REFERENCE, "organization/homeops-windmill/platform")
    assert reference.read
    component = env.one(WORKSPACE, "financial")
    link = env.one("homeops:windmill:PlatformLink", "platform-link")
    automation = env.one("homeops:windmill:WorkspaceAutomation", "automation")  # schedules and settings
    assert env.one(WS, "financial-workspace").plain_inputs["workspace_id"] == "homeops-financial"
    # Every Windmill resource talks to the platform's instance with the platform's token.
    # A domain stack runs no Windmill, but waits for the platform's like the platform does (issue 10).
    gate = env.one("pulumi-python:dynamic/windmill:ReadinessGate", "windmill-ready")
    assert gate.plain_inputs["url"] == PLATFORM_OUTPUTS["windmillApiUrl"]
    assert gate.plain_inputs["healthy_answers"] == 3
    assert gate.urn in env.one(WS, "financial-workspace").dependencies
    limits = env.one("pulumi-python:dynamic/windmill:EditionLimits", "edition-limits")  # before anything else
    assert gate.urn in limits.dependencies
    for registration in env.registrations:
        if registration.typ.startswith("pulumi-python:dynamic/windmill") and registration is not gate:
            assert registration.parent in (component.urn, link.urn, automation.urn) or registration is limits
            assert registration.plain_inputs["api_url"] == PLATFORM_OUTPUTS["windmillUrl"]
            assert unwrap_secrets(registration.inputs["api_token"]) == PLATFORM_OUTPUTS["windmillToken"]
    group = env.one(GROUP, "financial-group-financial-tracker")
    assert group.plain_inputs["members"] == ["trader", "analyst"]  # usernames Windmill gave the members
    members = env.find(MEMBER)
    assert len(members) == 2 and all(m.urn in group.dependencies for m in members)
    folder = env.one(FOLDER, "financial-folder-atom")
    assert group.urn in folder.dependencies  # owned by the group, created after it
    assert {r.plain_inputs["name"] for r in env.find(RESOURCE_TYPE)} == {"c_alpaca", "c_fmp", "c_slack_webhook"}
    own = [r for r in env.find(VARIABLE) + env.find(RESOURCE) if r.plain_inputs["workspace"] == "homeops-financial"]
    assert own and all(r.plain_inputs["path"].startswith("f/atom/") for r in own)
    assert run.exports["workspaceId"] == "homeops-financial"
    assert "windmillToken" not in run.exports  # only the platform stack hands out the token


def test_a_domain_stack_can_use_an_instance_directly_without_the_platform_stack() -> None:
    config = load_stack_config("financial")
    config["homeops-windmill:windmillUrl"] = "https://other-windmill.example"
    secrets = {**FINANCIAL_SECRETS, "windmillToken": "direct-token-abcdef0123"}
    run = run_program(config, secrets=secrets, stack="financial")
    assert not run.env.find(STACK_REFERENCE)
    workspace = run.env.one(WS, "financial-workspace")
    assert workspace.plain_inputs["api_url"] == "https://other-windmill.example"
    assert unwrap_secrets(workspace.inputs["api_token"]) == "direct-token-abcdef0123"


MEDIA_STACK = {
    "homeops-windmill:role": "domain",
    "homeops-windmill:domain": "media",
    "homeops-windmill:workspace": {
        "folders": [{"name": "media", "summary": "Media stack automation"}],
        "variables": [
            {"path": "f/media/jellyfin_api_key", "secret": "jellyfin_api_key"},
            {"path": "f/media/library_root", "value": "/srv/media"},
        ],
        "resourceTypes": [{"name": "c_jellyfin", "schema": {"type": "object"}}],
        "resources": [
            {"path": "f/media/jellyfin", "type": "c_jellyfin",
             "value": {"url": "http://jellyfin:8096", "api_key": "$var:f/media/jellyfin_api_key"}},
        ],
    },
}


def test_a_third_domain_is_one_stack_file_and_no_code() -> None:
    run = run_program(
        MEDIA_STACK, secrets={"secrets": {"jellyfin_api_key": "jf-key-123"}}, stack="media",
        platform_outputs=PLATFORM_OUTPUTS,
    )
    env = run.env
    assert env.one(WS, "media-workspace").plain_inputs["workspace_id"] == "homeops-media"
    variables = {r.plain_inputs["path"]: r for r in env.find(VARIABLE)}
    assert is_secret(variables["f/media/jellyfin_api_key"].inputs["value"])
    assert not is_secret(variables["f/media/library_root"].inputs["value"])
    assert variables["f/media/library_root"].plain_inputs["is_secret"] is False
    assert env.one(RESOURCE, "media-resource-f/media/jellyfin")
    assert run.exports["workspaceId"] == "homeops-media"
    assert run.exports["workspaceUrl"] == "https://windmill.homeops.example/?workspace=homeops-media"


def platform_config(**workspace_changes: Any) -> dict[str, Any]:
    config = load_stack_config("platform")
    config["homeops-windmill:workspace"] = {**config["homeops-windmill:workspace"], **workspace_changes}
    return config


BAD_CONFIGS: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("role", {"homeops-windmill:role": "worker"}, PLATFORM_SECRETS, "homeops-windmill:role"),
    ("domain missing", {"homeops-windmill:role": "domain", "homeops-windmill:domain": ""}, FINANCIAL_SECRETS,
     "homeops-windmill:domain"),
    ("domain bad", {"homeops-windmill:role": "domain", "homeops-windmill:domain": "Media-Stack"}, FINANCIAL_SECRETS,
     "homeops-windmill:domain"),
    ("url", {"homeops-windmill:windmillUrl": "windmill.local/api"}, PLATFORM_SECRETS, "homeops-windmill:windmillUrl"),
    ("token", {"homeops-windmill:windmillStack": {"enabled": False},
               "homeops-windmill:windmillUrl": "https://windmill.example"},
     {k: v for k, v in PLATFORM_SECRETS.items() if k != "windmillToken"}, "homeops-windmill:windmillToken"),
    ("no instance", {"homeops-windmill:windmillStack": {"enabled": False}}, PLATFORM_SECRETS,
     "homeops-windmill:windmillUrl"),
    ("docker stack", {"homeops-windmill:windmillStack": {"enabled": True, "workerGroups": [{"name": "default",
                                                          "replicas": -1}]}},
     PLATFORM_SECRETS, "homeops-windmill:windmillStack.workerGroups[0].replicas"),
    ("version", {"homeops-windmill:windmillVersion": "latest"}, PLATFORM_SECRETS, "homeops-windmill:windmillVersion"),
    ("timeout", {"homeops-windmill:windmillReadTimeoutSeconds": 0}, PLATFORM_SECRETS,
     "homeops-windmill:windmillReadTimeoutSeconds"),
    ("workspace id", {"homeops-windmill:workspace": {"id": "homeops--platform"}}, PLATFORM_SECRETS,
     "homeops-windmill:workspace.id"),
    ("folder name", platform_config(folders=[{"name": "infra-structure"}]), PLATFORM_SECRETS,
     "homeops-windmill:workspace.folders[0].name"),
    ("unknown key", platform_config(colour="#fff"), PLATFORM_SECRETS, "homeops-windmill:workspace.colour"),
    ("secret not set", {}, {**PLATFORM_SECRETS, "secrets": {}}, "homeops-windmill:workspace.variables[0].secret"),
    ("variable outside folders", platform_config(variables=[{"path": "u/admin/token", "value": "x"}]),
     PLATFORM_SECRETS, "homeops-windmill:workspace.variables[0].path"),
    ("reference to another workspace", platform_config(
        resources=[{"path": "f/monitoring/x", "type": "c_x", "value": {"k": "$var:f/atom/alpaca_api_key_id"}}],
        resourceTypes=[{"name": "c_x"}]),
     PLATFORM_SECRETS, "homeops-windmill:workspace.resources[0].value.k"),
    ("same path", platform_config(
        variables=[{"path": "f/monitoring/x", "value": "v"}],
        resources=[{"path": "f/monitoring/x", "type": "postgresql"}]),
     PLATFORM_SECRETS, "homeops-windmill:workspace.resources[0].path"),
    ("undeclared custom type", platform_config(resources=[{"path": "f/monitoring/x", "type": "c_nope"}]),
     PLATFORM_SECRETS, "homeops-windmill:workspace.resources[0].type"),
    ("group of unknown member", platform_config(groups=[{"name": "ops", "members": ["nobody@x.example"]}]),
     PLATFORM_SECRETS, "homeops-windmill:workspace.groups[0].members[0]"),
    ("duplicate folder", platform_config(folders=[{"name": "a"}, {"name": "a"}]), PLATFORM_SECRETS,
     "homeops-windmill:workspace.folders[1]"),
    ("github token", {}, {k: v for k, v in PLATFORM_SECRETS.items() if k != "githubToken"},
     "homeops-windmill:githubToken"),
    ("github repo", {"homeops-windmill:githubSync": {"repository": "owner/repo", "owner": "x"}}, PLATFORM_SECRETS,
     "homeops-windmill:githubSync.repository"),
    ("docker on a domain", {"homeops-windmill:windmillStack": {"enabled": True}}, FINANCIAL_SECRETS,
     "homeops-windmill:windmillStack"),
]


@pytest.mark.parametrize(("case", "changes", "secrets", "key"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_each_config_error_names_its_key_before_any_resource(
    case: str, changes: dict[str, Any], secrets: dict[str, Any], key: str
) -> None:
    stack = "financial" if secrets is FINANCIAL_SECRETS else "platform"
    config = {**load_stack_config(stack), **changes}
    seen: list[Any] = []
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=secrets, stack=stack, platform_outputs=PLATFORM_OUTPUTS, seen=seen)
    assert any(error.key == key for error in caught.value.errors), str(caught.value)
    assert seen[0].registrations == []  # nothing declared, not even a provider
    for value in all_secret_values(secrets):
        assert value not in str(caught.value)


@pytest.mark.parametrize("key", ["windmillToken", "githubToken", "secrets"])
def test_a_credential_set_without_secret_is_refused_without_showing_it(key: str) -> None:
    seen: list[Any] = []
    with pytest.raises(ConfigErrors) as caught:
        run_program(load_stack_config("platform"), secrets=PLATFORM_SECRETS, stack="platform", seen=seen,
                    plain_keys=(key,))
    error = next(e for e in caught.value.errors if e.key == f"homeops-windmill:{key}")
    assert "--secret" in str(error)
    assert seen[0].registrations == []
    for value in all_secret_values(PLATFORM_SECRETS):
        assert value not in str(caught.value)


def test_several_problems_are_reported_together() -> None:
    config = platform_config(folders=[{"name": "bad-name"}], color="blue")
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets={**PLATFORM_SECRETS, "secrets": {}}, stack="platform")
    keys = {e.key for e in caught.value.errors}
    assert {"homeops-windmill:workspace.color", "homeops-windmill:workspace.folders[0].name"} <= keys


def test_a_variable_and_a_resource_at_one_path_are_refused_even_without_the_component() -> None:
    import pulumi

    from components.windmill.paths import PathConflictError
    from components.windmill.resources import Resource, ResourceArgs
    from components.windmill.variables import Variable, VariableArgs
    from testkit.mocking import install_mocks

    pulumi.runtime.settings.ROOT.set(None)
    install_mocks()

    @pulumi.runtime.test
    def program() -> None:
        Variable("v", VariableArgs(workspace="ws", path="f/a/shared", value="x"))
        Resource("r", ResourceArgs(workspace="ws", path="f/a/other", resource_type="t"))  # another path: fine
        with pytest.raises(PathConflictError, match="Windmill deletes the variable at a resource's path"):
            Resource("r2", ResourceArgs(workspace="ws", path="f/a/shared", resource_type="t"))
        Variable("same-kind-elsewhere", VariableArgs(workspace="other-ws", path="f/a/shared", value="y"))

    program()


TOKEN = "pulumi-python:dynamic/windmill:Token"
# The sync token lives in the sync environment by default (githubSync.environment).
ACTIONS_SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"


def test_without_wmill_sync_token_the_workspace_mints_one_for_its_sync_workflow() -> None:
    secrets = {k: v for k, v in FINANCIAL_SECRETS.items() if k != "wmillSyncToken"}
    run = run_program(load_stack_config("financial"), secrets=secrets, stack="financial",
                      platform_outputs=PLATFORM_OUTPUTS)
    component = run.env.one(WORKSPACE, "financial")
    token = run.env.one(TOKEN, "financial-sync-token")
    assert token.parent == component.urn
    assert token.plain_inputs["label"] == "github-sync homeops-financial"
    assert token.plain_inputs["workspace"] == "homeops-financial"  # usable on this workspace only
    # Least privilege and an expiry (issue 10): no variables, resources or jobs scope.
    assert token.plain_inputs["scopes"] == ["users:read", "workspaces:read", "scripts:write", "flows:write"]
    expires = dt.datetime.fromisoformat(token.plain_inputs["expiration"].replace("Z", "+00:00"))
    assert dt.datetime.now(dt.UTC) + dt.timedelta(days=30) < expires <= dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    assert run.env.one(WS, "financial-workspace").urn in token.dependencies
    assert "token" in token.additional_secret_outputs
    [secret] = [r for r in run.env.find(ACTIONS_SECRET) if r.plain_inputs["secretName"] == "WMILL_TOKEN_FINANCIAL"]
    assert is_secret(secret.inputs["value"])
    assert secret.plain_inputs["value"] == "minted-financial-sync-token-token"


def test_a_configured_wmill_sync_token_is_used_as_is() -> None:
    run = run_program(load_stack_config("financial"), secrets=FINANCIAL_SECRETS, stack="financial",
                      platform_outputs=PLATFORM_OUTPUTS)
    assert "financial-sync-token" not in run.env.names(TOKEN)
    [secret] = [r for r in run.env.find(ACTIONS_SECRET) if r.plain_inputs["secretName"] == "WMILL_TOKEN_FINANCIAL"]
    assert secret.plain_inputs["value"] == FINANCIAL_SECRETS["wmillSyncToken"]


def test_a_stack_without_github_sync_declares_no_github_resource_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi

    from components.config.github_sync import explain_disabled

    messages: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *args, **kwargs: messages.append(message))
    run = run_program(MEDIA_STACK, secrets={"secrets": {"jellyfin_api_key": "jf-key-123"}}, stack="media",
                      platform_outputs=PLATFORM_OUTPUTS)
    assert messages == [explain_disabled("homeops-windmill:githubSync")]
    assert [r for r in run.env.registrations if r.typ.startswith(("github:", "pulumi:providers:github"))] == []
    assert run.env.find(TOKEN) == []
    assert "syncWorkflowPath" not in run.exports


def test_platform_link_provisions_exactly_the_two_allowed_directions() -> None:
    run = run_program(load_stack_config("financial"), secrets=FINANCIAL_SECRETS, stack="financial",
                      platform_outputs=PLATFORM_OUTPUTS)
    env = run.env
    link = env.one("homeops:windmill:PlatformLink", "platform-link")
    services = env.one(TOKEN, "platform-link-services-token")
    triggers = env.one(TOKEN, "platform-link-triggers-token")
    # The domain may run the platform's alert dispatcher, in the platform workspace only.
    assert services.plain_inputs["workspace"] == "homeops-platform"
    assert services.plain_inputs["scopes"] == ["jobs:run:flows:f/monitoring/alert_dispatcher"]
    # The platform may start the domain's nightly scan, in the domain workspace only.
    assert triggers.plain_inputs["workspace"] == "homeops-financial"
    assert triggers.plain_inputs["scopes"] == ["jobs:run:flows:f/atom/nightly_scan"]
    stored = {(r.plain_inputs["workspace"], r.plain_inputs["path"]): r for r in env.find(VARIABLE)
              if r.parent == link.urn}
    service_var = stored[("homeops-financial", "f/atom/platform_services_token")]
    trigger_var = stored[("homeops-platform", "f/deployment/financial_trigger_token")]
    for variable, token in ((service_var, services), (trigger_var, triggers)):
        assert is_secret(variable.inputs["value"]) and variable.plain_inputs["is_secret"] is True
        assert variable.plain_inputs["value"] == f"minted-{token.name}-token"
    # Created once the domain's workspace and folders exist.
    for needed in (env.one(WS, "financial-workspace"), env.one(FOLDER, "financial-folder-atom")):
        assert needed.urn in services.dependencies and needed.urn in service_var.dependencies


LINK_ERRORS = [
    ("on the platform", "platform", {"services": {"variable": "f/monitoring/x", "flows": ["f/monitoring/y"]}},
     "homeops-windmill:platformLink"),
    ("trigger another domain's flow", "financial", {"triggers": {"flows": ["f/media/scan"]}},
     "homeops-windmill:platformLink.triggers.flows[0]"),
    ("service token outside own folders", "financial",
     {"services": {"variable": "f/monitoring/token", "flows": ["f/monitoring/alert_dispatcher"]}},
     "homeops-windmill:platformLink.services.variable"),
    ("service token without a place", "financial", {"services": {"flows": ["f/monitoring/alert_dispatcher"]}},
     "homeops-windmill:platformLink.services.variable"),
    ("bad runnable path", "financial", {"services": {"variable": "f/atom/t", "scripts": ["monitoring/alert"]}},
     "homeops-windmill:platformLink.services.scripts[0]"),
    ("unknown direction", "financial", {"domains": {"media": ["f/media/x"]}}, "homeops-windmill:platformLink.domains"),
    ("collides with a variable", "financial",
     {"services": {"variable": "f/atom/fmp_api_key", "flows": ["f/monitoring/alert_dispatcher"]}},
     "homeops-windmill:platformLink.services.variable"),
]


@pytest.mark.parametrize(("case", "stack", "link", "key"), LINK_ERRORS, ids=[c[0] for c in LINK_ERRORS])
def test_platform_link_refuses_what_the_architecture_forbids(case: str, stack: str, link: dict[str, Any],
                                                              key: str) -> None:
    config = {**load_stack_config(stack), "homeops-windmill:platformLink": link}
    secrets = FINANCIAL_SECRETS if stack == "financial" else PLATFORM_SECRETS
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=secrets, stack=stack, platform_outputs=PLATFORM_OUTPUTS)
    assert key in {e.key for e in caught.value.errors}, str(caught.value)
