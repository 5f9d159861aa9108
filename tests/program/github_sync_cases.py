"""What the GitHubSync tests run on: the two real stacks' sync configs and a third domain's, the
secrets that must never leak, and how each test parses a config or reads a generated workflow."""

from __future__ import annotations

from typing import Any

import yaml

from components.config import github_sync as sync_config

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


def load_workflow(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    # YAML 1.1 reads a bare `on:` key as True; the generator must quote it.
    assert "on" in document and True not in document
    return document
