"""GitHubSync: config parsing, the generated documents, and the resources it declares under mocks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from components import github_sync as gs
from components.config import github_sync as sync_config
from components.config.errors import ConfigErrors

WINDMILL_VERSION = "v1.819.0"
WINDMILL_URL = "https://windmill.home.example"
GITHUB_TOKEN = "github_pat_SENTINEL_github_token_value"
WORKSPACE_TOKENS = {
    "platform": "wm_SENTINEL_platform_token",
    "financial": "wm_SENTINEL_financial_token",
    "media": "wm_SENTINEL_media_token",
}
ALL_SECRETS = (GITHUB_TOKEN, *WORKSPACE_TOKENS.values())

# (component name, workspace id, domain, githubSync config): the two real stacks and a third domain.
WORKSPACES: list[tuple[str, str, str | None, dict[str, Any]]] = [
    ("platform", "homeops-platform", None, {"repository": "HomeOps", "owner": "homeops-org"}),
    (
        "financial",
        "homeops-financial",
        "financial",
        {
            "repository": "HomeOps",
            "owner": "homeops-org",
            "folder": "subprojects/financial-tracker/windmill",
            "workflowFile": "financial-sync.yml",
        },
    ),
    ("media", "homeops-media", "media", {"repository": "HomeOps", "owner": "homeops-org"}),
]


def parse(data: dict[str, Any] | None, *, domain: str | None = None, version: str = WINDMILL_VERSION) -> Any:
    workspace = "homeops-platform" if domain is None else f"homeops-{domain}"
    return sync_config.GitHubSyncArgs.from_config(data, workspace_id=workspace, domain=domain, windmill_version=version)


def args_for(name: str) -> sync_config.GitHubSyncArgs:
    for component, workspace, domain, data in WORKSPACES:
        if component == name:
            args = sync_config.GitHubSyncArgs.from_config(
                data, workspace_id=workspace, domain=domain, windmill_version=WINDMILL_VERSION
            )
            assert args is not None
            return args
    raise KeyError(name)


# ------------------------------------------------------------------------------------------------
# Config
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [None, {}, {"owner": "homeops-org"}, {"repository": None}])
def test_no_repository_means_no_component(data: dict[str, Any] | None) -> None:
    assert parse(data) is None


def test_platform_defaults() -> None:
    args = parse({"repository": "HomeOps", "owner": "homeops-org"})
    assert args.folder == "windmill"
    assert args.workflow_path == ".github/workflows/windmill-sync.yml"
    assert args.wmill_yaml_path == "windmill/wmill.yaml"
    assert args.branch == "main"
    assert args.runs_on == ("ubuntu-latest",)
    # The image tag's "v" is not part of an npm version.
    assert args.cli_version == "1.819.0"
    # The token lives in an environment only protected branches may deploy to, unless opted out.
    assert args.environment == sync_config.EnvironmentArgs(name="windmill-sync", protected_branches_only=True)
    assert args.overwrite_wmill_yaml is False
    assert args.manage_wmill_yaml is True


def test_domain_defaults_and_overrides() -> None:
    media = parse({"repository": "HomeOps", "owner": "o"}, domain="media")
    assert media.folder == "subprojects/media/windmill"
    assert media.workflow_path == ".github/workflows/media-sync.yml"
    assert media.environment == sync_config.EnvironmentArgs(name="windmill-sync-media")
    financial = args_for("financial")
    assert financial.folder == "subprojects/financial-tracker/windmill"
    assert financial.workflow_path == ".github/workflows/financial-sync.yml"


def test_full_config() -> None:
    args = parse(
        {
            "repository": "HomeOps",
            "owner": "homeops-org",
            "branch": "trunk",
            "runsOn": ["self-hosted", "homelab"],
            "nodeVersion": "24",
            "cliVersion": "1.650.2",
            "overwriteWmillYaml": "true",
            "manageWmillYaml": True,
            "overwriteWorkflow": False,
            "environment": {
                "name": "windmill",
                "reviewers": {"users": [101, 102.0], "teams": ["7"]},
                "preventSelfReview": True,
                "protectedBranchesOnly": True,
            },
        },
        domain="financial",
    )
    assert args.branch == "trunk"
    assert args.runs_on == ("self-hosted", "homelab")
    assert args.node_version == "24"
    assert args.cli_version == "1.650.2"
    assert args.overwrite_wmill_yaml is True
    assert args.overwrite_workflow is False
    assert args.environment == sync_config.EnvironmentArgs(
        name="windmill",
        reviewer_users=(101, 102),
        reviewer_teams=(7,),
        prevent_self_review=True,
        protected_branches_only=True,
    )


@pytest.mark.parametrize(
    ("data", "version", "key"),
    [
        ({"repository": "HomeOps", "owner": "o", "repo": "x"}, WINDMILL_VERSION, "githubSync.repo"),
        ({"repository": "homeops-org/HomeOps", "owner": "o"}, WINDMILL_VERSION, "githubSync.repository"),
        ({"repository": "HomeOps"}, WINDMILL_VERSION, "githubSync.owner"),
        ({"repository": "HomeOps", "owner": "o", "folder": "../windmill"}, WINDMILL_VERSION, "githubSync.folder"),
        ({"repository": "HomeOps", "owner": "o", "folder": "/windmill"}, WINDMILL_VERSION, "githubSync.folder"),
        (
            {"repository": "HomeOps", "owner": "o", "workflowFile": ".github/workflows/x.yml"},
            WINDMILL_VERSION,
            "githubSync.workflowFile",
        ),
        ({"repository": "HomeOps", "owner": "o", "runsOn": []}, WINDMILL_VERSION, "githubSync.runsOn"),
        (
            {"repository": "HomeOps", "owner": "o", "runsOn": ["ok", "${{ evil }}"]},
            WINDMILL_VERSION,
            "githubSync.runsOn[1]",
        ),
        ({"repository": "HomeOps", "owner": "o", "branch": "a..b"}, WINDMILL_VERSION, "githubSync.branch"),
        # No exact server version to derive the CLI pin from, and none given.
        ({"repository": "HomeOps", "owner": "o"}, "latest", "githubSync.cliVersion"),
        ({"repository": "HomeOps", "owner": "o", "cliVersion": "^1.600"}, WINDMILL_VERSION, "githubSync.cliVersion"),
        (
            {"repository": "HomeOps", "owner": "o", "overwriteWmillYaml": "yes"},
            WINDMILL_VERSION,
            "githubSync.overwriteWmillYaml",
        ),
        ({"repository": "HomeOps", "owner": "o", "environment": {}}, WINDMILL_VERSION, None),
        (
            {"repository": "HomeOps", "owner": "o", "environment": {"name": "a/b"}},
            WINDMILL_VERSION,
            "githubSync.environment.name",
        ),
        (
            {"repository": "HomeOps", "owner": "o", "environment": {"enabled": "False "}},
            WINDMILL_VERSION,
            None,
        ),
        (
            {"repository": "HomeOps", "owner": "o", "environment": {"enabled": "no"}},
            WINDMILL_VERSION,
            "githubSync.environment.enabled",
        ),
        (
            {"repository": "HomeOps", "owner": "o", "token": {"rotateAfterDays": 90}},
            WINDMILL_VERSION,
            "githubSync.token.rotateAfterDays",
        ),
        (
            {"repository": "HomeOps", "owner": "o", "token": {"lifetimeDays": 1000}},
            WINDMILL_VERSION,
            "githubSync.token.lifetimeDays",
        ),
        (
            {"repository": "HomeOps", "owner": "o", "token": {"extraScopes": ["everything"]}},
            WINDMILL_VERSION,
            "githubSync.token.extraScopes[0]",
        ),
        (
            {"repository": "HomeOps", "owner": "o", "token": {"scopes": ["apps:write"]}},
            WINDMILL_VERSION,
            "githubSync.token.scopes",
        ),
        (
            {"repository": "HomeOps", "owner": "o", "environment": {"name": "w", "reviewers": {"users": ["me"]}}},
            WINDMILL_VERSION,
            "githubSync.environment.reviewers.users[0]",
        ),
        (
            {
                "repository": "HomeOps",
                "owner": "o",
                "environment": {"name": "w", "reviewers": {"teams": [1, 2, 3, 4, 5, 6, 7]}},
            },
            WINDMILL_VERSION,
            "githubSync.environment.reviewers.teams",
        ),
    ],
)
def test_config_errors_name_the_key(data: dict[str, Any], version: str, key: str | None) -> None:
    if key is None:
        # An empty environment object is the default environment; enabled false (any case) is none.
        expected = None if data["environment"] else sync_config.EnvironmentArgs(name="windmill-sync")
        assert parse(data, version=version).environment == expected
        return
    with pytest.raises(ConfigErrors) as error:
        parse(data, version=version)
    assert error.value.keys == {f"homeops-windmill:{key}"}


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigErrors) as error:
        parse({"repository": "HomeOps", "branch": "a..b", "runsOn": [], "overwriteWmillYaml": "yes", "repo": "x"})
    assert error.value.keys == {
        f"homeops-windmill:githubSync.{key}" for key in ("repo", "owner", "branch", "runsOn", "overwriteWmillYaml")
    }


def test_bad_domain_or_workspace_is_rejected() -> None:
    with pytest.raises(ValueError, match="domain"):
        sync_config.GitHubSyncArgs.from_config(
            {"repository": "r", "owner": "o"}, workspace_id="w", domain="Bad Domain", windmill_version="1.0.0"
        )
    with pytest.raises(ValueError, match="workspace_id"):
        sync_config.GitHubSyncArgs.from_config(
            {"repository": "r", "owner": "o"}, workspace_id="a b", domain=None, windmill_version="1.0.0"
        )


@pytest.mark.parametrize(
    ("domain", "suffix"),
    [(None, ""), ("financial", "_FINANCIAL"), ("smart-home", "_SMART_HOME"), ("media2", "_MEDIA2")],
)
def test_secret_names(domain: str | None, suffix: str) -> None:
    names = sync_config.SyncNames.for_domain(domain)
    assert names == sync_config.SyncNames(f"WMILL_URL{suffix}", f"WMILL_WORKSPACE{suffix}", f"WMILL_TOKEN{suffix}")
    for name in (names.url_variable, names.workspace_variable, names.token_secret):
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name)


def test_explain_disabled_names_the_keys() -> None:
    message = sync_config.explain_disabled()
    assert message.startswith("GitHub sync not configured: set homeops-windmill:githubSync.repository")
    # wmillSyncToken is optional (the stack mints one): the message must not call it required.
    assert "the secret homeops-windmill:githubToken to declare" in message
    assert "unless homeops-windmill:wmillSyncToken is set" in message
    assert "homeops-windmill:githubToken" in message
    assert "homeops-windmill:wmillSyncToken" in message


# ------------------------------------------------------------------------------------------------
# Generated documents
# ------------------------------------------------------------------------------------------------


def load_workflow(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    # YAML 1.1 reads a bare `on:` key as True; the generator must quote it.
    assert "on" in document and True not in document
    return document


@pytest.mark.parametrize("name", ["platform", "financial", "media"])
def test_workflow_structure(name: str) -> None:
    args = args_for(name)
    text = gs.render_workflow(args)
    wf = load_workflow(text)
    suffix = sync_config.secret_suffix(args.domain)

    # The text is a dump of the data: parsing it gives the document back.
    assert wf == gs.build_workflow(args)
    assert text.startswith("# Managed by Pulumi")

    # Triggers: push to the branch, filtered by the workspace folder; manual runs for the first sync.
    assert wf["on"] == {
        "push": {"branches": ["main"], "paths": [f"{args.folder}/**"]},
        "workflow_dispatch": {},
    }
    assert set(wf["jobs"]) == {"sync"}
    job = wf["jobs"]["sync"]
    # Only on the sync branch (a manual run from any other branch is skipped), never for [WM] commits.
    assert job["if"] == (
        "${{ github.ref == 'refs/heads/main' && !startsWith(github.event.head_commit.message, '[WM]') }}"
    )
    assert job["runs-on"] == "ubuntu-latest"
    assert job["environment"] == sync_config.default_environment_name(args.domain)

    # Least privilege: nothing at the top, read-only contents for the one job.
    assert wf["permissions"] == {}
    assert job["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {"group": f"windmill-sync-{args.workspace_id}", "cancel-in-progress": False}

    checkout, node, install, record, push = job["steps"]
    # Who pushed which commit to which workspace is on the run (cross-system calls are visible), and
    # the record step never sees the token.
    assert record["env"]["ACTOR"] == "${{ github.actor }}" and "WMILL_TOKEN" not in record["env"]
    assert record["run"].startswith('echo "::notice title=Windmill sync::$ACTOR pushes $COMMIT to $WMILL_WORKSPACE')
    assert checkout["uses"] == "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
    assert checkout["with"] == {"persist-credentials": False}
    assert node["uses"] == "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020"
    assert node["with"]["package-manager-cache"] is False
    assert install["run"] == "npm install --global windmill-cli@1.819.0"

    assert push["working-directory"] == args.folder
    assert push["env"] == {
        "WMILL_URL": f"${{{{ vars.WMILL_URL{suffix} }}}}",
        "WMILL_WORKSPACE": f"${{{{ vars.WMILL_WORKSPACE{suffix} }}}}",
        "WMILL_TOKEN": f"${{{{ secrets.WMILL_TOKEN{suffix} }}}}",
    }
    command = push["run"].split()
    assert command[:3] == ["wmill", "sync", "push"]
    for flag in ("--yes", "--skip-variables", "--skip-secrets", "--skip-resources"):
        assert flag in command
    assert push["run"].endswith('--workspace "$WMILL_WORKSPACE" --token "$WMILL_TOKEN" --base-url "$WMILL_URL"')
    # Values reach scripts only through env; no expression is expanded into a shell script.
    for step in job["steps"]:
        assert "${{" not in step.get("run", "")
    # Each pinned action carries its tag as a comment for humans and Dependabot.
    assert "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1" in text
    assert "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0" in text


def test_workflows_of_different_workspaces_do_not_share_a_concurrency_group() -> None:
    groups = {gs.build_workflow(args_for(n))["concurrency"]["group"] for n in ("platform", "financial", "media")}
    assert len(groups) == 3


def test_workflow_with_environment_and_self_hosted_runner() -> None:
    args = parse(
        {
            "repository": "HomeOps",
            "owner": "o",
            "branch": "trunk",
            "runsOn": ["self-hosted", "homelab"],
            "cliVersion": "1.650.2",
            "environment": {"name": "windmill-financial"},
        },
        domain="financial",
    )
    wf = load_workflow(gs.render_workflow(args))
    job = wf["jobs"]["sync"]
    assert wf["on"]["push"]["branches"] == ["trunk"]
    assert job["if"].startswith("${{ github.ref == 'refs/heads/trunk' && ")
    assert job["runs-on"] == ["self-hosted", "homelab"]
    assert job["environment"] == "windmill-financial"
    assert job["steps"][2]["run"] == "npm install --global windmill-cli@1.650.2"


def test_wmill_yaml_keeps_pulumi_owned_items_out_of_scope() -> None:
    text = gs.render_wmill_yaml(args_for("platform"))
    document = yaml.safe_load(text)
    assert document == gs.build_wmill_yaml()
    assert document["includes"] == ["f/**"]
    assert document["excludes"] == []
    assert document["defaultTs"] == "bun"
    for key in ("skipVariables", "skipSecrets", "skipResources", "skipResourceTypes"):
        assert document[key] is True, key
    for key in (
        "includeSchedules",
        "includeTriggers",
        "includeUsers",
        "includeGroups",
        "includeSettings",
        "includeKey",
    ):
        assert document[key] is False, key
    # Absent, these fall back to defaults that differ between wmill versions and `wmill init`
    # (found by tests/wmill with wmill 1.819: the legacy sync behaviour v0 was used).
    assert (document["syncBehavior"], document["nonDottedPaths"]) == ("v1", False)
    assert document["skipWorkspaceDependencies"] is False and document["skipDatatableMigrations"] is False


# ------------------------------------------------------------------------------------------------
# Resources under mocks
# ------------------------------------------------------------------------------------------------


class Recorder(pulumi.runtime.Mocks):
    """Records every resource registration and echoes the inputs back as state."""

    def __init__(self) -> None:
        self.resources: list[MockResourceArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> dict:
        return {}

    def of_type(self, suffix: str) -> list[MockResourceArgs]:
        return [r for r in self.resources if r.typ.endswith(suffix)]

    def named(self, name: str) -> MockResourceArgs:
        (found,) = [r for r in self.resources if r.name == name]
        return found


@pytest.fixture
def mocks() -> Iterator[Recorder]:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="homeops-windmill", stack="platform", preview=False)
    # No stack config at all: the component takes everything, the GitHub token included, as arguments.
    pulumi.runtime.set_all_config({})
    yield recorder


def secret_value(value: Any) -> Any:
    assert rpc.is_rpc_secret(value), f"expected a secret, got {value!r}"
    return rpc.unwrap_rpc_secret(value)


def plain_strings(value: Any) -> Iterator[str]:
    """Every string reachable from ``value`` that is not inside a secret wrapper."""
    if rpc.is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from plain_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from plain_strings(item)


def declare_all(recorder: Recorder) -> None:
    @pulumi.runtime.test
    def run() -> None:
        for name, _workspace, _domain, _data in WORKSPACES:
            gs.GitHubSync(
                name,
                args_for(name),
                windmill_url=WINDMILL_URL,
                workspace_token=WORKSPACE_TOKENS[name],
                github_token=GITHUB_TOKEN,
            )

    # The decorator waits for every registration, so assertions run after it (docs/pulumi-notes.md §14.2).
    run()


def test_resources_per_workspace(mocks: Recorder) -> None:
    declare_all(mocks)

    for name, workspace, domain, _data in WORKSPACES:
        args = args_for(name)
        suffix = sync_config.secret_suffix(domain)

        workflow = mocks.named(f"{name}-workflow").inputs
        assert workflow["repository"] == "HomeOps"
        assert workflow["branch"] == "main"
        assert workflow["file"] == args.workflow_path
        assert workflow["content"] == gs.render_workflow(args)
        assert workflow["overwriteOnCreate"] is True
        assert "Pulumi" in workflow["commitMessage"]

        wmill_yaml = mocks.named(f"{name}-wmill-yaml").inputs
        assert wmill_yaml["file"] == f"{args.folder}/wmill.yaml"
        assert yaml.safe_load(wmill_yaml["content"]) == gs.build_wmill_yaml()
        # An existing hand-written wmill.yaml is never replaced by default.
        assert wmill_yaml["overwriteOnCreate"] is False
        assert "Pulumi" in wmill_yaml["commitMessage"]

        url = mocks.named(f"{name}-url").inputs
        assert url == {"repository": "HomeOps", "variableName": f"WMILL_URL{suffix}", "value": WINDMILL_URL}
        ws = mocks.named(f"{name}-workspace").inputs
        assert ws == {"repository": "HomeOps", "variableName": f"WMILL_WORKSPACE{suffix}", "value": workspace}

        token = mocks.named(f"{name}-token")
        assert token.typ == "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
        assert token.inputs["environment"] == sync_config.default_environment_name(domain)
        assert token.inputs["secretName"] == f"WMILL_TOKEN{suffix}"
        assert token.inputs["repository"] == "HomeOps"
        environment = mocks.named(f"{name}-environment").inputs
        assert environment["deploymentBranchPolicy"] == {"protectedBranches": True, "customBranchPolicies": False}
        assert secret_value(token.inputs["value"]) == WORKSPACE_TOKENS[name]
        # Only the non-deprecated argument is used.
        assert not {"plaintextValue", "encryptedValue", "valueEncrypted"} & set(token.inputs)

    expected_names = {
        "platform": ("WMILL_URL", "WMILL_WORKSPACE", "WMILL_TOKEN"),
        "financial": ("WMILL_URL_FINANCIAL", "WMILL_WORKSPACE_FINANCIAL", "WMILL_TOKEN_FINANCIAL"),
        "media": ("WMILL_URL_MEDIA", "WMILL_WORKSPACE_MEDIA", "WMILL_TOKEN_MEDIA"),
    }
    for name, (url_name, ws_name, token_name) in expected_names.items():
        assert mocks.named(f"{name}-url").inputs["variableName"] == url_name
        assert mocks.named(f"{name}-workspace").inputs["variableName"] == ws_name
        assert mocks.named(f"{name}-token").inputs["secretName"] == token_name

    assert len(mocks.of_type("repositoryFile:RepositoryFile")) == 6
    assert len(mocks.of_type("actionsVariable:ActionsVariable")) == 6
    assert len(mocks.of_type("actionsEnvironmentSecret:ActionsEnvironmentSecret")) == 3
    assert len(mocks.of_type("repositoryEnvironment:RepositoryEnvironment")) == 3
    assert mocks.of_type("actionsSecret:ActionsSecret") == []


def test_without_an_environment_the_token_is_a_repository_secret(mocks: Recorder) -> None:
    args = parse({"repository": "HomeOps", "owner": "o", "environment": {"enabled": False}}, domain="media")

    @pulumi.runtime.test
    def run() -> None:
        gs.GitHubSync("media", args, windmill_url=WINDMILL_URL, workspace_token="t", github_token=GITHUB_TOKEN)

    run()
    assert mocks.named("media-token").typ == "github:index/actionsSecret:ActionsSecret"
    assert mocks.of_type("repositoryEnvironment:RepositoryEnvironment") == []
    job = load_workflow(mocks.named("media-workflow").inputs["content"])["jobs"]["sync"]
    assert "environment" not in job and job["if"].startswith("${{ github.ref == 'refs/heads/main'")


def test_the_sync_token_has_least_privilege_and_rotates_before_it_expires() -> None:
    token = parse({"repository": "HomeOps", "owner": "o"}).token
    assert token.scopes == ("users:read", "workspaces:read", "scripts:write", "flows:write")
    assert (token.lifetime_days, token.rotate_after_days) == (90, 60)
    start = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    expiries = {token.expiration(start + dt.timedelta(days=d)) for d in range(0, 400)}
    for day in range(0, 400):
        now = start + dt.timedelta(days=day)
        expires = dt.datetime.fromisoformat(token.expiration(now).replace("Z", "+00:00"))
        # Valid now, and replaced (a new window, a new expiry) at least 30 days before it lapses.
        assert expires - token.rotation_due(now) == dt.timedelta(days=30)
        assert expires > now + dt.timedelta(days=30)
    # One expiry per 60-day window: a no-change preview inside a window stays a no-change preview.
    assert 6 <= len(expiries) <= 8
    custom = parse({"repository": "HomeOps", "owner": "o",
                    "token": {"extraScopes": ["apps:write"], "lifetimeDays": 30, "rotateAfterDays": 7}}).token
    assert custom.scopes[-1] == "apps:write" and custom.rotate_after_days == 7


def test_explicit_provider_with_owner_and_secret_token(mocks: Recorder) -> None:
    declare_all(mocks)
    providers = mocks.of_type("pulumi:providers:github")
    assert {p.name for p in providers} == {"platform-github", "financial-github", "media-github"}
    for provider in providers:
        assert provider.inputs["owner"] == "homeops-org"
        assert secret_value(provider.inputs["token"]) == GITHUB_TOKEN
    # Every GitHub resource goes through its component's provider, never the ambient default one.
    for resource in mocks.resources:
        if resource.typ.startswith("github:"):
            component = resource.name.split("-", 1)[0]
            assert resource.provider is not None
            assert f"pulumi:providers:github::{component}-github::" in resource.provider


def test_no_secret_in_a_non_secret_field(mocks: Recorder) -> None:
    declare_all(mocks)
    assert mocks.resources
    for resource in mocks.resources:
        for text in plain_strings(resource.inputs):
            for secret in ALL_SECRETS:
                assert secret not in text, f"{resource.typ} {resource.name} leaks a secret"


def test_environment_holds_the_token(mocks: Recorder) -> None:
    args = parse(
        {
            "repository": "HomeOps",
            "owner": "homeops-org",
            "environment": {"name": "windmill", "reviewers": {"users": [42]}, "protectedBranchesOnly": True},
        },
        domain="financial",
    )

    @pulumi.runtime.test
    def run() -> None:
        gs.GitHubSync("financial", args, windmill_url=WINDMILL_URL, workspace_token=WORKSPACE_TOKENS["financial"],
                      github_token=GITHUB_TOKEN)

    run()
    environment = mocks.named("financial-environment")
    assert environment.typ == "github:index/repositoryEnvironment:RepositoryEnvironment"
    assert environment.inputs["environment"] == "windmill"
    assert environment.inputs["reviewers"] == [{"users": [42.0], "teams": []}]
    assert environment.inputs["deploymentBranchPolicy"] == {
        "protectedBranches": True,
        "customBranchPolicies": False,
    }
    token = mocks.named("financial-token")
    assert token.typ == "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
    assert token.inputs["environment"] == "windmill"
    assert token.inputs["secretName"] == "WMILL_TOKEN_FINANCIAL"
    assert secret_value(token.inputs["value"]) == WORKSPACE_TOKENS["financial"]
    assert mocks.of_type("actionsSecret:ActionsSecret") == []
    workflow = load_workflow(mocks.named("financial-workflow").inputs["content"])
    assert workflow["jobs"]["sync"]["environment"] == "windmill"


def test_existing_wmill_yaml_can_be_overwritten_or_left_alone(mocks: Recorder) -> None:
    overwrite = parse({"repository": "HomeOps", "owner": "o", "overwriteWmillYaml": True}, domain="media")
    unmanaged = parse({"repository": "HomeOps", "owner": "o", "manageWmillYaml": False}, domain="financial")

    @pulumi.runtime.test
    def run() -> None:
        gs.GitHubSync("media", overwrite, windmill_url=WINDMILL_URL, workspace_token="t1", github_token=GITHUB_TOKEN)
        gs.GitHubSync("financial", unmanaged, windmill_url=WINDMILL_URL, workspace_token="t2",
                      github_token=GITHUB_TOKEN)

    run()
    assert mocks.named("media-wmill-yaml").inputs["overwriteOnCreate"] is True
    files = {r.name for r in mocks.of_type("repositoryFile:RepositoryFile")}
    assert files == {"media-workflow", "media-wmill-yaml", "financial-workflow"}


def test_not_configured_is_none_and_the_explanation_names_the_key() -> None:
    assert sync_config.GitHubSyncArgs.from_config(
        {}, workspace_id="homeops-platform", domain=None, windmill_version=WINDMILL_VERSION
    ) is None
    assert "homeops-windmill:githubSync.repository" in sync_config.explain_disabled()


def test_the_github_token_reaches_only_the_github_provider_as_a_secret(mocks: Recorder) -> None:
    @pulumi.runtime.test
    def run() -> None:
        gs.GitHubSync("platform", args_for("platform"), windmill_url=WINDMILL_URL,
                      workspace_token=WORKSPACE_TOKENS["platform"], github_token=GITHUB_TOKEN)

    run()
    assert secret_value(mocks.named("platform-token").inputs["value"]) == WORKSPACE_TOKENS["platform"]
    assert secret_value(mocks.named("platform-github").inputs["token"]) == GITHUB_TOKEN
