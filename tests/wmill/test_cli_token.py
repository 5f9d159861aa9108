"""The pinned ``wmill`` with tokens limited to one workspace, as the stack mints them.

Windmill accepts such a token on ``/api/w/<its workspace>/…`` only. wmill 1.819 first asks the
global ``GET /api/users/whoami`` (401 for this token) and falls back to the workspace's
``GET /api/w/<id>/users/whoami``; older CLIs (1.596.0, say) stop at the first 401 with
"Unauthorized: Could not authenticate with the provided credentials".
"""

from __future__ import annotations

from pathlib import Path

from testkit.wmill_site import FIXTURES, FOLDER, provision, runner_for, sync_args
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

    (push,) = runner.run_job()
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
        ("wmill trigger list", "Kind"),
        ("wmill job list", "No jobs found"),
    ):
        listed = runner.run_command(command, f"{command} {_flags(runner)}", step)
        assert listed.returncode == 0 and expected in listed.output, listed.output

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
