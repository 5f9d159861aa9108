"""GitHubSync's config (``githubSync``): defaults, overrides, every problem named by its key, the
secret names per domain, the sync token's scopes and rotation, and the explanation when it is off."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from components.config import github_sync as sync_config
from components.config.errors import ConfigErrors
from tests.program.github_sync_cases import WINDMILL_VERSION, args_for, parse


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


def test_not_configured_is_none_and_the_explanation_names_the_key() -> None:
    assert sync_config.GitHubSyncArgs.from_config(
        {}, workspace_id="homeops-platform", domain=None, windmill_version=WINDMILL_VERSION
    ) is None
    assert "homeops-windmill:githubSync.repository" in sync_config.explain_disabled()
