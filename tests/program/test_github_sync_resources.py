"""The resources GitHubSync declares, under mocks: files, Actions variables and the token secret per
workspace, the environment that holds the token, the explicit GitHub provider, and no secret in a
plain field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from components import github_sync as gs
from components.config import github_sync as sync_config
from tests.program.github_sync_cases import (
    ALL_SECRETS,
    GITHUB_TOKEN,
    WINDMILL_URL,
    WORKSPACE_TOKENS,
    WORKSPACES,
    args_for,
    load_workflow,
    parse,
)


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


def test_the_github_token_reaches_only_the_github_provider_as_a_secret(mocks: Recorder) -> None:
    @pulumi.runtime.test
    def run() -> None:
        gs.GitHubSync("platform", args_for("platform"), windmill_url=WINDMILL_URL,
                      workspace_token=WORKSPACE_TOKENS["platform"], github_token=GITHUB_TOKEN)

    run()
    assert secret_value(mocks.named("platform-token").inputs["value"]) == WORKSPACE_TOKENS["platform"]
    assert secret_value(mocks.named("platform-github").inputs["token"]) == GITHUB_TOKEN
