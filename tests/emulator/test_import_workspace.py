"""``python -m homeops import`` against a workspace set up by hand in the emulator (API calls only).

What it writes passes the program's config parser, is the same text when run again, replaces only
the workspace block of the stack file, names every secret with its command and never a value, lists
what it cannot import, and refuses what it must not import.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from components.config.workspace import WindmillWorkspaceArgs
from homeops.__main__ import main
from testkit import handmade_workspace as hand
from testkit.engine import ROOT
from windmill_emulator import WindmillEmulator

STACK_FILE = "Pulumi.financial.yaml"


@pytest.fixture
def site(windmill: WindmillEmulator) -> Iterator[WindmillEmulator]:
    hand.populate(windmill)
    windmill.clear_requests()
    yield windmill


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", STACK_FILE, "Pulumi.platform.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    return tmp_path


def run(site: WindmillEmulator, project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        *extra: str, token: str | None = None, workspace: str = hand.WORKSPACE) -> tuple[int, str]:
    monkeypatch.setenv("WINDMILL_TOKEN", token or site.create_token(hand.ADMIN))
    code = main(["import", "--url", site.url, "--workspace", workspace, "--stack", "financial",
                 "--project-dir", str(project), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def section(project: Path) -> dict:
    return yaml.safe_load((project / STACK_FILE).read_text())["config"]["homeops-windmill:workspace"]


def test_the_import_writes_what_the_program_accepts_and_names_every_secret(site, project, capsys, monkeypatch):
    code, output = run(site, project, capsys, monkeypatch)
    assert code == 0, output
    written = section(project)
    args = WindmillWorkspaceArgs.from_config(written, secret_names={"alpaca_api_key_id", "alpaca_api_secret_key",
                                                                    "trading_db_password", "api_key"})
    assert args.adopt is True and args.id == hand.WORKSPACE and args.color == "#16a34a"
    assert {f.name for f in args.folders} == {"atom", "research"}
    atom = next(f for f in args.folders if f.name == "atom")
    assert set(atom.owners) == {"g/financial-tracker", "u/ops"}  # the creator's ownership, as Windmill has it
    assert {(m.email, m.role) for m in args.members} == {
        (hand.ADMIN, "admin"), (hand.DEVELOPER, "developer"), (hand.CREATOR, "admin")}
    assert {v.path: v.secret for v in args.variables if v.is_secret} == {
        "f/atom/alpaca_api_key_id": "alpaca_api_key_id", "f/atom/alpaca_api_secret_key": "alpaca_api_secret_key",
        "f/atom/trading_db_password": "trading_db_password", "f/research/api_key": "api_key"}
    assert [s.path for s in args.schedules] == ["f/atom/nightly"] and args.settings.webhook
    for name in ("alpaca_api_key_id", "alpaca_api_secret_key", "trading_db_password", "api_key"):
        assert f"pulumi config set --stack financial --secret --path 'secrets.{name}' <value>" in output
    for value in hand.SECRETS.values():
        assert value not in output and value not in (project / STACK_FILE).read_text()
    # Nothing was written to Windmill, and no secret was decrypted to import it.
    assert [r for r in site.requests if r.method != "GET"] == []
    assert not [a for a in site.audit if a.get("operation") == "variables.decrypt_secret"]


def test_what_cannot_be_imported_is_listed_with_the_reason(site, project, capsys, monkeypatch):
    _, output = run(site, project, capsys, monkeypatch)
    for kind, path in hand.UNMODELLED.items():
        assert f"{kind}" in output and path in output
    assert "wm_deployers: Windmill's own group" in output
    assert "not through a stack" in output and "outside a folder" in output
    assert "u/ops/scratch" not in str(section(project))
    path, password = hand.PLAIN_CREDENTIAL
    assert f"{path}: its value holds password in plain text" in output
    assert password not in output and password not in (project / STACK_FILE).read_text()


def test_importing_twice_writes_the_same_file_and_only_the_workspace_block_changes(site, project, capsys, monkeypatch):
    before = (project / STACK_FILE).read_text()
    run(site, project, capsys, monkeypatch)
    first = (project / STACK_FILE).read_text()
    code, output = run(site, project, capsys, monkeypatch)
    assert code == 0 and "Unchanged: Pulumi.financial.yaml" in output
    assert (project / STACK_FILE).read_text() == first
    # Everything outside the workspace block keeps its bytes, comments included.
    kept = [line for line in before.splitlines()
            if not line.startswith("    ") and "homeops-windmill:workspace" not in line]
    assert [line for line in first.splitlines() if line in kept] == kept
    assert "# How homeops-financial and homeops-platform may call each other" in first


def test_a_later_change_in_windmill_is_a_small_readable_diff(site, project, capsys, monkeypatch):
    run(site, project, capsys, monkeypatch)
    with httpx.Client(base_url=site.url + "/api", headers={"Authorization": f"Bearer {site.admin_token}"}) as api:
        api.post(f"/w/{hand.WORKSPACE}/folders/create", json={"name": "backtests"}).raise_for_status()
    code, output = run(site, project, capsys, monkeypatch, "--dry-run")
    diff = [line for line in output.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert code == 0 and diff == ["+      - name: backtests", "+        owners:", "+          - u/admin@windmill.dev"]


def test_secret_names_the_stack_already_uses_are_kept(site, project, capsys, monkeypatch):
    run(site, project, capsys, monkeypatch)
    text = (project / STACK_FILE).read_text().replace("secret: api_key", "secret: research_key")
    (project / STACK_FILE).write_text(text)
    _, output = run(site, project, capsys, monkeypatch)
    assert "secret: research_key" in (project / STACK_FILE).read_text()
    assert "'secrets.research_key'" in output


def test_a_superadmin_who_is_not_a_member_may_import_too(site, project, capsys, monkeypatch):
    code, output = run(site, project, capsys, monkeypatch, token=site.admin_token)
    assert code == 0, output
    assert section(project)["members"][0]["email"] == hand.DEVELOPER  # the superadmin is not listed as a member


@pytest.mark.parametrize(("setup", "message"), [
    ("admins", "'admins' is Windmill's instance-administration workspace"),
    ("archived", "is archived"),
    ("developer", "is not an admin of 'homeops-financial'"),
    ("stranger", "neither a member nor a superadmin"),
])
def test_what_must_not_be_imported_is_refused_clearly(site, project, capsys, monkeypatch, setup, message):
    before = (project / STACK_FILE).read_text()
    token, workspace = site.create_token(hand.ADMIN), hand.WORKSPACE
    if setup == "admins":
        token, workspace = site.admin_token, "admins"
    elif setup == "archived":
        with httpx.Client(base_url=site.url + "/api", headers={"Authorization": f"Bearer {token}"}) as api:
            api.post(f"/w/{workspace}/workspaces/archive").raise_for_status()
    elif setup == "developer":
        token = site.create_token(hand.DEVELOPER)
    elif setup == "stranger":
        site.add_instance_user("stranger@homeops.example")
        token = site.create_token("stranger@homeops.example")
    code, output = run(site, project, capsys, monkeypatch, token=token, workspace=workspace)
    assert code == 2 and "refused" in output and message in output, output
    assert (project / STACK_FILE).read_text() == before


def test_a_platform_link_token_variable_is_left_to_the_platform_link(site, project, capsys, monkeypatch):
    with httpx.Client(base_url=site.url + "/api", headers={"Authorization": f"Bearer {site.admin_token}"}) as api:
        api.post(f"/w/{hand.WORKSPACE}/variables/create", json={
            "path": "f/atom/platform_services_token", "value": "minted", "is_secret": True, "description": ""})
    _, output = run(site, project, capsys, monkeypatch)
    assert "f/atom/platform_services_token: the platform services token this stack's platformLink writes" in output
    assert "platform_services_token" not in str(section(project)["variables"])


def test_a_stack_with_a_workspace_file_gets_the_file(site, project, capsys, monkeypatch):
    text = (project / STACK_FILE).read_text()
    start = text.index("  homeops-windmill:workspace:")
    end = text.index("  # How homeops-financial")
    (project / STACK_FILE).write_text(text[:start] + "  homeops-windmill:workspaceFile: workspaces/financial.yaml\n"
                                      + text[end:])
    stack_before = (project / STACK_FILE).read_text()
    code, output = run(site, project, capsys, monkeypatch)
    assert code == 0, output
    assert (project / STACK_FILE).read_text() == stack_before
    written = yaml.safe_load((project / "workspaces" / "financial.yaml").read_text())
    assert written["id"] == hand.WORKSPACE and written["adopt"] is True


def test_a_new_stack_file_is_created_when_there_is_none(site, project, capsys, monkeypatch):
    (project / STACK_FILE).unlink()
    code, output = run(site, project, capsys, monkeypatch)
    assert code == 0, output
    config = yaml.safe_load((project / STACK_FILE).read_text())["config"]
    assert config["homeops-windmill:role"] == "domain" and config["homeops-windmill:domain"] == "financial"


def test_the_command_line_reads_the_token_from_the_environment_only(site, project):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "WINDMILL_TOKEN": site.create_token(hand.ADMIN)}
    done = subprocess.run([sys.executable, "-m", "homeops", "import", "--url", site.url, "--workspace", hand.WORKSPACE,
                           "--stack", "financial", "--project-dir", str(project)],
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr
    assert env["WINDMILL_TOKEN"] not in done.stdout + done.stderr
    without = subprocess.run([sys.executable, "-m", "homeops", "import", "--url", site.url, "--workspace",
                              hand.WORKSPACE, "--stack", "financial", "--project-dir", str(project)],
                             env={**env, "WINDMILL_TOKEN": ""}, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL, check=False)
    assert without.returncode == 2 and "no API token: set WINDMILL_TOKEN" in without.stderr
    help_text = subprocess.run([sys.executable, "-m", "homeops", "import", "--help"], env=env, capture_output=True,
                               text=True, timeout=60, check=False).stdout
    assert "--token" not in help_text.replace("--token-env", "")  # no flag that would put a token in shell history


def test_plain_http_to_another_machine_is_refused_unless_allowed(site, project, capsys, monkeypatch):
    monkeypatch.setenv("WINDMILL_TOKEN", "never-sent")
    code = main(["import", "--url", "http://windmill.homeops.example", "--workspace", hand.WORKSPACE, "--stack",
                 "financial", "--project-dir", str(project)])
    output = capsys.readouterr().err
    assert code == 2 and "the token would cross the network unencrypted" in output
    assert site.requests == []
