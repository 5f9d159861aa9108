"""``workspace.adopt: true`` reaches everything the workspace declares, and nothing else; without it,
no resource carries ``adopt`` (so a preview shows it only where objects are being taken over)."""

from __future__ import annotations

import copy

from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, load_stack_config, run_program

DYNAMIC = "pulumi-python:dynamic/windmill:"
ADOPTABLE = ("Workspace", "Folder", "Group", "Member", "ResourceType", "Variable", "Resource", "Schedule",
             "WorkspaceSettings")
SCHEDULE = {"path": "f/atom/nightly", "schedule": "0 0 22 * * *", "script": "f/atom/nightly_scan"}


def _run(adopt: bool):
    config = copy.deepcopy(load_stack_config("financial"))
    workspace = config["homeops-windmill:workspace"]
    workspace["schedules"] = [SCHEDULE]
    if adopt:
        workspace["adopt"] = True
    return run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS)


def test_workspace_adopt_extends_to_every_object_of_the_workspace_and_the_preview_says_so() -> None:
    env = _run(adopt=True).env
    for kind in ADOPTABLE:
        found = env.find(DYNAMIC + kind)
        assert found, kind
        for registration in found:
            if registration.parent_type == "homeops:windmill:PlatformLink":
                continue  # the link's token variables are minted values, never adopted
            assert registration.plain_inputs.get("adopt") is True, (kind, registration.name)
    link_variables = [r for r in env.find(DYNAMIC + "Variable") if r.parent_type == "homeops:windmill:PlatformLink"]
    assert link_variables and all(not r.plain_inputs.get("adopt") for r in link_variables)
    assert all("adopt" not in r.plain_inputs or not r.plain_inputs["adopt"] for r in env.find(DYNAMIC + "Token"))


def test_without_adopt_only_the_fields_that_always_had_it_are_set() -> None:
    env = _run(adopt=False).env
    for kind in ADOPTABLE:
        for registration in env.find(DYNAMIC + kind):
            value = registration.plain_inputs.get("adopt")
            # Workspace and Member always had an adopt input (false); the others leave it unset.
            assert value is (False if kind in ("Workspace", "Member") else None), (kind, registration.name, value)
