"""The platform stack with ``windmillStack.enabled``: the whole program under mocks builds the
complete Docker stack, and every Windmill API resource waits for the readiness gate."""

from __future__ import annotations

from typing import Any

from testkit.mocking import is_secret, plaintext_leaks
from testkit.program import PLATFORM_SECRETS, load_stack_config, run_program

PASSWORD = "PlatformGeneratedPassw0rd0123456789"
GATE = "pulumi-python:dynamic/windmill:ReadinessGate"
CONTAINER = "docker:index/container:Container"


def _platform_with_docker(stack_config: dict[str, Any] | None = None) -> Any:
    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = {"enabled": True, "version": "1.819.0", **(stack_config or {})}
    return run_program(
        config,
        secrets=PLATFORM_SECRETS,
        stack="platform",
        outputs={"random:index/randomPassword:RandomPassword": lambda a: {"result": PASSWORD}},
    )


def test_platform_stack_builds_the_complete_docker_stack() -> None:
    run = _platform_with_docker()
    env = run.env
    component = env.one("homeops:windmill:WindmillStack", "windmill")
    assert {r.plain_inputs["name"] for r in env.find(CONTAINER)} == {
        "windmill-db",
        "windmill-server-0",
        "windmill-worker-default-0",
        "windmill-worker-default-1",
        "windmill-worker-default-2",
        "windmill-worker-native-0",
        "windmill-extra",
        "windmill-caddy",
    }
    assert len(env.find("docker:index/volume:Volume")) == 5
    assert len(env.find("docker:index/remoteImage:RemoteImage")) == 4
    assert len(env.find("docker:index/network:Network")) == 1
    assert len(env.find("pulumi:providers:docker")) == 1
    # The Postgres password and the bootstrap SUPERADMIN_SECRET.
    assert env.names("random:index/randomPassword:RandomPassword") == ["windmill-db-password",
                                                                        "windmill-superadmin-secret"]
    # The data volume and the password it knows (issue 10: protected and retained together).
    assert sorted(r.name for r in env.registrations if r.protect) == ["windmill-db-data", "windmill-db-password"]
    for registration in env.registrations:
        if registration.typ.startswith(("docker:", "random:")) or registration.typ == GATE:
            assert registration.parent == component.urn, registration.name


def test_every_windmill_api_resource_waits_for_the_readiness_gate() -> None:
    env = _platform_with_docker().env
    gate = env.one(GATE, "windmill-ready")
    api_resources = [
        r for r in env.registrations if r.typ.startswith("pulumi-python:dynamic/windmill:") and r.typ != GATE
    ]
    assert api_resources, "the platform workspace declares Windmill API resources"

    def waits_for_gate(urn: str, seen: set[str]) -> bool:
        if urn == gate.urn:
            return True
        if urn in seen:
            return False
        seen.add(urn)
        registration = env.by_urn(urn)
        # Through explicit/implicit dependencies, or through a parent that depends on the gate.
        return any(waits_for_gate(dep, seen) for dep in registration.dependencies) or (
            registration.parent is not None
            and registration.parent in {r.urn for r in env.registrations}
            and waits_for_gate(registration.parent, seen)
        )

    for registration in api_resources:
        assert waits_for_gate(registration.urn, set()), registration.name
    # The check can fail: the gate itself does not wait for the workspace.
    assert not any(
        env.by_urn(dep).typ.startswith("pulumi-python:dynamic/windmill:Workspace") for dep in gate.dependencies
    )


def test_platform_exports_and_secrets() -> None:
    run = _platform_with_docker()
    assert run.exports["windmillUrl"] == "http://localhost"
    assert run.exports["windmillApiUrl"] == "http://127.0.0.1"
    assert run.exports["windmillVersion"] == "CE v1.819.0"
    assert run.exports["windmillInternalUrl"] == "http://windmill_server:8000"
    assert PASSWORD in run.exports["postgresConnectionString"]
    assert "postgresConnectionString" in run.secret_exports
    assert list(plaintext_leaks(run.env.registrations, PASSWORD)) == []
    server = run.env.one(CONTAINER, "windmill-server-0")
    assert is_secret(server.inputs["envs"])


def test_a_fresh_instance_is_first_booted_with_the_generated_bootstrap_token() -> None:
    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = {"enabled": True}
    secrets = {k: v for k, v in PLATFORM_SECRETS.items() if k != "windmillToken"}
    run = run_program(
        config, secrets=secrets, stack="platform",
        outputs={"random:index/randomPassword:RandomPassword": lambda a: {"result": f"{a.name}-value"},
                 "pulumi-python:dynamic/windmill:FirstBoot": lambda a: {"token": "program-token-0123456789"}},
    )
    env = run.env
    server = env.one(CONTAINER, "windmill-server-0")
    assert is_secret(server.inputs["envs"])
    assert "SUPERADMIN_SECRET=windmill-superadmin-secret-value" in server.plain_inputs["envs"]
    for worker in (r for r in env.find(CONTAINER) if "worker" in r.name):
        assert not any(e.startswith("SUPERADMIN_SECRET") for e in worker.plain_inputs["envs"])
    # First boot authenticates with it once; everything else uses the token first boot mints (docs/instance.md).
    first_boot = env.one("pulumi-python:dynamic/windmill:FirstBoot", "instance-first-boot")
    assert first_boot.plain_inputs["api_token"] == "windmill-superadmin-secret-value"
    workspace = env.one("pulumi-python:dynamic/windmill:Workspace", "platform-workspace")
    assert is_secret(workspace.inputs["api_token"])
    assert workspace.plain_inputs["api_token"] == "program-token-0123456789"
    assert "windmillToken" in run.secret_exports
    assert list(plaintext_leaks(env.registrations, "windmill-superadmin-secret-value")) == []


def test_an_operator_token_takes_precedence_over_the_bootstrap_token() -> None:
    run = _platform_with_docker()
    workspace = run.env.one("pulumi-python:dynamic/windmill:Workspace", "platform-workspace")
    assert workspace.plain_inputs["api_token"] == PLATFORM_SECRETS["windmillToken"]


def test_without_bootstrap_token_the_platform_stack_needs_windmill_token() -> None:
    import pytest

    from components.config.errors import ConfigErrors

    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = {"enabled": True, "bootstrapToken": False}
    config["homeops-windmill:instance"] = {"firstBoot": {"enabled": False}}  # else it logs in as the default admin
    secrets = {k: v for k, v in PLATFORM_SECRETS.items() if k != "windmillToken"}
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=secrets, stack="platform")
    assert [e.key for e in caught.value.errors] == ["homeops-windmill:windmillToken"]


def test_bootstrap_token_off_leaves_no_superadmin_secret_on_the_servers() -> None:
    run = _platform_with_docker({"bootstrapToken": False})
    assert run.env.names("random:index/randomPassword:RandomPassword") == ["windmill-db-password"]
    server = run.env.one(CONTAINER, "windmill-server-0")
    assert not any(e.startswith("SUPERADMIN_SECRET") for e in server.plain_inputs["envs"])


def test_enabled_is_read_strictly_and_a_false_string_runs_no_docker_stack() -> None:
    import pytest

    from components.config.errors import ConfigErrors

    config = {**load_stack_config("platform"), "homeops-windmill:windmillUrl": "https://windmill.example"}
    for off in (False, "false", "False"):
        config["homeops-windmill:windmillStack"] = {**config["homeops-windmill:windmillStack"], "enabled": off}
        run = run_program(config, secrets=PLATFORM_SECRETS, stack="platform")
        assert run.env.find("homeops:windmill:WindmillStack") == [], off
        assert run.env.find(CONTAINER) == [], off
        assert run.exports["windmillApiUrl"] == "https://windmill.example"
    config["homeops-windmill:windmillStack"] = {"enabled": "yes"}
    with pytest.raises(ConfigErrors) as caught:
        run_program(config, secrets=PLATFORM_SECRETS, stack="platform")
    assert caught.value.keys == {"homeops-windmill:windmillStack.enabled"}
