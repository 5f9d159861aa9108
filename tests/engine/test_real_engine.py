"""The real Pulumi CLI and engine run the README's quickstart against the Windmill emulator.

One platform stack and one financial stack on a private file backend with the passphrase secrets
provider, driven by the CLI that scripts/install-pulumi-cli builds (testkit/engine.py). The tests
run in file order, each taking the stacks where the previous one left them, as an operator would:
quickstart, a no-change preview, drift found by refresh and repaired by up, the diffs a reviewer
reads, then destroy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testkit.engine import ROOT, PulumiProject
from tests.engine.quickstart import quickstart_secret_names, quickstart_steps, run_quickstart, secret_value
from windmill_emulator import WindmillEmulator

GOLDEN = Path(__file__).parent / "golden"
MEMBERS = ("trader@homeops.example", "analyst@homeops.example")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Deployment:
    """The emulator and the project copy every test of this module shares."""

    emulator: WindmillEmulator
    project: PulumiProject

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.emulator.url + "/api", headers={"Authorization": f"Bearer {self.emulator.admin_token}"}
        )

    def mutations(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emulator.requests if r.method in MUTATING]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    emulator = WindmillEmulator().start()
    for email in MEMBERS:  # the instance's users, which the financial stack makes members
        emulator.add_instance_user(email)
    try:
        yield Deployment(emulator, PulumiProject(tmp_path_factory.mktemp("engine")))
    finally:
        emulator.stop()


def quickstart(deployment: Deployment, stack: str) -> dict[str, str]:
    """Run the README block for ``stack``; return each command's output by command name."""
    return run_quickstart(deployment.project, stack, url=deployment.emulator.url,
                          token=deployment.emulator.admin_token)


def test_a_preview_before_the_secrets_are_set_names_every_missing_key(deployment: Deployment) -> None:
    project = deployment.project
    init = quickstart_steps("platform", url=deployment.emulator.url)[0]
    assert init.args[:2] == ("stack", "init")
    project.pulumi(*init.args)
    result = project.pulumi("preview", "--stack", "platform", check=False)
    assert result.code != 0
    assert "homeops-windmill:secrets.platform_postgres_password" in result.output, result.output
    assert "homeops-windmill:githubToken" in result.output, result.output
    assert "Set every missing secret in one go: python -m homeops secrets --stack platform" in result.output
    assert "Traceback" not in result.output, result.output
    assert deployment.mutations() == []
    # Back to a fresh clone for the quickstart: no stack, the committed stack file.
    project.pulumi("stack", "rm", "platform", "--yes")
    shutil.copy(ROOT / "Pulumi.platform.yaml", project.dir / "Pulumi.platform.yaml")


def test_the_platform_quickstart_deploys_the_workspace(deployment: Deployment) -> None:
    outputs = quickstart(deployment, "platform")
    assert re.search(r"\+ 29 to create", outputs["preview"]), outputs["preview"]
    assert re.search(r"\+ 29 created", outputs["up"]), outputs["up"]
    with deployment.api() as api:
        folders = {f["name"] for f in api.get("/w/homeops-platform/folders/list").json()}
        assert folders == {"infrastructure", "deployment", "monitoring", "maintenance"}
        value = api.get("/w/homeops-platform/variables/get/f/infrastructure/redis_password").json()["value"]
        assert value == secret_value("platform_redis_password")


def test_a_second_preview_expects_no_changes_and_sends_nothing(deployment: Deployment) -> None:
    deployment.emulator.clear_requests()
    deployment.project.pulumi("preview", "--stack", "platform", "--expect-no-changes")
    assert deployment.mutations() == []


def test_the_financial_quickstart_reads_the_platform_stack(deployment: Deployment) -> None:
    outputs = quickstart(deployment, "financial")
    assert "created" in outputs["up"]
    with deployment.api() as api:
        members = {m["email"]: m for m in api.get("/w/homeops-financial/users/list").json()}
        assert members["trader@homeops.example"]["is_admin"] is True
        token_variable = api.get("/w/homeops-financial/variables/get/f/atom/platform_services_token")
        assert token_variable.status_code == 200
    deployment.project.pulumi("preview", "--stack", "financial", "--expect-no-changes")


def test_refresh_finds_a_secret_changed_outside_pulumi_and_up_repairs_it(deployment: Deployment) -> None:
    path = "/w/homeops-financial/variables/update/f/atom/fmp_api_key"
    with deployment.api() as api:
        assert api.post(path, json={"value": "changed-in-the-ui"}).status_code == 200
    project = deployment.project
    refreshed = project.pulumi("refresh", "--stack", "financial", "--yes", "--diff")
    found = re.search(
        r"~ pulumi-python:dynamic/windmill:Variable: \(update\)\s+\[id=homeops-financial/f/atom/fmp_api_key\]",
        refreshed.output,
    )
    assert found, refreshed.output
    assert "~ 1 updated" in refreshed.output, refreshed.output
    drifted = project.pulumi("preview", "--stack", "financial", "--expect-no-changes", check=False)
    assert drifted.code != 0 and "f/atom/fmp_api_key" in drifted.output
    project.pulumi("up", "--stack", "financial", "--yes")
    with deployment.api() as api:
        value = api.get("/w/homeops-financial/variables/get/f/atom/fmp_api_key").json()["value"]
    assert value == secret_value("fmp_api_key")
    project.pulumi("preview", "--stack", "financial", "--expect-no-changes")


BLOCK_START = re.compile(r"^\s*(\+-|[+~\->]|)\s*[\w:/.-]+: \((\w[\w-]*)\)$")


def normalize(output: str, deployment: Deployment) -> str:
    """The preview's resource changes, each block dedented and sorted by URN, then the totals.

    The engine prints resources as their registrations complete, which varies from run to run, and
    the emulator's port and the ids of minted tokens change; none of that is what a reviewer reads.
    Nor are the diagnostics: every preview of the committed files warns about their placeholders (the
    tier accepts them), the same lines in every golden; tests/engine/test_placeholders.py asserts those.
    """
    text = output.replace(deployment.emulator.url, "http://windmill.test")
    text = re.sub(r"(windmill:Token: \([\w-]+\)\n\s+)\[id=\w+\]", r"\1[id=<token id>]", text)
    text = re.sub(r'(token_prefix\s+: )"\w+"', r'\1"<token prefix>"', text)
    text = re.sub(r"\(pulumi [0-9a-f]{6}\)", "(pulumi <label suffix>)", text)
    body, _, totals = text.partition("\nResources:\n")
    blocks: list[list[str]] = []
    for line in body.splitlines():
        if line.strip() == "--outputs:--" or line.startswith(("Previewing", "View Live", "Diagnostics:")):
            blocks.append([])  # ends the block before it; the stack's outputs follow
            continue
        if BLOCK_START.match(line):
            blocks.append([line])
        elif blocks and blocks[-1]:
            blocks[-1].append(line)
    changes = []
    for block in blocks:
        if not block or block[0].rstrip().endswith(("(same)", "(read)")):
            continue
        indent = len(block[0]) - len(block[0].lstrip())
        changes.append("\n".join(line[indent:].rstrip() for line in block))
    summary = [line.rstrip() for line in totals.splitlines() if line.strip() and not line.startswith("Duration")]
    return "\n".join(sorted(changes, key=lambda b: b.split("[urn=", 1)[-1])) + "\nResources:\n" + "\n".join(
        line for line in summary if line.startswith("    ")) + "\n"


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/engine/golden/<name>.txt; HOMEOPS_UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    import os

    path = GOLDEN / f"{name}.txt"
    if os.environ.get("HOMEOPS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run once with HOMEOPS_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"preview diff differs from {path}"


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("secret-rotated", ["config", "set", "--stack", "financial", "--secret", "--path", "secrets.fmp_api_key",
                            "rotated-value-7c1e"]),
        ("folder-added", ["config", "set", "--stack", "financial", "--path", "workspace.folders[1].name", "research"]),
        ("workspace-id-changed", ["config", "set", "--stack", "financial", "--path", "workspace.id",
                                  "homeops-financial-v2"]),
    ],
)
def test_a_reviewer_reads_each_typical_change_in_the_preview_diff(
    deployment: Deployment, name: str, change: list[str]
) -> None:
    project = deployment.project
    stack_file = project.dir / "Pulumi.financial.yaml"
    before = stack_file.read_text()
    try:
        project.pulumi(*change)
        preview = project.pulumi("preview", "--stack", "financial", "--diff")
    finally:
        stack_file.write_text(before)
    assert "rotated-value-7c1e" not in preview.output
    assert_golden(name, normalize(preview.output, deployment))


def test_no_secret_appears_in_any_output_or_in_state(deployment: Deployment) -> None:
    project = deployment.project
    values = [secret_value(name) for stack in ("platform", "financial") for name in quickstart_secret_names(stack)]
    values.append(deployment.emulator.admin_token)
    exported = project.pulumi("stack", "export", "--stack", "financial").output
    exported += project.pulumi("stack", "export", "--stack", "platform").output
    state_files = "".join(p.read_text(errors="replace") for p in project.state.rglob("*") if p.is_file())
    for value in values:
        assert value not in project.transcript()
        assert value not in exported
        assert value not in state_files


def test_destroy_of_both_stacks_leaves_no_active_workspace(deployment: Deployment) -> None:
    project = deployment.project
    project.pulumi("destroy", "--stack", "financial", "--yes")
    project.pulumi("destroy", "--stack", "platform", "--yes")
    with deployment.api() as api:
        workspaces = {w["id"]: w for w in api.get("/workspaces/list_as_superadmin").json() if w["id"] != "admins"}
    # deletionMode: archive (both stack files): archived, so their scripts and history stay recoverable.
    assert set(workspaces) == {"homeops-platform", "homeops-financial"}
    assert all(w["deleted"] for w in workspaces.values()), workspaces
