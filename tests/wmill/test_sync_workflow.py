"""The generated sync workflow, run verbatim with the real ``wmill`` against the emulator.

For the platform and the financial stack: the first push creates the folder's script and flow,
a second push changes nothing, ``wmill sync pull`` (same flags) into a fresh checkout returns them
and pushing that checkout back changes nothing; the Pulumi-managed folder, secret, variable and
resource are never read in plain text, written or deleted by any of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from components.github_sync import build_wmill_yaml
from testkit.tools import REPO_ROOT, pinned_windmill_version
from testkit.wmill_site import (
    FIXTURES,
    RESOURCE_PATH,
    SECRET_PATH,
    VARIABLE_PATH,
    Site,
    provision,
    runner_for,
    sync_args,
)
from testkit.wmill_workflow import INSTALL_PREFIX, StepRun, WorkflowRunner, run_steps
from windmill_emulator import RecordedRequest, WindmillEmulator

SCRIPT = "f/ops/hello"
FLOW = "f/ops/daily"


def _api(emulator: WindmillEmulator, site: Site, path: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {emulator.admin_token}"}
    response = httpx.get(f"{emulator.url}/api/w/{site.workspace}/{path}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _pull(runner: WorkflowRunner) -> StepRun:
    """``wmill sync pull`` with exactly the push step's flags, env and working directory."""
    step = runner.push_step()
    command = step["run"].replace("wmill sync push", "wmill sync pull", 1)
    assert command != step["run"]
    return runner.run_command("pull", command, step)


def _assert_never_touched_managed_objects(requests: list[RecordedRequest]) -> None:
    """Only scripts and flows are written; what Pulumi owns is not even read in plain text."""
    writes = [f"{r.method} {r.path}" for r in requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert all("/scripts/" in w or "/flows/" in w for w in writes), writes
    for r in requests:
        assert "/variables/" not in r.path and "/resources/" not in r.path.replace("/file_resource_type", ""), r
        if r.path.endswith("/workspaces/tarball"):
            for flag in ("skip_variables", "skip_secrets", "skip_resources", "skip_resource_types"):
                assert r.query[flag] == "true", (flag, r.query)
            assert r.query["plain_secret"] == "false"
            assert r.query["sync_behavior_version"] == "v1"  # wmill.yaml's syncBehavior, not the legacy v0


def test_the_workflow_pins_the_cli_the_installer_installs(wmill: Path) -> None:
    installer = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install-wmill-cli")], capture_output=True, text=True, check=True, timeout=300
    )
    assert installer.stdout.splitlines()[-1] == str(wmill)  # already installed: the same program, at once
    package = json.loads((wmill.parents[2] / "node_modules" / "windmill-cli" / "package.json").read_text())
    assert package["version"] == pinned_windmill_version()
    for domain in (None, "financial"):
        installs = [s["run"] for s in run_steps(sync_args(domain)) if s["run"].startswith(INSTALL_PREFIX)]
        assert installs == [f"{INSTALL_PREFIX}{package['version']}"]


@pytest.mark.parametrize("domain", [None, "financial"], ids=["platform", "financial"])
def test_push_push_pull_push(domain: str | None, wmill: Path, emulator: WindmillEmulator, tmp_path: Path) -> None:
    args = sync_args(domain)
    site = provision(emulator, args.workspace_id)
    managed = site.managed_objects()
    assert set(managed["variables"]) == {SECRET_PATH, VARIABLE_PATH} and set(managed["resources"]) == {RESOURCE_PATH}
    audit_before = len(emulator.audit)
    runner = runner_for(args, site, wmill, tmp_path / "repo")
    folder = runner.checkout(FIXTURES / "windmill")

    # 1. The first push deploys the folder's script and flow.
    record, first = runner.run_job()
    # The record step names who pushed which commit to which workspace, never the token.
    assert "::notice title=Windmill sync::homeops-ci pushes 0123456789abcdef" in record.output
    assert record.mutating == [] and runner.secrets[next(iter(runner.secrets))] not in record.output
    created = sorted(f"{r.method} {r.path}" for r in first.mutating)
    assert created == [
        f"POST /api/w/{site.workspace}/flows/create",
        f"POST /api/w/{site.workspace}/scripts/create",
    ], first.output
    script = _api(emulator, site, f"scripts/get/p/{SCRIPT}")
    assert script["content"] == (folder / "f/ops/hello.ts").read_text()
    assert script["summary"] == "Say hello" and script["language"] == "bun"
    flow = _api(emulator, site, f"flows/get/{FLOW}")
    (module,) = flow["value"]["modules"]  # type: ignore[index]
    assert module["value"]["content"] == (folder / "f/ops/daily.flow/a.inline_script.ts").read_text()

    # 2. Pushing the same checkout again changes nothing.
    _record, second = runner.run_job()
    assert second.mutating == [], second.output

    # 3. Pull into a fresh checkout that holds only the committed wmill.yaml.
    pulled = WorkflowRunner(args, wmill, emulator, tmp_path / "pulled", runner.variables, runner.secrets)
    pulled_folder = pulled.checkout(None)
    pull = _pull(pulled)
    assert pull.returncode == 0, pull.output
    assert pull.mutating == []
    for relative in ("f/ops/hello.ts", "f/ops/daily.flow/a.inline_script.ts"):
        assert (pulled_folder / relative).read_text() == (folder / relative).read_text()
    assert yaml.safe_load((pulled_folder / "f/ops/hello.script.yaml").read_text())["summary"] == "Say hello"
    assert yaml.safe_load((pulled_folder / "f/ops/daily.flow/flow.yaml").read_text())["summary"] == "Daily report"
    pulled_files = {p.relative_to(pulled_folder).as_posix() for p in pulled_folder.rglob("*") if p.is_file()}
    assert not [p for p in pulled_files if ".variable." in p or ".resource." in p or "folder.meta" in p], pulled_files

    # 4. The pulled checkout pushes back unchanged.
    back = pulled.run_command("push", pulled.push_step()["run"], pulled.push_step())
    assert back.returncode == 0 and back.mutating == [], back.output
    assert "0 changes to apply" in back.output

    for run in (first, second, pull, back):
        _assert_never_touched_managed_objects(run.requests)
    assert site.managed_objects() == managed
    assert not [e for e in emulator.audit[audit_before:] if e["operation"] == "variables.decrypt_secret"]


# Options `wmill config` lists that the generated wmill.yaml leaves to the CLI, and why.
LEFT_TO_THE_CLI = {
    "extraIncludes": "merged into includes, meant for per-workspace overrides",
    "parallel": "speed only",
    "locksRequired": "a local check of the repository's lock files, not of the sync scope",
    "dedupeLockfiles": "the layout of lock files in the repository, chosen by its developers",
    "lint": "a local check before a push",
    "plainSecrets": "secrets are out of scope (skipSecrets)",
    "message": "a deployment message",
    "promotion": "promotion overrides need a workspaces section, which this wmill.yaml has none of",
    "skipBranchValidation": "the workflow passes --workspace, which skips the branch check",
    "codebases": "bundling settings of the repository's developers",
    "workspaces": "the workflow passes --workspace, --base-url and --token",
    "gitBranches": "deprecated",
    "environments": "deprecated",
}


def test_the_generated_wmill_yaml_sets_every_sync_option_of_the_pinned_cli(wmill: Path, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    listed = subprocess.run([str(wmill), "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    rows = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in listed.stdout.splitlines()]
    options = {row.split()[0] for row in rows if re.match(r"[a-z][A-Za-z]+\s{2,}", row)}
    assert {"skipVariables", "syncBehavior", "nonDottedPaths"} <= options, rows  # the table was parsed
    generated = set(build_wmill_yaml())
    assert generated - options == set()  # no key the CLI does not know
    assert options - generated - set(LEFT_TO_THE_CLI) == set()  # every other option is explicit
