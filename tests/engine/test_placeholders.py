"""The placeholder check with the real Pulumi CLI against the emulator (components/config/placeholders.py).

The platform stack file as committed, set up for an existing instance (the emulator) with every secret
set but HomeOps' example hosts and GitHub owner left in, in a project copy WITHOUT the tier's
``HOMEOPS_ACCEPT_PLACEHOLDERS=1`` (testkit/engine.py): ``pulumi up`` fails, naming each placeholder's
key, and Windmill hears nothing; ``pulumi preview`` succeeds and shows the warnings; the operator
command lists the placeholders at their lines in the file as the CLI rewrote it; with the variable set,
``up`` deploys the workspace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import yaml

from components.config.placeholders import ACCEPT_ENV, listed_for, read_list
from homeops.placeholders_command import placeholder_lines
from testkit.engine import ROOT, PulumiProject
from windmill_emulator import WindmillEmulator

STACK = "platform"
P = "homeops-windmill:"


@dataclass
class Site:
    """The emulator and a project copy that does not accept placeholders."""

    emulator: WindmillEmulator
    project: PulumiProject


def secret_names() -> list[str]:
    config = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
    return [v["secret"] for v in config[f"{P}workspace"]["variables"] if "secret" in v]


def remaining_keys() -> list[str]:
    """The listed placeholders the stack keeps once githubSync is removed (as the quickstart does)."""
    return [P + e.key for e in listed_for(STACK, read_list()) if not e.key.startswith("githubSync.")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    emulator = WindmillEmulator().start()
    try:
        project = PulumiProject(tmp_path_factory.mktemp("placeholders"), accept_placeholders=False)
        project.pulumi("stack", "init", STACK, "--secrets-provider", "passphrase")
        project.pulumi("config", "set", "--stack", STACK, "--path", "windmillStack.enabled", "false")
        project.pulumi("config", "set", "--stack", STACK, "windmillUrl", emulator.url)
        project.pulumi("config", "set", "--stack", STACK, "--secret", "windmillToken", emulator.admin_token)
        project.pulumi("config", "rm", "--stack", STACK, "githubSync")
        for name in secret_names():
            project.pulumi("config", "set", "--stack", STACK, "--secret", "--path", f"secrets.{name}",
                           f"placeholders-tier-{name}")
        yield Site(emulator, project)
    finally:
        emulator.stop()


def test_the_tier_runs_without_the_escape_hatch(site: Site) -> None:
    assert ACCEPT_ENV not in site.project.env
    assert len(remaining_keys()) == 5


def test_up_fails_naming_every_placeholder_and_windmill_hears_nothing(site: Site) -> None:
    site.emulator.clear_requests()
    result = site.project.pulumi("up", "--stack", STACK, "--yes", check=False)
    assert result.code != 0, result.output
    for key in remaining_keys():
        assert key in result.output, (key, result.output)
    assert f"{ACCEPT_ENV}=1" in result.output and f"python -m homeops placeholders --stack {STACK}" in result.output
    assert "Traceback" not in result.output, result.output
    assert site.emulator.requests == []  # not even a read: no resource was registered
    state = json.loads(site.project.pulumi("stack", "export", "--stack", STACK).output)
    types = {r["type"] for r in state["deployment"].get("resources") or []}
    assert types <= {"pulumi:pulumi:Stack"}, types  # the engine's own root, nothing of the program


def test_preview_succeeds_and_warns_about_each_placeholder(site: Site) -> None:
    site.emulator.clear_requests()
    result = site.project.pulumi("preview", "--stack", STACK)
    warnings = [line.strip() for line in result.output.splitlines() if line.strip().startswith("warning: ")]
    for key in remaining_keys():
        assert any(w.startswith(f"warning: {key}: ") and "is a placeholder" in w for w in warnings), (key, warnings)
    assert re.search(r"\+ \d+ to create", result.output), result.output
    assert [r for r in site.emulator.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")] == []


def test_the_command_finds_each_placeholder_at_its_line_in_the_file_the_cli_wrote(site: Site) -> None:
    stack_file = site.project.dir / f"Pulumi.{STACK}.yaml"
    text = stack_file.read_text().splitlines()
    lines = placeholder_lines(stack_file, STACK, site.project.dir)
    assert [line.split(": ", 2)[1].split(" = ")[0] for line in lines] == [k.removeprefix(P) for k in remaining_keys()]
    for line in lines:
        number = int(line.split(":", 2)[1])
        assert line.split(" = ", 1)[1].split("  (", 1)[0] in text[number - 1], (line, text[number - 1])


def test_with_the_escape_hatch_up_deploys_the_workspace_and_says_why(site: Site) -> None:
    site.project.accept_placeholders = True
    try:
        result = site.project.pulumi("up", "--stack", STACK, "--yes")
    finally:
        site.project.accept_placeholders = False
    assert re.search(r"\+ \d+ created", result.output), result.output
    assert f"{ACCEPT_ENV}=1: pulumi up goes ahead with 5 placeholder(s)" in result.output, result.output
    with httpx.Client(base_url=site.emulator.url + "/api",
                      headers={"Authorization": f"Bearer {site.emulator.admin_token}"}) as api:
        folders = {f["name"] for f in api.get("/w/homeops-platform/folders/list").json()}
        host = api.get("/w/homeops-platform/resources/get/f/infrastructure/postgres").json()["value"]["host"]
    assert folders == {"infrastructure", "deployment", "monitoring", "maintenance"}
    assert host == "postgres.homeops.example"  # accepted as it stands, on a throwaway instance
    # The project's tier setting is back off: the next up refuses again, and changes nothing.
    site.emulator.clear_requests()
    again = site.project.pulumi("up", "--stack", STACK, "--yes", check=False)
    assert again.code != 0 and site.emulator.requests == []
