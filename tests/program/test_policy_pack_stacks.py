"""The policy pack against what the real program declares for each committed stack file.

The program runs under mocks (testkit.program); every registration becomes what the policy SDK
hands the policies: ``ResourceValidationArgs`` from its inputs, ``StackValidationArgs`` from its
state, with the protect option and the property dependencies the engine would report (recorded
from the RegisterResource requests). Mandatory policies must all pass; the advisory findings are
listed exactly, so a new one is a deliberate change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from components.config.errors import ConfigErrors
from policy.homeops_policy import POLICIES
from testkit.mocking import MockEnvironment, unwrap_secrets
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, PLATFORM_SECRETS, load_stack_config, run_program

GENERATED = {"random:index/randomPassword:RandomPassword": lambda args: {"result": "generated-" + "x" * 32}}


def without_sync_token(secrets: dict[str, Any]) -> dict[str, Any]:
    """No wmillSyncToken: the stack mints the sync workflow's token, the path the policies check."""
    return {k: v for k, v in secrets.items() if k != "wmillSyncToken"}


class DependencyRecorder(list[MockEnvironment]):
    """Passed as run_program's ``seen``: wraps the mock monitor of the run so the propertyDependencies
    of every RegisterResource request are kept (keyed by type and name)."""

    def __init__(self) -> None:
        super().__init__()
        self.dependencies: dict[tuple[str, str], dict[str, list[str]]] = {}

    def append(self, env: MockEnvironment) -> None:
        original = env.monitor.RegisterResource

        def register(request: Any) -> Any:
            self.dependencies[(request.type, request.name)] = {
                key: list(value.urns) for key, value in request.propertyDependencies.items()
            }
            return original(request)

        env.monitor.RegisterResource = register  # type: ignore[method-assign]
        super().append(env)


def options(protect: bool) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def findings(stack: str, changes: dict[str, Any] | None = None) -> Iterator[tuple[EnforcementLevel, str, str]]:
    config = {**load_stack_config(stack), **(changes or {})}
    seen = DependencyRecorder()
    dependencies = seen.dependencies
    if stack == "platform":
        run = run_program(config, secrets=without_sync_token(PLATFORM_SECRETS), outputs=GENERATED, seen=seen)
    else:
        run = run_program(config, secrets=without_sync_token(FINANCIAL_SECRETS), platform_outputs=PLATFORM_OUTPUTS,
                          outputs=GENERATED, seen=seen)
    registrations = [r for r in run.env.registrations if r.urn]
    by_urn: dict[str, PolicyResource] = {}
    for r in registrations:
        by_urn[r.urn] = PolicyResource(r.typ, unwrap_secrets(r.state), r.urn, r.name, options(r.protect), None, None,
                                       [], {})
    for r in registrations:
        resource = by_urn[r.urn]
        for key, urns in dependencies.get((r.typ, r.name), {}).items():
            resource.property_dependencies[key] = [by_urn[u] for u in urns if u in by_urn]
            resource.dependencies.extend(resource.property_dependencies[key])

    def report(level: EnforcementLevel, name: str, out: list[tuple[EnforcementLevel, str, str]]) -> Any:
        return lambda message, urn=None: out.append((level, name, message))

    out: list[tuple[EnforcementLevel, str, str]] = []
    for policy in POLICIES:
        if isinstance(policy, ResourceValidationPolicy):
            for r in registrations:
                args = ResourceValidationArgs(r.typ, unwrap_secrets(r.inputs), r.urn, r.name, options(r.protect), None)
                policy.validate(args, report(policy.enforcement_level, policy.name, out))
        else:
            policy.validate(StackValidationArgs(list(by_urn.values())), report(policy.enforcement_level, policy.name,
                                                                                out))
    yield from out


@pytest.mark.parametrize(("stack", "advisories"), [
    # Issue 10: the minted sync token expires (and rotates), so sync-token-expires no longer fires.
    # ... and the Postgres password is protected with its volume, so postgres-password-protected is quiet.
    ("platform", []),
    ("financial", []),
])
def test_committed_stacks_pass_every_mandatory_policy(stack: str, advisories: list[str]) -> None:
    found = list(findings(stack))
    mandatory = [f"{name}: {message}" for level, name, message in found if level == EnforcementLevel.MANDATORY]
    assert mandatory == []
    assert sorted(name for level, name, _ in found if level == EnforcementLevel.ADVISORY) == advisories


LAN_CADDY = {"homeops-windmill:windmillStack": {
    **load_stack_config("platform")["homeops-windmill:windmillStack"],
    "caddy": {"bindAddress": "0.0.0.0", "port": 80},  # noqa: S104 - what the pack must refuse
}, "homeops-windmill:instance": {"firstBoot": {"defaultAdminSecured": True}}}  # else the program refuses it too
UNPREFIXED_TRIGGER = {"homeops-windmill:platformLink": {
    "services": {"variable": "f/atom/platform_services_token", "flows": ["f/monitoring/alert_dispatcher"]},
    "triggers": {"variable": "f/deployment/trigger_token", "flows": ["f/atom/nightly_scan"]},
}}


def test_an_unprefixed_trigger_variable_is_refused_by_the_program_before_the_pack_sees_it() -> None:
    # Issue 10: the pack used to be the only check (foreign-variables-prefixed-by-owner); the program now
    # confines a domain's trigger variable to f/deployment/<domain>_trigger_<name> itself.
    config = {**load_stack_config("financial"), **UNPREFIXED_TRIGGER}
    with pytest.raises(ConfigErrors) as refused:
        run_program(config, secrets=without_sync_token(FINANCIAL_SECRETS), stack="financial",
                    platform_outputs=PLATFORM_OUTPUTS)
    assert refused.value.keys == {"homeops-windmill:platformLink.triggers.variable"}


@pytest.mark.parametrize(("stack", "changes", "policy", "message"), [
    ("platform", LAN_CADDY, "published-ports-on-loopback",
     "Container windmill-caddy publishes port 80.0 on 0.0.0.0, not on loopback."),
])
def test_what_the_program_accepts_and_the_pack_refuses(stack: str, changes: dict[str, Any], policy: str,
                                                        message: str) -> None:
    mandatory = [(name, text) for level, name, text in findings(stack, changes) if level == EnforcementLevel.MANDATORY]
    assert len(mandatory) == 1, mandatory
    assert mandatory[0][0] == policy
    assert message in mandatory[0][1]
