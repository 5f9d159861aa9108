"""The import's text handling: only the workspace block of a stack file is replaced, the YAML is the
project's style and stable, secret names are stable and unique, and conversion keeps to the config."""

from __future__ import annotations

import yaml

from homeops.convert import Previous, convert, secret_names
from homeops.live import LiveWorkspace
from homeops.settings_convert import convert_schedule, convert_settings
from homeops.stack_file import HEADER, render, with_workspace_block

STACK = """\
# A comment at the top.
config:
  homeops-windmill:role: domain   # trailing comment
  homeops-windmill:workspace:
    id: old
    # a comment inside the block goes with it
    folders:
      - name: a

  # A comment that belongs to the next key.
  homeops-windmill:secrets:
    token:
      secure: v1:abc
encryptionsalt: v1:salt
"""
SECTION = {"id": "new", "name": "New", "folders": [{"name": "b", "owners": ["g/x"]}]}


def test_only_the_workspace_block_is_replaced() -> None:
    updated = with_workspace_block(STACK, SECTION)
    assert updated == STACK.replace(
        "    id: old\n    # a comment inside the block goes with it\n    folders:\n      - name: a\n",
        f"    {HEADER}\n    id: new\n    name: New\n    folders:\n      - name: b\n        owners:\n          - g/x\n",
    )
    parsed = yaml.safe_load(updated)
    assert parsed["config"]["homeops-windmill:workspace"] == SECTION
    assert parsed["config"]["homeops-windmill:secrets"] == {"token": {"secure": "v1:abc"}}
    assert with_workspace_block(updated, SECTION) == updated  # idempotent


def test_a_file_without_the_key_gets_it_at_the_end_of_config() -> None:
    text = "config:\n  homeops-windmill:role: domain\nencryptionsalt: v1:salt\n"
    updated = with_workspace_block(text, SECTION)
    assert updated.startswith("config:\n  homeops-windmill:role: domain\n  homeops-windmill:workspace:\n")
    assert updated.endswith("encryptionsalt: v1:salt\n")
    assert yaml.safe_load(updated)["config"]["homeops-windmill:workspace"] == SECTION
    inline = "config:\n  homeops-windmill:workspace: {}\n  homeops-windmill:role: domain\n"
    assert yaml.safe_load(with_workspace_block(inline, SECTION))["config"] == {
        "homeops-windmill:workspace": SECTION, "homeops-windmill:role": "domain"}


def test_rendering_keeps_the_order_quotes_what_needs_it_and_never_folds() -> None:
    data = {"z": "#16a34a", "a": "true", "long": "x " * 200, "text": "two\nlines\n", "ref": "$var:f/a/b"}
    text = render(data)
    assert list(yaml.safe_load(text)) == ["z", "a", "long", "text", "ref"]
    assert yaml.safe_load(text) == data
    assert len(text.splitlines()) == 7  # one line each, the two-line text as a literal block
    assert render(data) == text


def test_secret_names_are_stable_unique_and_keep_what_the_stack_uses() -> None:
    paths = ["f/a/key", "f/b/key", "f/b/key-2", "f/c/9lives"]
    names = secret_names(paths, {})
    assert names == {"f/a/key": "key", "f/b/key": "b_key", "f/b/key-2": "key_2", "f/c/9lives": "_9lives"}
    assert secret_names(list(reversed(paths)), {}) == names
    kept = secret_names(paths, {"f/b/key": "key", "f/a/key": "not valid!"})
    assert kept["f/b/key"] == "key" and kept["f/a/key"] == "a_key"


def test_handlers_outside_the_workspace_keep_a_schedule_out_and_say_why() -> None:
    skipped: list[tuple[str, str, str]] = []
    row = {"path": "f/a/s", "schedule": "0 0 1 * * *", "timezone": "UTC", "script_path": "f/a/job",
           "is_flow": False, "enabled": True, "on_failure": "script/hub/123/slack", "on_failure_times": 1}
    assert convert_schedule(row, {"a": {}}, lambda *item: skipped.append(item)) is None
    assert skipped == [("schedule", "f/a/s", "its onFailure handler script/hub/123/slack is outside the imported "
                                             "folders")]
    row["on_failure"], row["on_failure_exact"] = "flow/f/a/alert", True
    assert convert_schedule(row, {"a": {}}, lambda *item: skipped.append(item)) == {
        "path": "f/a/s", "schedule": "0 0 1 * * *", "script": "f/a/job", "enabled": True,
        "onFailure": {"flow": "f/a/alert", "exact": True}}


def test_settings_the_project_does_not_model_are_listed() -> None:
    skipped: list[tuple[str, str, str]] = []
    live = {"workspace_id": "w", "slack_email": "missing@email.xyz", "color": "#000000", "webhook": "https://h",
            "mute_critical_alerts": True, "operator_settings": {"runs": True, "audit_logs": False}}
    settings = convert_settings(live, {"REGION": "eu"}, {}, lambda *item: skipped.append(item))
    assert settings == {"webhook": "https://h", "operatorSettings": {"auditLogs": False}, "envVars": {"REGION": "eu"}}
    assert [s[1] for s in skipped] == ["mute_critical_alerts"]


def test_a_resource_that_references_what_is_not_imported_is_left_out() -> None:
    live = LiveWorkspace(id="w", name="W", color=None)
    live.folders = [{"name": "a", "owners": [], "extra_perms": {}}]
    live.variables = [{"path": "u/me/key", "is_secret": True}]
    live.resources = [{"path": "f/a/db", "resource_type": "postgresql", "value": {"password": "$var:u/me/key"}},
                      {"path": "f/a/wrapper", "resource_type": "c_wrap", "value": {}},
                      {"path": "f/a/uses", "resource_type": "http", "value": {"inner": "$res:f/a/db"}}]
    result = convert(live, Previous())
    assert "resources" not in result.section
    reasons = {s.name: s.reason for s in result.skipped}
    assert reasons["f/a/db"] == "references $var:u/me/key, which is not imported"
    assert reasons["f/a/uses"] == "references $res:f/a/db, which is not imported"
    assert reasons["f/a/wrapper"] == "its type c_wrap is not a custom type of this workspace"


def test_credentials_in_plain_text_are_listed_and_never_converted() -> None:
    live = LiveWorkspace(id="w", name="W", color=None)
    live.folders = [{"name": "a", "owners": [], "extra_perms": {}}]
    live.variables = [{"path": "f/a/api_token", "is_secret": False, "value": "plain-token-1"},
                      {"path": "f/a/region", "is_secret": False, "value": "eu"}]
    live.resources = [{"path": "f/a/smtp", "resource_type": "smtp", "value": {"host": "h", "auth": {"password": "p1"}}},
                      {"path": "f/a/db", "resource_type": "postgresql", "value": {"password": "$var:f/a/region"}}]
    result = convert(live, Previous())
    reasons = {s.name: s.reason for s in result.skipped}
    assert reasons["f/a/api_token"].startswith("a plain (not secret) variable whose name says it holds a credential")
    assert reasons["f/a/smtp"].startswith("its value holds auth.password in plain text")
    assert [v["path"] for v in result.section["variables"]] == ["f/a/region"]
    assert [r["path"] for r in result.section["resources"]] == ["f/a/db"]
    assert "plain-token-1" not in str(result.section) and "p1" not in str(result.section)
