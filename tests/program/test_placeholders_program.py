"""The placeholder check in the whole program under mocks (components/config/placeholders.py).

A preview of a committed stack file warns about each placeholder and still declares everything; an up
refuses with one error naming every placeholder's key and what to put there, before any resource is
registered; ``HOMEOPS_ACCEPT_PLACEHOLDERS=1`` lets the up go ahead; and a new domain stack copied from
the financial one, its ``@homeops.example`` members kept, is caught by the rule.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from components.config.errors import ConfigErrors
from components.config.placeholders import ACCEPT_ENV, listed_for, read_list
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, PLATFORM_SECRETS, load_stack_config, run_program

P = "homeops-windmill:"
WS = "pulumi-python:dynamic/windmill:Workspace"
SECRETS = {"platform": PLATFORM_SECRETS, "financial": FINANCIAL_SECRETS}
MEDIA_MEMBERS = ("trader@homeops.example", "analyst@homeops.example")


def listed(stack: str) -> dict[str, str]:
    """Full key -> what to put, for the entries placeholders.yaml lists for ``stack``."""
    return {P + entry.key: entry.what for entry in listed_for(stack, read_list())}


def secret_values(secrets: dict[str, Any]) -> list[str]:
    return [v for k, v in secrets.items() if k != "secrets"] + list(secrets["secrets"].values())


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("stack", ["platform", "financial"])
def test_a_preview_warns_about_each_placeholder_and_declares_everything(
    stack: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        run = run_program(load_stack_config(stack), secrets=SECRETS[stack], stack=stack,
                          platform_outputs=PLATFORM_OUTPUTS, preview=True, accept_placeholders=False)
    warnings = warnings_of(caplog)
    for key in listed(stack):
        assert any(w.startswith(f"{key}: ") and "is a placeholder" in w and f"--stack {stack}" in w
                   for w in warnings), (key, warnings)
    assert run.env.one(WS, f"{stack}-workspace")
    assert not any(ACCEPT_ENV in w for w in warnings)  # a preview needs no escape hatch


@pytest.mark.parametrize("stack", ["platform", "financial"])
def test_up_refuses_naming_every_placeholder_before_any_resource(stack: str) -> None:
    seen: list[Any] = []
    with pytest.raises(ConfigErrors) as caught:
        run_program(load_stack_config(stack), secrets=SECRETS[stack], stack=stack,
                    platform_outputs=PLATFORM_OUTPUTS, seen=seen, accept_placeholders=False)
    expected = listed(stack)
    assert caught.value.keys == set(expected)  # every placeholder, and nothing else is wrong with the file
    message = str(caught.value)
    for error in caught.value.errors:
        assert expected[error.key] in error.problem
    assert f"python -m homeops placeholders --stack {stack}" in message and f"{ACCEPT_ENV}=1" in message
    assert message.count("pulumi up refuses") == 1  # one note after the list, not one per placeholder
    assert seen[0].registrations == []  # nothing declared, so nothing is created or deleted
    for value in secret_values(SECRETS[stack]):
        assert value not in message


def test_the_environment_variable_lets_up_go_ahead_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        run = run_program(load_stack_config("financial"), secrets=FINANCIAL_SECRETS, stack="financial",
                          platform_outputs=PLATFORM_OUTPUTS, accept_placeholders=True)
    assert run.env.one(WS, "financial-workspace")
    assert run.exports["workspaceId"] == "homeops-financial"
    assert any(w.startswith(f"{ACCEPT_ENV}=1: pulumi up goes ahead with {len(listed('financial'))} placeholder")
               for w in warnings_of(caplog))


def media_copy_of_financial() -> dict[str, Any]:
    """A new domain stack made by copying Pulumi.financial.yaml and renaming what a domain owns."""
    config = copy.deepcopy(load_stack_config("financial"))
    config[P + "domain"] = "media"
    config[P + "workspace"]["id"] = "homeops-media"
    config[P + "platformLink"]["triggers"]["variable"] = "f/deployment/media_trigger_token"
    config[P + "githubSync"].update(folder="subprojects/media-stack/windmill", workflowFile="media-sync.yml")
    return config


def test_a_new_domain_copied_from_financial_is_caught_by_the_rule(caplog: pytest.LogCaptureFixture) -> None:
    config = media_copy_of_financial()
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=FINANCIAL_SECRETS, stack="media", platform_outputs=PLATFORM_OUTPUTS,
                    accept_placeholders=False)
    errors = {e.key: e.problem for e in caught.value.errors}
    for key in ("workspace.members[0].email", "workspace.members[1].email", "workspace.groups[0].members[0]",
                "workspace.groups[0].members[1]", "workspace.resources[2].value.host"):
        assert "reserved for examples (RFC 2606" in errors.pop(P + key), key
    # The sync repository is listed for every stack, so a copy keeps its "what to put".
    assert set(errors) == {P + "githubSync.owner", P + "githubSync.repository"}
    # The same copy previews, with the warnings, so its author sees what to change.
    with caplog.at_level(logging.WARNING):
        run = run_program(config, secrets=FINANCIAL_SECRETS, stack="media", platform_outputs=PLATFORM_OUTPUTS,
                          preview=True, accept_placeholders=False)
    assert run.env.one(WS, "media-workspace").plain_inputs["workspace_id"] == "homeops-media"
    assert sum("is a placeholder" in w for w in warnings_of(caplog)) == 7


def test_a_placeholder_in_the_workspace_file_is_caught_with_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = media_copy_of_financial()
    (tmp_path / "workspaces").mkdir()
    (tmp_path / "workspaces" / "media.yaml").write_text(json.dumps(config.pop(P + "workspace")))
    config[P + "workspaceFile"] = "workspaces/media.yaml"
    config[P + "githubSync"].update(owner="acme", repository="automation")
    monkeypatch.chdir(tmp_path)  # Pulumi runs the program in the project folder
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=FINANCIAL_SECRETS, stack="media", platform_outputs=PLATFORM_OUTPUTS,
                    accept_placeholders=False)
    assert caught.value.keys == {
        "workspaces/media.yaml: members[0].email", "workspaces/media.yaml: members[1].email",
        "workspaces/media.yaml: groups[0].members[0]", "workspaces/media.yaml: groups[0].members[1]",
        "workspaces/media.yaml: resources[2].value.host",
    }


def test_a_stack_with_every_placeholder_replaced_deploys_without_the_escape_hatch(
    caplog: pytest.LogCaptureFixture
) -> None:
    config = media_copy_of_financial()
    text = json.dumps(config)
    for old, new in [*((m, m.replace("homeops.example", "acme.io")) for m in MEDIA_MEMBERS),
                     ("timescaledb.homeops.example", "tsdb.acme.internal"), ('"owner": "homeops"', '"owner": "acme"'),
                     ('"repository": "HomeOps"', '"repository": "automation"')]:
        text = text.replace(old, new)
    with caplog.at_level(logging.WARNING):
        run = run_program(json.loads(text), secrets=FINANCIAL_SECRETS, stack="media",
                          platform_outputs=PLATFORM_OUTPUTS, accept_placeholders=False)
    assert run.env.one(WS, "media-workspace")
    assert not any("placeholder" in w for w in warnings_of(caplog))
