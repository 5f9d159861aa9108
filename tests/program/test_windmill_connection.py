"""The program hands every Windmill resource its connection (the provider's one source) and its
``windmill_kind``, on the platform stack and on a domain stack."""

from __future__ import annotations

import pytest

from testkit.mocking import Registration, is_secret, unwrap_secrets
from testkit.program import (
    FINANCIAL_SECRETS,
    PLATFORM_OUTPUTS,
    PLATFORM_SECRETS,
    ProgramRun,
    load_stack_config,
    run_program,
)

API_RESOURCES = ("Workspace", "Folder", "Group", "Member", "Variable", "Resource", "ResourceType", "Token",
                 "EditionLimits")
KINDS = {"Workspace": "workspace", "Folder": "folder", "Group": "group", "Member": "member", "Variable": "variable",
         "Resource": "resource", "ResourceType": "resource_type", "Token": "token", "ReadinessGate": "readiness_gate",
         "EditionLimits": "edition_limits",
         "Schedule": "schedule", "Script": "script", "WorkspaceSettings": "workspace_settings"}


def _windmill_resources(run: ProgramRun) -> list[Registration]:
    return [r for r in run.env.registrations if r.typ.startswith("pulumi-python:dynamic/windmill:")]


@pytest.mark.parametrize(("stack", "secrets", "url"), [
    ("platform", PLATFORM_SECRETS, "http://127.0.0.1"),  # the Docker stack's Caddy on loopback
    ("financial", FINANCIAL_SECRETS, PLATFORM_OUTPUTS["windmillApiUrl"]),  # the platform stack's output
])
def test_every_windmill_resource_gets_url_token_and_the_configured_timeouts(stack: str, secrets: dict,
                                                                             url: str) -> None:
    config = load_stack_config(stack)
    config["homeops-windmill:windmillConnectTimeoutSeconds"] = 7
    config["homeops-windmill:windmillReadTimeoutSeconds"] = 45
    run = run_program(config, secrets=secrets, stack=stack, platform_outputs=PLATFORM_OUTPUTS)
    resources = _windmill_resources(run)
    assert {r.typ.rsplit(":", 1)[1] for r in resources} >= {"Workspace", "Folder", "Variable", "Resource"}
    for resource in resources:
        kind = resource.typ.rsplit(":", 1)[1]
        assert resource.plain_inputs["windmill_kind"] == KINDS[kind]
        if kind not in API_RESOURCES:
            continue
        assert resource.plain_inputs["api_url"] == url
        assert is_secret(resource.inputs["api_token"])
        assert unwrap_secrets(resource.inputs["api_token"]) == PLATFORM_SECRETS["windmillToken"]
        assert resource.plain_inputs["api_connect_timeout_seconds"] == 7
        assert resource.plain_inputs["api_read_timeout_seconds"] == 45
        assert "api_token" in resource.additional_secret_outputs
