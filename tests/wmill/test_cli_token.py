"""The pinned ``wmill`` with tokens limited to one workspace, as the stack mints them.

Windmill accepts such a token on ``/api/w/<its workspace>/…`` only. wmill 1.819 first asks the
global ``GET /api/users/whoami`` (401 for this token) and falls back to the workspace's
``GET /api/w/<id>/users/whoami``; older CLIs (1.596.0, say) stop at the first 401 with
"Unauthorized: Could not authenticate with the provided credentials".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from components.config.github_sync import SYNC_TOKEN_SCOPES, SyncTokenArgs
from testkit.wmill_site import (
    FIXTURES,
    FOLDER,
    RESOURCE_PATH,
    SECRET_PATH,
    mint_sync_token,
    provision,
    runner_for,
    sync_args,
)
from testkit.wmill_workflow import WorkflowRunner
from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member


def _flags(runner: WorkflowRunner) -> str:
    """The connection flags of the workflow's push command."""
    push = runner.push_step()["run"]
    return push[push.index("--workspace") :]


def test_the_minted_token_syncs_and_lists_but_reaches_no_global_route(
    wmill: Path, emulator: WindmillEmulator, tmp_path: Path
) -> None:
    args = sync_args(None)
    site = provision(emulator, args.workspace_id)
    assert emulator.store.tokens[site.token].workspace_id == site.workspace
    runner = runner_for(args, site, wmill, tmp_path / "repo")
    runner.checkout(FIXTURES / "windmill")

    _record, push = runner.run_job()
    auth = [(r.method, r.path, r.status) for r in push.requests if r.path.endswith("/whoami")]
    assert auth[:2] == [
        ("GET", "/api/users/whoami", 401),  # the global route refuses the token ...
        ("GET", f"/api/w/{site.workspace}/users/whoami", 200),  # ... and the CLI falls back
    ]
    global_routes = {r.path for r in push.requests if not r.path.startswith(f"/api/w/{site.workspace}/")}
    assert global_routes == {"/api/users/whoami", "/api/version"}

    step = runner.push_step()
    for command, expected in (
        ("wmill script list", "f/ops/hello"),
        ("wmill flow list", "f/ops/daily"),
    ):
        listed = runner.run_command(command, f"{command} {_flags(runner)}", step)
        assert listed.returncode == 0 and expected in listed.output, listed.output
    # Outside its scopes: variables, resources and jobs are not the sync's business.
    for command in ("wmill variable list", "wmill resource list", "wmill job list"):
        refused = runner.run_command(command, f"{command} {_flags(runner)}", step)
        assert refused.returncode != 0, refused.output
        assert any(r.status == 401 for r in refused.requests), refused.output

    # Listing the instance's users is a global, superadmin route: not for a workspace token.
    users = runner.run_command("wmill user", f"wmill user {_flags(runner)}", step)
    assert users.returncode != 0 and "Unauthorized" in users.output
    assert [(r.path, r.status) for r in users.requests][-1] == ("/api/users/list_as_super_admin", 401)


def test_a_non_admin_deploy_token_needs_the_folder_meta_files(
    wmill: Path, emulator: WindmillEmulator, tmp_path: Path
) -> None:
    """With ``wmillSyncToken`` set to a non-admin deploy user's token, wmill refuses to push items of a
    folder whose ``f/<folder>/folder.meta.yaml`` is missing, even with ``skipFolders: true``."""
    args = sync_args(None)
    site = provision(emulator, args.workspace_id)
    make_member(emulator, site.workspace, "deployer@example.com")
    with api(emulator) as admin:
        perms = admin.post(f"/w/{site.workspace}/acls/add/folder/{FOLDER}", json={"owner": "u/deployer", "write": True})
        assert perms.status_code == 200, perms.text
    deployer = emulator.create_token("deployer@example.com", workspace_id=site.workspace, label="github-sync")
    runner = runner_for(args, site, wmill, tmp_path / "repo")
    runner.secrets = {args.names.token_secret: deployer}
    folder = runner.checkout(FIXTURES / "windmill")
    step = runner.push_step()

    refused = runner.run_command(step["name"], step["run"], step)
    assert refused.returncode == 1 and f"Missing folder.meta.yaml for:\n  - {FOLDER}" in refused.output
    assert refused.mutating == []

    added = runner.run_command("add-missing", "wmill folder add-missing --yes", step)
    assert added.returncode == 0 and (folder / "f" / FOLDER / "folder.meta.yaml").is_file(), added.output
    pushed = runner.run_command(step["name"], step["run"], step)
    assert pushed.returncode == 0, pushed.output
    writes = sorted(r.path.rsplit("/", 2)[-2] + "/" + r.path.rsplit("/", 1)[-1] for r in pushed.mutating)
    assert writes == ["flows/create", "scripts/create"]  # the folder itself is not pushed (skipFolders)


def _api(emulator: WindmillEmulator, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{emulator.url}/api", headers={"Authorization": f"Bearer {token}"})


def test_the_minted_token_cannot_read_a_secret_export_it_or_run_anything(emulator: WindmillEmulator) -> None:
    """Issue 10: a full-admin sync token returned the Alpaca secret in plain text. This one is refused
    on every route that could reveal a secret or run code."""
    args = sync_args("financial")
    site = provision(emulator, args.workspace_id)
    ws = site.workspace
    with _api(emulator, site.token) as client:
        secret = client.get(f"/w/{ws}/variables/get/{SECRET_PATH}")
        assert secret.status_code == 401 and "Required scope: variables:read" in secret.text
        assert "s3cret" not in secret.text
        assert client.get(f"/w/{ws}/variables/get_value/{SECRET_PATH}").status_code == 401
        assert client.get(f"/w/{ws}/variables/list").status_code == 401
        assert client.get(f"/w/{ws}/resources/get_value_interpolated/{RESOURCE_PATH}").status_code == 401
        plain = client.get(f"/w/{ws}/workspaces/tarball", params={"plain_secret": "true"})
        assert plain.status_code == 401 and "variables:read" in plain.text
        run = client.post(f"/w/{ws}/jobs/run/p/f/{FOLDER}/hello", json={})
        assert run.status_code == 401 and "jobs:run" in run.text
        assert client.post(f"/w/{ws}/variables/create", json={"path": "f/ops/x", "value": "v"}).status_code == 401
        # ... while what the sync needs answers.
        assert client.get(f"/w/{ws}/users/whoami").status_code == 200
        export = client.get(f"/w/{ws}/workspaces/tarball", params={"skip_secrets": "true"})
        assert export.status_code == 200
    assert not [e for e in emulator.audit if e["operation"] == "variables.decrypt_secret"]


def test_the_minted_token_expires_within_the_rotation_rule(emulator: WindmillEmulator) -> None:
    site = provision(emulator, sync_args(None).workspace_id)
    row = emulator.store.tokens[site.token]
    assert sorted(row.scopes or []) == sorted(SYNC_TOKEN_SCOPES)
    assert row.workspace_id == site.workspace
    now = dt.datetime.now(dt.UTC)
    rotation = SyncTokenArgs()
    assert row.expiration is not None
    assert rotation.rotation_due(now) + dt.timedelta(days=29) < row.expiration <= now + dt.timedelta(days=90)


@pytest.mark.parametrize("missing", SYNC_TOKEN_SCOPES)
def test_each_scope_of_the_minted_token_is_needed_by_the_pinned_cli(
    missing: str, wmill: Path, emulator: WindmillEmulator, tmp_path: Path
) -> None:
    """Least privilege, checked against the real CLI: the push fails without any one of the four."""
    args = sync_args(None)
    site = provision(emulator, args.workspace_id)
    site.token = mint_sync_token(emulator, site.workspace, [s for s in SYNC_TOKEN_SCOPES if s != missing])
    runner = runner_for(args, site, wmill, tmp_path / "repo")
    runner.checkout(FIXTURES / "windmill")
    step = runner.push_step()
    push = runner.run_command(step["name"], step["run"], step)
    assert push.returncode != 0, push.output
    domain = missing.split(":")[0]
    assert f"Required scope: {domain}:" in push.output or any(r.status == 401 for r in push.requests), push.output
    written = [r.path for r in push.mutating if r.status < 400]
    if domain in ("users", "workspaces"):
        assert written == []  # refused before anything is pushed
    else:
        assert [path for path in written if f"/{domain}/" in path] == []
