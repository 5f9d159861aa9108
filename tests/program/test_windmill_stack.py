"""WindmillStack under pulumi mocks, the default stack: every container, secrets, data safety, the
readiness gate and outputs; and job isolation, the decided trade-off. Other configurations, config
errors and the Caddyfile have files of their own (test_windmill_stack_*.py)."""

# Paths under /tmp below are container settings being asserted, not used by the tests.
# ruff: noqa: S108

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config.docker_values import DEFAULT_CADDY_IMAGE
from components.config.schema import DEFAULT_WINDMILL_VERSION
from components.config.windmill_stack import WindmillStackArgs
from components.windmill.readiness import ReadinessGate
from components.windmill_stack import WindmillStack, render_caddyfile
from testkit.mocking import MockEnvironment, install_mocks, is_secret, plaintext_leaks
from tests.program.windmill_stack_mocks import (
    COMPONENT,
    CONTAINER,
    GATE,
    IMAGE,
    NETWORK,
    PASSWORD,
    PASSWORD_TYPE,
    VOLUME,
    build,
    containers,
    env_list,
    env_map,
    mock_outputs,
    volume_mounts,
)

# --------------------------------------------------------------------------------------------
# Default stack: what is created and how
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_stack() -> tuple[MockEnvironment, dict[str, Any], WindmillStackArgs]:
    return build()


def test_default_stack_creates_the_compose_topology(default_stack):
    env, _, _ = default_stack
    assert env.names(CONTAINER) == sorted(
        [
            "windmill-db",
            "windmill-server-0",
            "windmill-worker-default-0",
            "windmill-worker-default-1",
            "windmill-worker-default-2",
            "windmill-worker-native-0",
            "windmill-extra",
            "windmill-caddy",
        ]
    )
    assert {r.plain_inputs["name"] for r in env.find(VOLUME)} == {
        "windmill_db_data",
        "windmill_worker_dependency_cache",
        "windmill_worker_logs",
        "windmill_lsp_cache",
        "windmill_caddy_data",
    }
    # One RemoteImage per distinct image: server and workers share the Windmill one.
    assert sorted(r.plain_inputs["name"] for r in env.find(IMAGE)) == sorted(
        [
            "postgres:16",
            f"ghcr.io/windmill-labs/windmill:{DEFAULT_WINDMILL_VERSION}",
            f"ghcr.io/windmill-labs/windmill-extra:{DEFAULT_WINDMILL_VERSION}",
            DEFAULT_CADDY_IMAGE,
        ]
    )
    assert all(r.plain_inputs["keepLocally"] is True for r in env.find(IMAGE))
    assert len(env.find(NETWORK)) == 1
    # The Postgres password and the bootstrap SUPERADMIN_SECRET (bootstrapToken defaults to on).
    assert sorted(r.name for r in env.find(PASSWORD_TYPE)) == ["windmill-db-password", "windmill-superadmin-secret"]
    assert len(env.find(GATE)) == 1
    assert len(env.find("pulumi:providers:docker")) == 1


def test_every_child_is_parented_to_the_component_and_uses_the_docker_provider(default_stack):
    env, _, _ = default_stack
    component = env.one(COMPONENT, "windmill")
    provider = env.one("pulumi:providers:docker", "windmill-docker")
    assert provider.plain_inputs.get("host") == "unix:///var/run/docker.sock"
    for registration in env.registrations:
        if registration is component:
            continue
        assert registration.parent == component.urn, registration.name
        if registration.typ.startswith("docker:index/"):
            assert registration.provider is not None and registration.provider.startswith(provider.urn)
    # The gate is a dynamic resource: it must not be routed to the docker provider.
    assert env.one(GATE, "windmill-ready").provider is None


def test_every_container_has_restart_policy_log_rotation_network_and_health_check(default_stack):
    env, _, _ = default_stack
    network = env.one(NETWORK, "windmill-network").plain_inputs["name"]
    for name, container in containers(env).items():
        inputs = container.plain_inputs
        assert inputs["restart"] == "unless-stopped", name
        assert inputs["logDriver"] == "json-file", name
        assert inputs["logOpts"] == {"max-size": "20m", "max-file": "10", "compress": "true"}, name
        assert [n["name"] for n in inputs["networksAdvanced"]] == [network], name
        assert inputs["healthcheck"]["tests"], name
        assert inputs["healthcheck"]["interval"] and inputs["healthcheck"]["retries"] >= 3, name
        assert inputs["name"] == name


def test_postgres_container(default_stack):
    env, _, args = default_stack
    db = containers(env)["windmill-db"]
    inputs = db.plain_inputs
    assert inputs["image"] == "postgres:16"
    assert inputs.get("ports") in (None, [])  # never published on the host
    assert inputs["healthcheck"]["tests"] == ["CMD-SHELL", "pg_isready -U postgres -d windmill"]
    assert inputs["wait"] is True
    assert inputs["shmSize"] == 1024
    assert inputs["command"] == ["postgres", "-c", f"max_connections={args.postgres.max_connections}"]
    assert inputs["networksAdvanced"][0]["aliases"] == ["db"]
    assert volume_mounts(db) == {"/var/lib/postgresql/data": "windmill_db_data"}
    assert is_secret(db.inputs["envs"])
    assert env_map(db) == {"POSTGRES_PASSWORD": PASSWORD, "POSTGRES_DB": "windmill"}
    assert not db.protect  # the container is disposable; the volume is what is protected


def test_server_container(default_stack):
    env, _, _args = default_stack
    server = containers(env)["windmill-server-0"]
    inputs = server.plain_inputs
    assert inputs["image"] == f"ghcr.io/windmill-labs/windmill:{DEFAULT_WINDMILL_VERSION}"
    assert is_secret(server.inputs["envs"])
    assert env_map(server) == {
        "DATABASE_URL": f"postgres://postgres:{PASSWORD}@db:5432/windmill?sslmode=disable",
        "MODE": "server",
        "BASE_URL": "http://localhost",
        "SUPERADMIN_SECRET": PASSWORD,  # the mock answers every RandomPassword with PASSWORD
    }
    assert inputs["healthcheck"]["tests"] == [
        "CMD",
        "curl",
        "-fsS",
        "-o",
        "/dev/null",
        "http://127.0.0.1:8000/api/version",
    ]
    assert inputs["wait"] is True and inputs["waitTimeout"] == 300
    assert inputs.get("ports") in (None, [])
    assert sorted(inputs["networksAdvanced"][0]["aliases"]) == ["windmill_server", "windmill_server_0"]
    assert volume_mounts(server) == {"/tmp/windmill/logs": "windmill_worker_logs"}
    assert containers(env)["windmill-db"].urn in server.dependencies


def test_worker_containers(default_stack):
    env, _, _ = default_stack
    all_containers = containers(env)
    db_urn = all_containers["windmill-db"].urn
    server_urn = all_containers["windmill-server-0"].urn
    for index in range(3):
        worker = all_containers[f"windmill-worker-default-{index}"]
        inputs = worker.plain_inputs
        assert inputs["image"] == f"ghcr.io/windmill-labs/windmill:{DEFAULT_WINDMILL_VERSION}"
        assert is_secret(worker.inputs["envs"])
        variables = env_map(worker)
        assert variables["MODE"] == "worker" and variables["WORKER_GROUP"] == "default"
        assert variables["DATABASE_URL"].startswith(f"postgres://postgres:{PASSWORD}@db:5432/")
        assert "NATIVE_MODE" not in variables
        assert inputs["memory"] == 2048
        assert inputs.get("privileged") in (None, False)  # only where configured
        assert volume_mounts(worker) == {
            "/tmp/windmill/cache": "windmill_worker_dependency_cache",
            "/tmp/windmill/logs": "windmill_worker_logs",
        }
        assert "/var/run/docker.sock" not in volume_mounts(worker)
        assert "8000/api/version" in inputs["healthcheck"]["tests"][-1]
        assert db_urn in worker.dependencies and server_urn in worker.dependencies
    native = all_containers["windmill-worker-native-0"]
    variables = env_map(native)
    assert variables["WORKER_GROUP"] == "native" and variables["NATIVE_MODE"] == "true"
    assert native.plain_inputs["memory"] == 2048
    assert volume_mounts(native) == {"/tmp/windmill/logs": "windmill_worker_logs"}


def test_extra_and_caddy_containers(default_stack):
    env, _, args = default_stack
    all_containers = containers(env)
    extra = all_containers["windmill-extra"].plain_inputs
    assert extra["image"] == f"ghcr.io/windmill-labs/windmill-extra:{DEFAULT_WINDMILL_VERSION}"
    assert "ENABLE_LSP=true" in extra["envs"] and "WINDMILL_BASE_URL=http://windmill_server:8000" in extra["envs"]
    assert extra["networksAdvanced"][0]["aliases"] == ["windmill_extra"]
    assert volume_mounts(all_containers["windmill-extra"]) == {"/pyls/.cache": "windmill_lsp_cache"}
    assert extra.get("ports") in (None, [])

    caddy = all_containers["windmill-caddy"]
    inputs = caddy.plain_inputs
    assert inputs["image"] == DEFAULT_CADDY_IMAGE
    # Published on loopback only by default.
    assert inputs["ports"] == [{"internal": 80, "external": 80, "ip": "127.0.0.1"}]
    assert inputs["uploads"] == [{"file": "/etc/caddy/Caddyfile", "content": render_caddyfile(args)}]
    assert volume_mounts(caddy) == {"/data": "windmill_caddy_data"}
    assert all_containers["windmill-server-0"].urn in caddy.dependencies
    assert all_containers["windmill-extra"].urn in caddy.dependencies


def test_only_caddy_publishes_ports(default_stack):
    env, _, _ = default_stack
    published = {name for name, c in containers(env).items() if c.plain_inputs.get("ports")}
    assert published == {"windmill-caddy"}


def test_postgres_data_volume_is_protected_and_retained(default_stack):
    env, _, _ = default_stack
    volumes = {r.plain_inputs["name"]: r for r in env.find(VOLUME)}
    db_data = volumes["windmill_db_data"]
    assert db_data.protect is True and db_data.retain_on_delete is True
    assert volumes["windmill_caddy_data"].retain_on_delete is True
    # The password that unlocks it goes with it (issue 10): a destroy that kept the volume but dropped
    # the password left the next `up` a data directory it could not log in to.
    password = env.one(PASSWORD_TYPE, "windmill-db-password")
    assert password.protect is True and password.retain_on_delete is True
    # Nothing else is protected: a protected container would block every upgrade.
    assert sorted(r.name for r in env.registrations if r.protect) == sorted([db_data.name, password.name])
    assert volume_mounts(containers(env)["windmill-db"])["/var/lib/postgresql/data"] == "windmill_db_data"


def test_generated_password_is_random_password_and_never_plaintext(default_stack):
    env, captured, _ = default_stack
    password = env.one(PASSWORD_TYPE, "windmill-db-password").plain_inputs
    assert password["special"] is False and password["length"] >= 24
    assert "keepers" not in password  # stable across runs
    leaks = list(plaintext_leaks(env.registrations, PASSWORD))
    assert leaks == []
    # The check above can fail: the password is present in secret inputs.
    assert any(PASSWORD in " ".join(env_list(c)) for c in env.find(CONTAINER))
    assert captured["database_url_secret"] is True


def test_readiness_gate_waits_for_the_whole_stack(default_stack):
    env, captured, _args = default_stack
    gate = env.one(GATE, "windmill-ready")
    inputs = gate.plain_inputs
    assert inputs["url"] == "http://127.0.0.1"
    assert inputs["expected_version"] == DEFAULT_WINDMILL_VERSION
    assert inputs["timeout_seconds"] == 120 and inputs["interval_seconds"] == 2
    for container in env.find(CONTAINER):
        assert container.urn in gate.dependencies, container.name
    assert isinstance(captured["stack"].readiness, ReadinessGate)


def test_outputs(default_stack):
    _, captured, _ = default_stack
    assert captured["public_url"] == "http://localhost"
    assert captured["internal_url"] == "http://windmill_server:8000"
    assert captured["api_url"] == "http://127.0.0.1"
    assert captured["windmill_version"] == f"CE v{DEFAULT_WINDMILL_VERSION}"
    assert captured["database_url"] == f"postgres://postgres:{PASSWORD}@db:5432/windmill?sslmode=disable"


# ------------------------------------------------------------------------------------------------
# Job isolation: the decided trade-off (components/windmill_stack/hardening.py, docs/docker-stack.md)
# ------------------------------------------------------------------------------------------------


def test_containers_are_confined_and_only_a_privileged_group_unshares_job_pids():
    env, _, _ = build({"workerGroups": [{"name": "untrusted", "replicas": 1, "privileged": True}]})
    for name, container in containers(env).items():
        inputs = container.plain_inputs
        assert "user" not in inputs, name  # the image's user: Windmill writes its caches as root
        if name.startswith("windmill-worker-untrusted"):
            # PID-namespace isolation of jobs needs `unshare`, so this group is privileged and nothing else.
            assert inputs["privileged"] is True
            assert env_map(container)["FAVOR_UNSHARE_PID"] == "true"
            assert "securityOpts" not in inputs and "capabilities" not in inputs
            continue
        assert inputs.get("privileged") in (None, False), name
        assert inputs["securityOpts"] == ["no-new-privileges:true"], name
        assert sorted(inputs["capabilities"]["drops"]) == ["AUDIT_WRITE", "MKNOD", "NET_RAW", "SETFCAP"], name
        assert "FAVOR_UNSHARE_PID" not in env_map(container), name
    # The documented price of the default: workers (like servers) hold the Postgres URL, so a job on
    # a non-privileged worker can read it from the worker's environment.
    for name, container in containers(env).items():
        if name.startswith(("windmill-worker-", "windmill-server-")):
            assert env_map(container)["DATABASE_URL"].startswith("postgres://postgres:"), name


def test_the_stack_refuses_args_that_are_not_enabled():
    args = WindmillStackArgs.from_config({"enabled": "False"})
    assert args is not None and args.enabled is False
    install_mocks(mock_outputs())

    @pulumi.runtime.test
    def run() -> None:
        with pytest.raises(ValueError, match="enabled true"):
            WindmillStack("windmill", args)

    run()
