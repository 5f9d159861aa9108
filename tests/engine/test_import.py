"""Bringing an existing workspace under management, with the real Pulumi CLI and engine.

The emulator holds ``homeops-financial`` as another user set it up by hand (API calls only,
``testkit/handmade_workspace.py``). An operator with a workspace admin's token imports it into the
financial stack (copying the secrets into the encrypted config), previews and runs ``pulumi up``:
every object is taken over and nothing is created, replaced or written in Windmill; the next preview
expects no changes; importing again writes the same file; no secret value shows anywhere.
The tests run in file order, each taking the stack where the previous one left it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from testkit import handmade_workspace as hand
from testkit.engine import PulumiProject
from windmill_emulator import WindmillEmulator

STACK = "financial"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ADOPTABLE = ("Workspace", "Folder", "Group", "Member", "ResourceType", "Variable", "Resource", "Schedule",
             "WorkspaceSettings")


@dataclass
class Site:
    """The emulator, the project copy and everything the import printed."""

    emulator: WindmillEmulator
    project: PulumiProject
    token: str  # a workspace admin's (not the workspace's creator, not a superadmin)
    import_output: list[str] = field(default_factory=list)

    def mutations(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emulator.requests if r.method in MUTATING]

    def stack_file(self) -> str:
        return (self.project.dir / f"Pulumi.{STACK}.yaml").read_text()

    def homeops_import(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """``python -m homeops import`` as the operator runs it, the token in the environment."""
        done = subprocess.run(
            [sys.executable, "-m", "homeops", "import", "--url", self.emulator.url, "--workspace", hand.WORKSPACE,
             "--stack", STACK, *extra],
            cwd=self.project.dir, env={**self.project.env, "WINDMILL_TOKEN": self.token}, capture_output=True,
            text=True, timeout=300, stdin=subprocess.DEVNULL, check=False,
        )
        self.import_output.append(done.stdout + done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr
        return done


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    emulator = WindmillEmulator().start()
    try:
        hand.populate(emulator)
        yield Site(emulator, PulumiProject(tmp_path_factory.mktemp("import")), emulator.create_token(hand.ADMIN))
    finally:
        emulator.stop()


def test_the_stack_is_set_up_and_the_workspace_imported_with_its_secrets(site: Site) -> None:
    project = site.project
    project.pulumi("stack", "init", STACK, "--secrets-provider", "passphrase")
    # This stack talks to the instance directly (no platform stack here), without GitHub sync or
    # platformLink: those mint new tokens, which is creating, not adopting.
    project.pulumi("config", "rm", "--stack", STACK, "githubSync")
    project.pulumi("config", "rm", "--stack", STACK, "platformLink")
    project.pulumi("config", "set", "--stack", STACK, "windmillUrl", site.emulator.url)
    # The stack runs with the operator's superadmin token, as every stack does; the import below uses a
    # workspace admin's token, which is all it needs.
    project.pulumi("config", "set", "--stack", STACK, "--secret", "windmillToken", site.emulator.admin_token)
    site.emulator.clear_requests()
    done = site.homeops_import("--copy-secrets")
    assert site.mutations() == []  # reading only
    for name in ("alpaca_api_key_id", "alpaca_api_secret_key", "trading_db_password", "api_key"):
        assert re.search(rf"secrets\.{name} .*copied from Windmill into the encrypted stack config", done.stdout)
    secrets = project.pulumi("config", "--stack", STACK, "--show-secrets", "--json").output
    configured = json.loads(secrets)["homeops-windmill:secrets"]
    assert configured["secret"] is True
    assert json.loads(configured["value"]) == {
        "alpaca_api_key_id": hand.SECRETS["f/atom/alpaca_api_key_id"],
        "alpaca_api_secret_key": hand.SECRETS["f/atom/alpaca_api_secret_key"],
        "trading_db_password": hand.SECRETS["f/atom/trading_db_password"],
        "api_key": hand.SECRETS["f/research/api_key"],
    }
    project.history.pop()  # that command showed the values on purpose; the transcript check below excludes it


def test_an_object_the_project_cannot_model_is_reported(site: Site) -> None:
    output = site.import_output[0]
    for kind, path in hand.UNMODELLED.items():
        assert re.search(rf"^  {kind} +{re.escape(path)}: ", output, re.M), output


def test_the_preview_shows_adoptions_and_no_replacement(site: Site) -> None:
    preview = site.project.pulumi("preview", "--stack", STACK, "--diff")
    assert "adopt is on: objects of workspace homeops-financial that already exist" in preview.output
    assert not re.search(r"^\s*\+-", preview.output, re.M), preview.output
    creates = re.findall(r"^\s*\+ pulumi-python:dynamic/windmill:(\w+): \(create\)", preview.output, re.M)
    objects = [kind for kind in creates if kind in ADOPTABLE]  # not the checks that only read (readiness …)
    assert set(objects) == set(ADOPTABLE), creates
    assert preview.output.count("adopt                      : true") == len(objects), preview.output


def test_up_takes_everything_over_without_a_single_write_to_windmill(site: Site) -> None:
    site.emulator.clear_requests()
    up = site.project.pulumi("up", "--stack", STACK, "--yes")
    # Pulumi records each adopted object as created in its state; Windmill received no create, no
    # update and no delete: every object's content already matched, so adoption needed no write.
    assert site.mutations() == [], site.mutations()
    # The engine's own count lines ("N replaced", "N deleted"), not words in the program's warnings.
    assert not re.search(r"^\s*[-+~]*\s*\d+ (replaced|deleted)\s*$", up.output, re.M), up.output
    assert re.search(r"^\s*\+ \d+ created\s*$", up.output, re.M), up.output  # the pattern sees the summary
    exported = json.loads(site.project.pulumi("stack", "export", "--stack", STACK).output)
    adopted = [r for r in exported["deployment"]["resources"]
               if r["type"].startswith("pulumi-python:dynamic/") and r["type"].rsplit(":", 1)[1] in ADOPTABLE]
    assert {r["type"].rsplit(":", 1)[1] for r in adopted} == set(ADOPTABLE)
    assert all(r["outputs"].get("adopted") is True for r in adopted), [r["urn"] for r in adopted]


def test_the_next_preview_expects_no_changes(site: Site) -> None:
    site.emulator.clear_requests()
    site.project.pulumi("preview", "--stack", STACK, "--expect-no-changes")
    assert site.mutations() == []


def test_importing_again_writes_the_same_file(site: Site) -> None:
    before = site.stack_file()
    done = site.homeops_import("--copy-secrets")
    assert site.stack_file() == before
    assert "Unchanged: Pulumi.financial.yaml" in done.stdout
    assert "already in the stack config" in done.stdout and "copied" not in done.stdout
    site.project.pulumi("preview", "--stack", STACK, "--expect-no-changes")


def test_no_secret_value_appears_in_any_file_output_or_log(site: Site) -> None:
    project = site.project
    values = [*hand.SECRETS.values(), hand.PLAIN_CREDENTIAL[1], site.token, site.emulator.admin_token]
    files = [p for p in project.dir.iterdir() if p.is_file() and not p.is_symlink()]
    files += [p for p in Path(project.state).rglob("*") if p.is_file()]
    texts = {str(p): p.read_text(errors="replace") for p in files}
    texts["cli transcript"] = project.transcript()
    texts["import output"] = "\n".join(site.import_output)
    texts["stack export"] = project.pulumi("stack", "export", "--stack", STACK).output
    for where, text in texts.items():
        for value in values:
            assert value not in text, f"a secret value appears in {where}"
