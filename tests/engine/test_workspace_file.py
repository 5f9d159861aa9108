"""The real Pulumi CLI and engine run a domain stack whose workspace lives in a file (issue 17).

``homeops-windmill:workspaceFile: workspaces/bench.yaml`` names the workspace's contents; the
stack file keeps only the connection, the file's name and the encrypted secret values
(``testkit/scale_workspace.py``). The tests run in file order on one stack: a problem in the file
fails the preview by file and field, the stack goes up and a second preview changes nothing, an
edit of the file reads as a normal diff, then the file grows to 100 objects, which go through up,
a no-op preview, refresh and destroy, with at most one request per object and phase.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import yaml

from testkit.engine import PulumiProject
from testkit.scale_workspace import STACK, WORKSPACE_FILE, WORKSPACE_ID, ScaleWorkspace, init_stack
from windmill_emulator import WindmillEmulator

SMALL = ScaleWorkspace(10)  # 5 variables (1 secret), 5 resources, + workspace, folder, type
LARGE = ScaleWorkspace(100)
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

    def write_workspace(self, contents: dict) -> None:
        (self.project.dir / WORKSPACE_FILE).write_text(yaml.safe_dump(contents, sort_keys=False))

    def requests(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emulator.requests]

    def mutations(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emulator.requests if r.method in MUTATING]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    emulator = WindmillEmulator().start()
    try:
        project = PulumiProject(tmp_path_factory.mktemp("engine-workspace-file"))
        # Secret values go to the encrypted stack config, the workspace to its own file.
        init_stack(project, emulator.url, emulator.admin_token, LARGE)
        yield Deployment(emulator, project)
    finally:
        emulator.stop()


def test_a_problem_in_the_workspace_file_fails_the_preview_naming_file_and_field(deployment: Deployment) -> None:
    contents = SMALL.workspace_file()
    contents["variables"][1]["path"] = "f/elsewhere/v_00001"
    deployment.write_workspace(contents)
    result = deployment.project.pulumi("preview", "--stack", STACK, check=False)
    assert result.code != 0
    assert f"{WORKSPACE_FILE}: variables[1].path: must be under one of this workspace's folders" in result.output
    assert "Traceback" not in result.output, result.output
    assert deployment.requests() == []


def test_the_stack_goes_up_from_its_workspace_file_and_a_second_preview_changes_nothing(
    deployment: Deployment,
) -> None:
    deployment.write_workspace(SMALL.workspace_file())
    up = deployment.project.pulumi("up", "--stack", STACK, "--yes")
    # stack, component, workspace, folder, type, 5 + 5, and since this test was written: the readiness
    # gate (issue 10), the edition-limits check and the workspace-automation component
    assert "+ 18 created" in up.output, up.output
    with deployment.api() as api:
        secret = api.get(f"/w/{WORKSPACE_ID}/variables/get/f/bench/v_00000").json()
        assert secret["is_secret"] is True and secret["value"] == SMALL.secrets()["bench_secret_00000"]
        resource = api.get(f"/w/{WORKSPACE_ID}/resources/get/f/bench/r_00003").json()
        assert resource["value"]["token"] == "$var:f/bench/v_00003"
    deployment.emulator.clear_requests()
    deployment.project.pulumi("preview", "--stack", STACK, "--expect-no-changes")
    assert deployment.mutations() == []
    stack_file = deployment.project.stack_file(STACK)
    assert "workspaceFile: workspaces/bench.yaml" in stack_file and "f/bench/" not in stack_file
    secret_value = SMALL.secrets()["bench_secret_00000"]
    state = "".join(p.read_text() for p in deployment.project.state.rglob("*.json"))
    assert secret_value not in stack_file and secret_value not in state
    assert secret_value not in deployment.project.transcript()


def test_an_edit_of_the_workspace_file_reads_as_an_update_in_the_preview(deployment: Deployment) -> None:
    contents = SMALL.workspace_file()
    contents["variables"][3]["value"] = "edited in the workspace file"
    deployment.write_workspace(contents)
    preview = deployment.project.pulumi("preview", "--stack", STACK, "--diff")
    assert "~ 1 to update" in preview.output, preview.output
    assert re.search(r'~ value\s+: "plain value 3" => "edited in the workspace file"', preview.output), preview.output
    deployment.write_workspace(SMALL.workspace_file())


def test_a_hundred_objects_go_through_up_preview_refresh_and_destroy(deployment: Deployment) -> None:
    project, emulator = deployment.project, deployment.emulator
    deployment.write_workspace(LARGE.workspace_file())
    emulator.clear_requests()
    project.pulumi("up", "--stack", STACK, "--yes", "--skip-preview")
    added = LARGE.objects - SMALL.objects
    assert len(emulator.requests) <= added + len(LARGE.secrets()), deployment.requests()  # one each, a secret two
    with deployment.api() as api:
        assert len(api.get(f"/w/{WORKSPACE_ID}/variables/list").json()) == LARGE.pairs

    emulator.clear_requests()
    project.pulumi("preview", "--stack", STACK, "--expect-no-changes")
    assert deployment.requests() == []

    emulator.clear_requests()
    refreshed = project.pulumi("refresh", "--stack", STACK, "--yes", "--skip-preview")
    assert "updated" not in refreshed.output.split("Resources:")[-1], refreshed.output
    # One read each: the objects, workspace, folder, type; and the readiness gate's three healthy answers.
    assert len(emulator.requests) == LARGE.objects + 3 + 3, deployment.requests()

    emulator.clear_requests()
    project.pulumi("destroy", "--stack", STACK, "--yes", "--skip-preview")
    assert len(emulator.requests) <= LARGE.objects + 4, deployment.requests()
    with deployment.api() as api:
        assert api.post("/workspaces/exists", json={"id": WORKSPACE_ID}).json() is False  # deletionMode: delete
