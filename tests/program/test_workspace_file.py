"""The whole program with a stack's workspace in a file (``workspaceFile``) instead of inline.

Both forms of the financial stack register the same resources with the same inputs; a workspace of
2,000 objects keeps the stack config small (the language host passes it in one environment string,
which Linux caps at 128 KiB); a problem in the file stops the program before anything registers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.errors import ConfigErrors
from components.config.schema import PROJECT
from testkit.mocking import MockEnvironment
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, load_stack_config, run_program

VARIABLE = "pulumi-python:dynamic/windmill:Variable"
RESOURCE = "pulumi-python:dynamic/windmill:Resource"
MAX_ENV_STRING = 128 * 1024  # Linux MAX_ARG_STRLEN: one environment string, "PULUMI_CONFIG=…" included


def moved_to_file(project: Path, config: dict[str, Any], workspace: Any) -> dict[str, Any]:
    (project / "workspaces").mkdir(exist_ok=True)
    (project / "workspaces" / "financial.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False))
    moved = {k: v for k, v in config.items() if k != f"{PROJECT}:workspace"}
    return {**moved, f"{PROJECT}:workspaceFile": "workspaces/financial.yaml"}


def registered(env: MockEnvironment) -> dict[tuple[str, str], Any]:
    return {(r.typ, r.name): (r.parent, sorted(r.dependencies), r.plain_inputs) for r in env.registrations}


def run(config: dict[str, Any]) -> MockEnvironment:
    return run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS).env


def test_the_financial_stack_registers_the_same_resources_from_its_workspace_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Pulumi runs the program in the project folder
    inline = load_stack_config("financial")
    from_file = run(moved_to_file(tmp_path, inline, inline[f"{PROJECT}:workspace"]))
    assert registered(from_file) == registered(run(inline))
    paths = {r.plain_inputs["path"] for r in from_file.find(VARIABLE)}
    assert {"f/atom/fmp_api_key", "f/atom/trading_db_password"} <= paths


def test_two_thousand_objects_in_a_file_leave_the_stack_config_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_stack_config("financial")
    workspace = dict(config[f"{PROJECT}:workspace"])
    extra = 1000
    workspace["variables"] = [*workspace["variables"], *(
        {"path": f"f/atom/bulk_{i}", "value": f"value {i}", "description": f"bulk variable {i}"} for i in range(extra)
    )]
    workspace["resources"] = [*workspace["resources"], *(
        {"path": f"f/atom/bulk_res_{i}", "type": "c_fmp", "value": {"api_key": f"$var:f/atom/bulk_{i}"}}
        for i in range(extra)
    )]
    inline_size = len("PULUMI_CONFIG=" + json.dumps({**config, f"{PROJECT}:workspace": workspace}))
    assert inline_size > MAX_ENV_STRING  # the inline form could not even start the program
    moved = moved_to_file(tmp_path, config, workspace)
    assert len("PULUMI_CONFIG=" + json.dumps({**moved, f"{PROJECT}:secrets": FINANCIAL_SECRETS})) < 8 * 1024
    env = run(moved)
    paths = {r.plain_inputs["path"] for r in env.find(VARIABLE) + env.find(RESOURCE)}
    assert {f"f/atom/bulk_{i}" for i in range(extra)} | {f"f/atom/bulk_res_{i}" for i in range(extra)} <= paths


def test_a_problem_in_the_file_stops_the_program_before_anything_registers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_stack_config("financial")
    workspace = dict(config[f"{PROJECT}:workspace"])
    workspace["variables"] = [*workspace["variables"], {"path": "f/nowhere/x", "value": "v"}]
    seen: list[MockEnvironment] = []
    with pytest.raises(ConfigErrors, match=r"workspaces/financial\.yaml: variables\[5\]\.path: must be under"):
        run_program(moved_to_file(tmp_path, config, workspace), secrets=FINANCIAL_SECRETS, stack="financial",
                    platform_outputs=PLATFORM_OUTPUTS, seen=seen)
    assert not [r for r in seen[0].registrations if r.typ.startswith("pulumi-python:dynamic/")]
