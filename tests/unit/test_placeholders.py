"""Placeholders: the RFC 2606 rule, placeholders.yaml kept complete and current, and the command's lines."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.placeholders import (
    ACCEPT_ENV,
    EVERY_STACK,
    PLACEHOLDERS_FILE,
    RULE_WHAT,
    accepted_by_environment,
    find_placeholders,
    format_path,
    listed_for,
    parse_path,
    read_list,
    reserved_example,
)
from components.config.schema import PROJECT
from homeops.__main__ import main
from homeops.placeholders_command import placeholder_lines

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ("platform", "financial")
GENERIC = RULE_WHAT.split("{", 1)[0]
LINE = re.compile(r"(?P<file>[^:]+):(?P<line>\d+): (?P<key>\S+) = (?P<value>.+?)  \((?P<what>.+)\)")


def stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text())
    return {k.removeprefix(f"{PROJECT}:"): v for k, v in document["config"].items()}


def value_at(config: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        if isinstance(part, int):
            if not isinstance(config, list) or part >= len(config):
                return None
            config = config[part]
        else:
            if not isinstance(config, dict) or part not in config:
                return None
            config = config[part]
    return config


def string_leaves(value: Any, parts: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        return [(parts, value)]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in string_leaves(v, (*parts, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in string_leaves(v, (*parts, i))]
    return []


@pytest.mark.parametrize(("value", "found"), [
    ("postgres.homeops.example", "postgres.homeops.example"),
    ("trader@homeops.example", "trader@homeops.example"),
    ("https://windmill.example.com/api", "windmill.example.com"),
    ("example.org", "example.org"),
    ("EXAMPLE.NET", "EXAMPLE.NET"),
    ("ssh://deploy@docker-host.homeops.example", "deploy@docker-host.homeops.example"),
    ("postgres://atom:pw@db.example.net:5432/trading", "pw@db.example.net"),
    ("send to ops@homeops.example.", "ops@homeops.example"),
    ("Host db.example\nPort 22", "db.example"),
])
def test_the_rule_finds_names_under_reserved_example_domains(value: str, found: str) -> None:
    assert reserved_example(value) == found


@pytest.mark.parametrize("value", [
    "for example", "example", "examples.com", "notexample.com", "my.example.community", "example.com.au",
    "windmill-automation@homeops.invalid", "http://windmill.test", "localhost", "https://hooks.slack.com/x",
    "https://paper-api.alpaca.markets", "$var:f/atom/example_key", "f/example/x",
])
def test_the_rule_leaves_other_values_alone(value: str) -> None:
    assert reserved_example(value) is None


@pytest.mark.parametrize("path", ["githubSync.owner", "workspace.members[0].email", "workspace.groups[0].members[1]",
                                  "workspace.resources[12].value.host", "secrets"])
def test_a_key_path_reads_and_writes_as_pulumi_config_path_does(path: str) -> None:
    assert format_path(parse_path(path)) == path
    assert parse_path("workspace.members[0].email") == ("workspace", "members", 0, "email")


@pytest.mark.parametrize("path", ["", ".a", "a..b", "a[x]", "a[0"])
def test_a_malformed_key_path_is_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_path(path)


def test_every_section_of_the_list_is_a_committed_stack_or_every_stack() -> None:
    assert set(read_list()) == {EVERY_STACK, *COMMITTED}


@pytest.mark.parametrize("stack", COMMITTED)
def test_every_listed_entry_still_holds_its_placeholder_in_its_stack_file(stack: str) -> None:
    config = stack_config(stack)
    for entry in read_list()[stack]:
        assert value_at(config, entry.parts) == entry.value, f"placeholders.yaml: {stack}: {entry.key} is stale"


def test_every_every_stack_entry_is_in_a_committed_stack_file() -> None:
    for entry in read_list()[EVERY_STACK]:
        assert any(value_at(stack_config(s), entry.parts) == entry.value for s in COMMITTED), entry.key


@pytest.mark.parametrize("stack", COMMITTED)
def test_every_example_value_of_a_committed_stack_is_listed_with_what_to_put(stack: str) -> None:
    config = stack_config(stack)
    found = find_placeholders(config, listed_for(stack, read_list()))
    # An oracle independent of the rule's expression: any mention of a reserved example domain.
    mentions = {parts for parts, text in string_leaves(config)
                if ".example" in text.lower() or any(f"example.{t}" in text.lower() for t in ("com", "net", "org"))}
    assert mentions, "the committed stack files have example hosts and members"
    assert mentions <= {p.parts for p in found}
    unlisted = [p.path for p in found if p.what.startswith(GENERIC)]
    assert unlisted == [], f"add these to {PLACEHOLDERS_FILE.name} with what to put there"
    assert {p.path for p in found} == {e.key for e in listed_for(stack, read_list())
                                       if value_at(config, e.parts) == e.value}


def test_secret_keys_are_never_read_and_plain_keys_are() -> None:
    config = {"secrets": {"hook": "https://hooks.slack.example/T0/secret-7f"}, "githubToken": "x@token.example",
              "windmillUrl": "https://windmill.example.com"}
    found = find_placeholders(config, [])
    assert [p.key for p in found] == [f"{PROJECT}:windmillUrl"]


@pytest.mark.parametrize("stack", COMMITTED)
def test_each_listed_line_is_the_line_of_its_value(stack: str) -> None:
    lines = placeholder_lines(ROOT / f"Pulumi.{stack}.yaml", stack, ROOT)
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text().splitlines()
    assert len(lines) == len([e for e in listed_for(stack, read_list())
                              if value_at(stack_config(stack), e.parts) == e.value])
    for line in lines:
        match = LINE.fullmatch(line)
        assert match and match["file"] == f"Pulumi.{stack}.yaml", line
        assert match["value"] in text[int(match["line"]) - 1], (line, text[int(match["line"]) - 1])


def test_a_workspace_file_placeholder_is_named_by_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "workspaces").mkdir()
    (tmp_path / "workspaces" / "media.yaml").write_text(
        "name: HomeOps Media\nfolders:\n  - name: media\nmembers:\n"
        "  - email: viewer@media.example\n    role: operator\n")
    (tmp_path / "Pulumi.media.yaml").write_text(
        f"config:\n  {PROJECT}:role: domain\n  {PROJECT}:domain: media\n"
        f"  {PROJECT}:workspaceFile: workspaces/media.yaml\n")
    lines = placeholder_lines(tmp_path / "Pulumi.media.yaml", "media", tmp_path)
    assert len(lines) == 1
    assert lines[0].startswith("workspaces/media.yaml:5: members[0].email = viewer@media.example  (a value of your own")


def test_the_command_exits_1_while_placeholders_remain_and_0_when_none_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["placeholders", "--stack", "financial", "--project-dir", str(ROOT)]) == 1
    out = capsys.readouterr().out.splitlines()
    line = (ROOT / "Pulumi.financial.yaml").read_text().splitlines().index("      - email: trader@homeops.example") + 1
    assert f"Pulumi.financial.yaml:{line}: workspace.members[0].email = trader@homeops.example  (the e-mail of an " \
           "existing Windmill user who administers homeops-financial)" in out
    shutil.copy(ROOT / "Pulumi.financial.yaml", tmp_path / "Pulumi.financial.yaml")
    text = (tmp_path / "Pulumi.financial.yaml").read_text()
    for old, new in [("trader@homeops.example", "trader@acme.io"), ("analyst@homeops.example", "analyst@acme.io"),
                     ("timescaledb.homeops.example", "tsdb.acme.internal"), ("owner: homeops", "owner: acme"),
                     ("repository: HomeOps", "repository: automation")]:
        text = text.replace(old, new)
    (tmp_path / "Pulumi.financial.yaml").write_text(text)
    assert main(["placeholders", "--stack", "financial", "--project-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Pulumi.financial.yaml: no placeholders left\n"
    assert main(["placeholders", "--stack", "nosuch", "--project-dir", str(tmp_path)]) == 2
    assert "--stack nosuch" in capsys.readouterr().err


@pytest.mark.parametrize("stack", COMMITTED)
def test_the_stack_file_header_says_where_its_placeholders_are_listed(stack: str) -> None:
    header = (ROOT / f"Pulumi.{stack}.yaml").read_text().split("\nconfig:", 1)[0]
    assert "placeholders.yaml" in header and f"python -m homeops placeholders --stack {stack}" in header


@pytest.mark.parametrize(("value", "accepted"), [("1", True), (" 1 ", True), ("", False), ("0", False),
                                                 ("true", False), ("yes", False)])
def test_only_the_environment_variable_set_to_1_accepts_placeholders(
    value: str, accepted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ACCEPT_ENV, value)
    assert accepted_by_environment() is accepted
    monkeypatch.delenv(ACCEPT_ENV)
    assert accepted_by_environment() is False
