"""``workspaceFile``: a workspace's contents in a file of their own, checked like the inline form.

The stack config names a YAML file inside the project folder; the same parser reads it and names its
problems by file and field (``workspaces/bench.yaml: variables[3].path: …``). Refused: both forms
at once, a missing file, a path out of the project folder, a key written twice, anything but one
mapping.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.config.errors import ConfigErrors, Problems
from components.config.placeholders import ACCEPT_ENV
from components.config.schema import PROJECT
from components.config.settings import Settings, load_settings
from components.config.workspace_file import workspace_source
from testkit.program import FINANCIAL_SECRETS, load_stack_config

FILE = "workspaces/financial.yaml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as Pulumi runs the program: it is the working directory."""
    (tmp_path / "project" / "workspaces").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path / "project"


@pytest.fixture(autouse=True)
def placeholders_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed financial stack keeps its example members; load_settings runs here as at pulumi up."""
    monkeypatch.setenv(ACCEPT_ENV, "1")


@pytest.fixture(autouse=True)
def event_loop_of_its_own() -> Iterator[None]:
    """Settings holds secret Outputs, which need an event loop; put back whatever was there."""
    try:
        previous: asyncio.AbstractEventLoop | None = asyncio.get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        pulumi.runtime.set_all_config({})
        asyncio.set_event_loop(previous)
        loop.close()


def financial_config() -> dict[str, Any]:
    """The committed financial stack, without GitHub sync (its token is beside the point here)."""
    config = load_stack_config("financial")
    del config[f"{PROJECT}:githubSync"]
    return config


def settings(config: dict[str, Any]) -> Settings:
    values = {**config, f"{PROJECT}:secrets": FINANCIAL_SECRETS["secrets"]}
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}, [f"{PROJECT}:secrets"]
    )
    return load_settings(pulumi.Config(PROJECT))


def with_file(project: Path, workspace: Any, name: str = FILE) -> dict[str, Any]:
    """The financial stack with its workspace moved to ``name``."""
    (project / name).write_text(yaml.safe_dump(workspace, sort_keys=False))
    config = financial_config()
    del config[f"{PROJECT}:workspace"]
    return {**config, f"{PROJECT}:workspaceFile": name}


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        settings(config)
    return [str(error) for error in caught.value.errors]


def test_the_file_form_gives_the_same_workspace_as_the_inline_form(project: Path) -> None:
    inline = financial_config()
    from_file = settings(with_file(project, inline[f"{PROJECT}:workspace"]))
    assert from_file.workspace == settings(inline).workspace
    assert len(from_file.workspace.variables) == 5 and from_file.workspace.id == "homeops-financial"


def test_problems_in_the_file_name_the_file_and_the_field(project: Path) -> None:
    workspace = financial_config()[f"{PROJECT}:workspace"]
    workspace["variables"][3]["path"] = "f/elsewhere/trading_db_password"
    workspace["variables"][1]["secret"] = "not_set_anywhere"
    workspace["resources"][0]["value"]["key_id"] = "$var:f/atom/missing"
    workspace["colour"] = "#000000"
    problems = problems_of(with_file(project, workspace))
    outside = f"{FILE}: variables[3].path: must be under one of this workspace's folders"
    assert any(p.startswith(outside) for p in problems), problems
    # Secret values stay in the stack config: the message says where to set one.
    assert any(
        p.startswith(f"{FILE}: variables[1].secret: {PROJECT}:secrets.not_set_anywhere is not set; run: "
                     f"pulumi config set --stack {pulumi.get_stack()} --secret --path 'secrets.not_set_anywhere'")
        for p in problems
    ), problems
    assert any(p.startswith(f"{FILE}: resources[0].value.key_id: $var:f/atom/missing does not name") for p in problems)
    assert any(p.startswith(f"{FILE}: colour: unknown key") for p in problems), problems
    assert not any(f"{PROJECT}:workspace" in p for p in problems), problems


def test_a_domain_file_cannot_declare_the_platform_workspace(project: Path) -> None:
    workspace = {**financial_config()[f"{PROJECT}:workspace"], "id": "homeops-platform"}
    assert f"{FILE}: id: a domain stack cannot manage 'homeops-platform'" in problems_of(with_file(project, workspace))


def test_setting_both_forms_is_refused(project: Path) -> None:
    config = {**with_file(project, {"name": "x"}), f"{PROJECT}:workspace": {"name": "HomeOps Financial"}}
    [problem] = problems_of(config)
    assert problem.startswith(f"{PROJECT}:workspaceFile: is set together with {PROJECT}:workspace;")


def test_a_missing_file_names_the_key_and_the_path(project: Path) -> None:
    config = with_file(project, {})
    (project / FILE).unlink()
    [problem] = problems_of(config)
    assert problem == f"{PROJECT}:workspaceFile: {FILE} does not exist in the project folder {project.resolve()}"


@pytest.mark.parametrize("written", ["../outside.yaml", "workspaces/../../outside.yaml", "/etc/hostname",
                                     "workspaces/link.yaml"])
def test_a_path_out_of_the_project_folder_is_refused(project: Path, written: str) -> None:
    outside = project.parent / "outside.yaml"
    outside.write_text(yaml.safe_dump(financial_config()[f"{PROJECT}:workspace"]))
    (project / "workspaces" / "link.yaml").symlink_to(outside)
    config = {**financial_config(), f"{PROJECT}:workspaceFile": written}
    del config[f"{PROJECT}:workspace"]
    [problem] = problems_of(config)
    assert problem.startswith(f"{PROJECT}:workspaceFile: "), problem
    assert "outside the project folder" in problem or "must be relative to the project folder" in problem


@pytest.mark.parametrize(("text", "expected"), [
    ("name: A\nfolders: []\nname: B\n", f"{FILE}: is not valid YAML: line 3, column 1: key 'name' appears twice "
                                        "(also on line 1)"),
    ("name: [unclosed\n", f"{FILE}: is not valid YAML: line 2, column 1:"),
    ("- name: x\n", f"{FILE}: must hold one mapping (id, name, folders, variables, …), got list"),
])
def test_a_file_that_is_not_one_mapping_with_unique_keys_is_refused(project: Path, text: str, expected: str) -> None:
    config = with_file(project, {})
    (project / FILE).write_text(text)
    [problem] = problems_of(config)
    assert problem.startswith(expected), problem


def test_an_empty_file_declares_a_workspace_with_the_defaults(project: Path) -> None:
    config = with_file(project, {})
    del config[f"{PROJECT}:platformLink"]  # it names folders of the workspace
    (project / FILE).write_text("# nothing yet\n")
    loaded = settings(config)
    assert loaded.workspace.id == "homeops-financial" and loaded.workspace.variables == ()


def test_without_a_file_the_inline_value_is_used_as_before(tmp_path: Path) -> None:
    problems = Problems()
    source = workspace_source({"name": "X"}, "", problems, tmp_path)
    assert source is not None and source.data == {"name": "X"} and source.key == f"{PROJECT}:workspace"
    assert source.field_key("id") == f"{PROJECT}:workspace.id" and not problems
