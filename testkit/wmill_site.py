"""An emulated Windmill set up the way the stacks set it up, for the real-CLI tier.

The workspace, a folder, a secret, a variable, a resource and the workflow's token are created by
the project's own dynamic providers (check, then create, as the engine calls them), and the
GitHubSync Args are those of the committed platform and financial stacks. The token has the scopes
and the expiry the stack gives it (``SyncTokenArgs``).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config.github_sync import GitHubSyncArgs, SyncTokenArgs
from components.windmill.folders import FolderProvider
from components.windmill.resources import ResourceProvider
from components.windmill.tokens import TokenProvider
from components.windmill.variables import VariableProvider
from components.windmill.workspaces import WorkspaceProvider
from testkit.tools import REPO_ROOT, pinned_windmill_version
from testkit.wmill_workflow import WorkflowRunner
from windmill_emulator import WindmillEmulator

FIXTURES = REPO_ROOT / "tests" / "wmill" / "fixtures"
FOLDER = "ops"
SECRET_PATH = f"f/{FOLDER}/db_password"
VARIABLE_PATH = f"f/{FOLDER}/region"
RESOURCE_PATH = f"f/{FOLDER}/db"


@dataclass
class Site:
    """An emulated instance with one workspace provisioned like a stack does it."""

    emulator: WindmillEmulator
    workspace: str
    token: str  # minted like the stack's sync token: a Token limited to the workspace

    def managed_objects(self) -> dict[str, Any]:
        """Everything Pulumi manages in the workspace, as stored (secrets as ciphertext)."""
        store = self.emulator.store
        with store.lock:
            return copy.deepcopy(
                {
                    "folders": store.ws_folders(self.workspace),
                    "variables": store.ws_variables(self.workspace),
                    "resources": store.ws_resources(self.workspace),
                    "resource_types": store.ws_resource_types(self.workspace),
                }
            )


def _declare(provider: Any, connection: dict[str, str], **inputs: Any) -> dict[str, Any]:
    """What the engine does for a new resource: check (defaults, validation), then create."""
    checked = provider.check({}, {**inputs, **connection})
    assert not checked.failures, checked.failures
    return dict(provider.create(checked.inputs).outs)


def mint_sync_token(emulator: WindmillEmulator, workspace: str, scopes: Sequence[str] | None = None) -> str:
    """A token as the stack mints it for the workflow: limited to ``workspace``, with the stack's
    scopes (or ``scopes``) and the expiry of the current rotation window."""
    rotation = SyncTokenArgs()
    connection = {"api_url": emulator.url, "api_token": emulator.admin_token}
    return str(_declare(
        TokenProvider(), connection, label=f"github-sync {workspace}", workspace=workspace,
        scopes=list(rotation.scopes if scopes is None else scopes),
        expiration=rotation.expiration(dt.datetime.now(dt.UTC)),
    )["token"])


def provision(emulator: WindmillEmulator, workspace: str) -> Site:
    """The workspace, a folder, a secret, a variable, a resource and the sync token."""
    connection = {"api_url": emulator.url, "api_token": emulator.admin_token}
    _declare(WorkspaceProvider(), connection, workspace_id=workspace, name=workspace)
    _declare(FolderProvider(), connection, workspace=workspace, name=FOLDER, summary="operations")
    _declare(VariableProvider(), connection, workspace=workspace, path=SECRET_PATH, value="s3cret", is_secret=True)
    _declare(VariableProvider(), connection, workspace=workspace, path=VARIABLE_PATH, value="eu", is_secret=False)
    _declare(
        ResourceProvider(),
        connection,
        workspace=workspace,
        path=RESOURCE_PATH,
        resource_type="postgresql",
        value={"host": "db", "password": f"$var:{SECRET_PATH}"},
    )
    return Site(emulator, workspace, mint_sync_token(emulator, workspace))


def sync_args(domain: str | None) -> GitHubSyncArgs:
    """The GitHubSync Args of the committed platform (``None``) or financial stack."""
    if domain is None:
        return GitHubSyncArgs(
            workspace_id="homeops-platform", domain=None, repository="HomeOps", owner="homeops-org",
            folder="windmill", workflow_file="windmill-sync.yml", cli_version=pinned_windmill_version(),
        )  # fmt: skip
    return GitHubSyncArgs(
        workspace_id="homeops-financial", domain="financial", repository="HomeOps", owner="homeops-org",
        folder="subprojects/financial-tracker/windmill", workflow_file="financial-sync.yml",
        cli_version=pinned_windmill_version(),
    )  # fmt: skip


def runner_for(args: GitHubSyncArgs, site: Site, wmill: Path, root: Path) -> WorkflowRunner:
    """A runner whose Actions variables and secret hold what the stack stores in them."""
    names = args.names
    return WorkflowRunner(
        args=args,
        wmill=wmill,
        emulator=site.emulator,
        root=root,
        variables={names.url_variable: site.emulator.url, names.workspace_variable: site.workspace},
        secrets={names.token_secret: site.token},
    )
