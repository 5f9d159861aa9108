"""``python -m homeops secrets`` up to the point where it would call the Pulumi CLI.

What it reads from a stack file (set, plain, missing), what ``--list`` prints, and every refusal that
comes before anything is written: no terminal and no variable, an empty variable, an unknown
``--rotate``, no CLI, no passphrase. Storing through the real CLI is the engine tier's
(tests/engine/test_secrets_command.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from homeops import secrets_command
from homeops.secret_setup import MISSING, PLAIN, SET, SetupError, StackSecrets, config_set_args

P = "homeops-windmill:"
STACK_FILE = f"""encryptionsalt: v1:c2FsdA==:v1:AAAA:BBBB
config:
  {P}role: domain
  {P}domain: media
  {P}secrets:
    plex_token:
      secure: v1:AAAAAAAAAAAAAAAA:ciphertext-of-plex
    radarr_key: plain-value-in-the-file-0d3c
  {P}workspace:
    variables:
      - {{path: f/media/plex_token, secret: plex_token, description: Plex API token}}
      - {{path: f/media/radarr_key, secret: radarr_key}}
      - {{path: f/media/sonarr_key, secret: sonarr_key, description: Sonarr API key}}
  {P}githubSync:
    repository: HomeOps
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: homeops-windmill\nruntime: python\n")
    (tmp_path / "Pulumi.media.yaml").write_text(STACK_FILE)
    return tmp_path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    secrets_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["secrets", *argv])


def run(project: Path, *argv: str, env: dict[str, str] | None = None, interactive: bool = False) -> int:
    args = parse("--stack", "media", "--project-dir", str(project), *argv)
    try:
        return secrets_command._run(args, {"PATH": "", **(env or {})}, interactive)
    except SetupError as error:
        print(f"refused: {error}")
        return 2


def test_the_stack_file_says_which_secrets_are_set_plain_or_missing(project: Path) -> None:
    states = {s.need.name: s.state for s in StackSecrets.load(project, "media").states}
    assert states == {"secrets.plex_token": SET, "secrets.radarr_key": PLAIN, "secrets.sonarr_key": MISSING,
                      "githubToken": MISSING, "wmillSyncToken": MISSING}


def test_list_prints_each_secret_its_state_and_variable_and_no_value(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "--list", env={"HOMEOPS_SECRET_SONARR_KEY": "sonarr-value-8e1f"}) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    plex = lines[f"{P}secrets.plex_token"]
    assert "  set  " in plex and "HOMEOPS_SECRET_PLEX_TOKEN" in plex
    assert "plain text" in lines[f"{P}secrets.radarr_key"]
    assert "missing (optional)" in lines[f"{P}wmillSyncToken"] and "HOMEOPS_WMILL_SYNC_TOKEN" in out
    assert "Sonarr API key" in lines[f"{P}secrets.sonarr_key"]
    for value in ("ciphertext-of-plex", "plain-value-in-the-file-0d3c", "sonarr-value-8e1f"):
        assert value not in out


def test_without_a_terminal_every_missing_secret_is_named_with_its_variable_and_nothing_is_written(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "Pulumi.media.yaml").read_text()
    assert run(project, env={"HOMEOPS_SECRET_SONARR_KEY": "sonarr-value-8e1f"}) == 2
    out = capsys.readouterr().out
    assert f"{P}secrets.radarr_key: export HOMEOPS_SECRET_RADARR_KEY=" in out  # plain text: set it again
    assert f"{P}githubToken: export HOMEOPS_GITHUB_TOKEN=" in out
    assert "sonarr_key" not in out and "wmillSyncToken" not in out  # given, and optional
    assert "nothing was written" in out and "sonarr-value-8e1f" not in out
    assert (project / "Pulumi.media.yaml").read_text() == before


def test_an_empty_variable_is_refused_by_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, env={"HOMEOPS_SECRET_SONARR_KEY": ""}, interactive=True) == 2
    assert "HOMEOPS_SECRET_SONARR_KEY is set but empty (homeops-windmill:secrets.sonarr_key)" in capsys.readouterr().out


def test_rotate_takes_a_key_in_any_of_its_spellings_and_refuses_another(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = StackSecrets.load(project, "media")
    for written in (f"{P}secrets.plex_token", "secrets.plex_token", "plex_token"):
        assert stack.find(written).need.name == "secrets.plex_token"
    assert run(project, "--rotate", "secrets.nope") == 2
    out = capsys.readouterr().out
    assert "--rotate secrets.nope: not a secret this stack needs" in out and "secrets.plex_token" in out


def test_without_the_cli_on_path_it_says_how_to_get_one(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"HOMEOPS_SECRET_RADARR_KEY": "r", "HOMEOPS_SECRET_SONARR_KEY": "s", "HOMEOPS_GITHUB_TOKEN": "g",
           "PULUMI_CONFIG_PASSPHRASE": "p"}
    assert run(project, env=env) == 2
    assert "scripts/install-pulumi-cli" in capsys.readouterr().out


def test_a_passphrase_stack_without_a_passphrase_and_no_terminal_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text("#!/bin/sh\nexit 99\n")
    (fake / "pulumi").chmod(0o755)
    env = {"PATH": str(fake), "HOMEOPS_SECRET_RADARR_KEY": "r", "HOMEOPS_SECRET_SONARR_KEY": "s",
           "HOMEOPS_GITHUB_TOKEN": "g"}
    assert run(project, env=env) == 2
    assert "set PULUMI_CONFIG_PASSPHRASE" in capsys.readouterr().out


def test_with_every_secret_set_it_asks_nothing_and_needs_no_cli(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = STACK_FILE.replace("    radarr_key: plain-value-in-the-file-0d3c\n",
                              "    radarr_key: {secure: v1:x}\n    sonarr_key: {secure: v1:y}\n")
    text += f"  {P}githubToken:\n    secure: v1:z\n"
    (project / "Pulumi.media.yaml").write_text(text)
    assert run(project) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_names_that_differ_in_case_only_share_a_variable_and_are_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = STACK_FILE.replace("secret: sonarr_key,", "secret: Radarr_Key,")
    (project / "Pulumi.media.yaml").write_text(text)
    assert run(project, env={"HOMEOPS_GITHUB_TOKEN": "g"}) == 2
    assert "secrets.radarr_key and secrets.Radarr_Key share HOMEOPS_SECRET_RADARR_KEY" in capsys.readouterr().out


def test_a_missing_stack_file_or_project_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path) == 2
    assert "has no Pulumi.yaml" in capsys.readouterr().out
    (tmp_path / "Pulumi.yaml").write_text("name: homeops-windmill\n")
    assert run(tmp_path) == 2
    assert "Pulumi.media.yaml does not exist" in capsys.readouterr().out


def test_the_config_set_arguments_carry_the_key_and_never_a_value(project: Path) -> None:
    states = {s.need.name: s for s in StackSecrets.load(project, "media").states}
    assert config_set_args("media", states["secrets.sonarr_key"].need) == [
        "config", "set", "--stack", "media", "--secret", "--path", "secrets.sonarr_key"]
    assert config_set_args("media", states["githubToken"].need) == [
        "config", "set", "--stack", "media", "--secret", "githubToken"]
