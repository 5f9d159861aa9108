"""`pulumi preview` writes nothing to the state backend, so the pull-request preview can run with a
read-only identity on the state bucket (docs/github-sync.md, "Why pull-request previews run in an
approval-gated environment").

The real CLI deploys the README's platform quickstart against the emulator on a file backend, then
runs the preview the `preview.yml` job runs (`pulumi preview --diff`), once with no change and once
with a change pending; every file of the backend (paths, bytes and modification times) is the same
before and after, and the preview sent no mutating request to Windmill.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.engine import PulumiProject
from tests.engine.quickstart import quickstart_steps, run_step
from windmill_emulator import WindmillEmulator

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def backend_snapshot(state: Path) -> dict[str, tuple[str, int]]:
    """Every file under the backend: its content hash and modification time (ns)."""
    return {
        str(path.relative_to(state)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(state.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WindmillEmulator, PulumiProject]]:
    emulator = WindmillEmulator().start()
    try:
        project = PulumiProject(tmp_path_factory.mktemp("preview-reads-only"))
        for step in quickstart_steps("platform", url=emulator.url):
            if step.name != "preview":
                run_step(project, step, "platform", token=emulator.admin_token)
        yield emulator, project
    finally:
        emulator.stop()


@pytest.mark.parametrize("pending_change", [False, True], ids=["no-change", "change-pending"])
def test_a_preview_writes_nothing_to_the_state_backend(
    deployed: tuple[WindmillEmulator, PulumiProject], pending_change: bool
) -> None:
    emulator, project = deployed
    if pending_change:
        project.pulumi("config", "set", "--stack", "platform", "--path", "workspace.folders[0].summary", "changed")
    before = backend_snapshot(project.state)
    assert any(name.endswith("platform.json") for name in before), sorted(before)
    emulator.clear_requests()
    result = project.pulumi("preview", "--stack", "platform", "--diff")
    assert ("~ 1 to update" in result.output) is pending_change, result.output
    assert backend_snapshot(project.state) == before
    assert [f"{r.method} {r.path}" for r in emulator.requests if r.method in MUTATING] == []
