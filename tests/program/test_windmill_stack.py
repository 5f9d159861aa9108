"""WindmillStack under pulumi mocks: every container, the Caddyfile, secrets, data safety, config errors."""

# Paths under /tmp and 0.0.0.0 below are container settings being asserted, not used by the tests.
# ruff: noqa: S104, S108

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config.docker_values import DEFAULT_CADDY_IMAGE
from components.config.errors import ConfigError, ConfigErrors
from components.config.schema import DEFAULT_WINDMILL_VERSION
from components.config.windmill_stack import WindmillStackArgs
from components.config.windmill_stack_parts import required_connections
from components.windmill.readiness import ReadinessGate
from components.windmill_stack import WindmillStack, render_caddyfile
from testkit.mocking import MockEnvironment, install_mocks, is_secret, plaintext_leaks

PASSWORD = "GeneratedPassw0rdForTheMockEngine42"
COMPONENT = "homeops:windmill:WindmillStack"
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"
PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"
GATE = "pulumi-python:dynamic/windmill:ReadinessGate"
PREFIX = "homeops-windmill:windmillStack"


def _outputs() -> dict[str, Any]:
    return {
        # Containers get the image *reference* as their image id, which keeps assertions readable.
        IMAGE: lambda a: {"imageId": a.inputs["name"]},
        PASSWORD_TYPE: lambda a: {"result": PASSWORD},
        GATE: lambda a: {
            "version": ("EE" if "-ee:" in _current_image[0] else "CE") + f" v{a.inputs['expected_version']}"
        },
        NETWORK: lambda a: {"name": a.inputs["name"]},
        VOLUME: lambda a: {"name": a.inputs["name"]},
    }


_current_image = [""]


def build(config: dict[str, Any] | None = None) -> tuple[MockEnvironment, dict[str, Any], WindmillStackArgs]:
    """Build the stack from a windmillStack config under fresh mocks; returns recorded state."""
    args = WindmillStackArgs.from_config({"enabled": True, **(config or {})})
    _current_image[0] = args.windmill_image
    env = install_mocks(_outputs())
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        stack = WindmillStack("windmill", args)

        async def secret_flag() -> bool:
            return await stack.database_url.is_secret()

        captured["stack"] = stack
        return pulumi.Output.all(
            stack.public_url,
            stack.internal_url,
            stack.api_url,
            stack.windmill_version,
            stack.database_url,
            pulumi.Output.from_input(secret_flag()),
        ).apply(
            lambda v: captured.update(
                public_url=v[0],
                internal_url=v[1],
                api_url=v[2],
                windmill_version=v[3],
                database_url=v[4],
                database_url_secret=v[5],
            )
        )

    run()
    return env, captured, args


def containers(env: MockEnvironment) -> dict[str, Any]:
    return {r.name: r for r in env.find(CONTAINER)}


def env_list(registration: Any) -> list[str]:
    return list(registration.plain_inputs.get("envs") or [])


def env_map(registration: Any) -> dict[str, str]:
    return dict(item.split("=", 1) for item in env_list(registration))


def volume_mounts(registration: Any) -> dict[str, str]:
    return {
        v["containerPath"]: v.get("volumeName") or v.get("hostPath")
        for v in registration.plain_inputs.get("volumes", [])
    }


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


# --------------------------------------------------------------------------------------------
# Other configurations
# --------------------------------------------------------------------------------------------


def test_ee_edition_uses_the_ee_image():
    env, captured, _ = build({"edition": "ee", "version": "1.650.2"})
    images = {r.plain_inputs["name"] for r in env.find(IMAGE)}
    assert "ghcr.io/windmill-labs/windmill-ee:1.650.2" in images
    assert "ghcr.io/windmill-labs/windmill:1.650.2" not in images
    for name, container in containers(env).items():
        if name.startswith(("windmill-server", "windmill-worker")):
            assert container.plain_inputs["image"] == "ghcr.io/windmill-labs/windmill-ee:1.650.2"
    assert captured["windmill_version"] == "EE v1.650.2"


def test_three_worker_groups():
    env, _, args = build(
        {
            "workerGroups": [
                {"name": "default", "replicas": 2},
                {"name": "native", "replicas": 1, "memory": "1024m"},
                {
                    "name": "reports",
                    "replicas": 2,
                    "memory": "4g",
                    "cpus": 1.5,
                    "privileged": True,
                    "env": {"INIT_SCRIPT": "apt-get install -y chromium", "SOME_FLAG": True},
                },
            ]
        }
    )
    names = [n for n in env.names(CONTAINER) if "worker" in n]
    assert names == [
        "windmill-worker-default-0",
        "windmill-worker-default-1",
        "windmill-worker-native-0",
        "windmill-worker-reports-0",
        "windmill-worker-reports-1",
    ]
    all_containers = containers(env)
    reports = all_containers["windmill-worker-reports-1"]
    inputs = reports.plain_inputs
    variables = env_map(reports)
    assert variables["WORKER_GROUP"] == "reports"
    assert variables["INIT_SCRIPT"] == "apt-get install -y chromium" and variables["SOME_FLAG"] == "true"
    assert variables["FAVOR_UNSHARE_PID"] == "true"  # paired with privileged, as upstream does
    assert inputs["memory"] == 4096 and inputs["cpus"] == "1.5" and inputs["privileged"] is True
    assert all_containers["windmill-worker-native-0"].plain_inputs["memory"] == 1024
    assert "FAVOR_UNSHARE_PID" not in env_map(all_containers["windmill-worker-default-0"])
    assert not all_containers["windmill-worker-default-0"].plain_inputs.get("privileged")
    assert args.worker_replicas == 5


def test_replicas_zero_removes_a_default_group():
    env, _, _ = build({"workerGroups": [{"name": "native", "replicas": 0}]})
    assert not [n for n in env.names(CONTAINER) if "native" in n]
    assert len([n for n in env.names(CONTAINER) if "worker-default" in n]) == 3


def test_docker_socket_is_mounted_only_where_enabled():
    env, _, _ = build({"workerGroups": [{"name": "builder", "replicas": 1, "mountDockerSocket": True}]})
    all_containers = containers(env)
    assert volume_mounts(all_containers["windmill-worker-builder-0"])["/var/run/docker.sock"] == "/var/run/docker.sock"
    for name, container in all_containers.items():
        if name != "windmill-worker-builder-0":
            assert "/var/run/docker.sock" not in volume_mounts(container), name


def test_domain_enables_tls_port_and_https_urls():
    env, captured, _args = build({"caddy": {"domain": "windmill.example.com", "bindAddress": "0.0.0.0", "port": 80}})
    caddy = containers(env)["windmill-caddy"].plain_inputs
    assert {(p["internal"], p["external"], p["ip"]) for p in caddy["ports"]} == {
        (80, 80, "0.0.0.0"),
        (443, 443, "0.0.0.0"),
    }
    assert captured["public_url"] == "https://windmill.example.com"
    assert captured["api_url"] == "https://windmill.example.com"
    assert env_map(containers(env)["windmill-server-0"])["BASE_URL"] == "https://windmill.example.com"
    assert caddy["uploads"][0]["content"].splitlines()[1] == "windmill.example.com {"


def test_remote_docker_host_over_ssh():
    env, captured, _args = build(
        {
            "dockerHost": "ssh://deploy@nas.home.arpa",
            "dockerSshOpts": ["-o", "StrictHostKeyChecking=yes"],
            "caddy": {"bindAddress": "0.0.0.0", "port": 8080},
        }
    )
    provider = env.one("pulumi:providers:docker", "windmill-docker").plain_inputs
    assert provider["host"] == "ssh://deploy@nas.home.arpa"
    assert "StrictHostKeyChecking=yes" in str(provider.get("sshOpts"))
    assert captured["api_url"] == "http://nas.home.arpa:8080"


def test_remote_docker_host_with_tunnel_api_url():
    args = WindmillStackArgs.from_config(
        {"enabled": True, "dockerHost": "ssh://deploy@nas:2222", "apiUrl": "http://127.0.0.1:18080"}
    )
    assert args.api_url == "http://127.0.0.1:18080"
    assert args.caddy.bind_address == "127.0.0.1"


def test_caddy_disabled_publishes_the_server_on_loopback():
    env, captured, _ = build({"caddy": {"enabled": False}, "server": {"port": 8000}})
    all_containers = containers(env)
    assert "windmill-caddy" not in all_containers
    ports = all_containers["windmill-server-0"].plain_inputs["ports"]
    assert [(p["internal"], p["external"], p["ip"]) for p in ports] == [(8000, 8000, "127.0.0.1")]
    assert captured["api_url"] == "http://127.0.0.1:8000"
    assert captured["public_url"] == "http://localhost:8000"


def test_extra_disabled_drops_the_container_and_the_route():
    env, _, args = build({"extra": {"enabled": False}})
    assert "windmill-extra" not in containers(env)
    assert "/ws/" not in render_caddyfile(args)
    assert not [r for r in env.find(IMAGE) if "windmill-extra" in r.plain_inputs["name"]]


def test_two_servers_behind_caddy():
    env, _, args = build({"server": {"replicas": 2}})
    all_containers = containers(env)
    assert {"windmill-server-0", "windmill-server-1"} <= set(all_containers)
    assert "http://windmill_server_0:8000 http://windmill_server_1:8000" in render_caddyfile(args)
    assert args.postgres.max_connections == max(100, 5 * 4 + 50 * 2)


def test_postgres_18_mounts_the_new_data_path():
    env, _, _ = build({"postgres": {"version": "18"}})
    assert volume_mounts(containers(env)["windmill-db"]) == {"/var/lib/postgresql": "windmill_db_data"}


def test_postgres_major_upgrade_uses_a_new_named_volume():
    env, _, _ = build({"postgres": {"version": "18", "dataVolume": "windmill_db_data_pg18"}})
    volume = next(v for v in env.find(VOLUME) if v.name == "windmill-db-data")
    assert volume.plain_inputs["name"] == "windmill_db_data_pg18"
    assert volume.protect and volume.retain_on_delete
    assert volume_mounts(containers(env)["windmill-db"]) == {"/var/lib/postgresql": "windmill_db_data_pg18"}


def test_name_prefix_namespaces_docker_objects():
    env, _, _ = build({"namePrefix": "wm-staging"})
    assert "wm-staging-db" in {c.plain_inputs["name"] for c in env.find(CONTAINER)}
    assert "wm-staging_db_data" in {v.plain_inputs["name"] for v in env.find(VOLUME)}


def test_preview_registers_the_same_resources():
    """A preview (unknown computed outputs) builds the same set of resources as an update."""
    args = WindmillStackArgs.from_config({"enabled": True})
    # No computed outputs at all: image ids, the password and the gate version stay unknown.
    env = install_mocks(preview=True)

    @pulumi.runtime.test
    def run() -> None:
        WindmillStack("windmill", args)

    run()
    full_env, _, _ = build()
    assert sorted((r.typ, r.name) for r in env.registrations) == sorted((r.typ, r.name) for r in full_env.registrations)


# --------------------------------------------------------------------------------------------
# Upgrades never touch Postgres
# --------------------------------------------------------------------------------------------


def test_version_change_replaces_windmill_containers_but_not_postgres():
    old_env, _, _ = build({"version": "1.819.0"})
    new_env, _, _ = build({"version": "1.650.0"})
    old, new = containers(old_env), containers(new_env)
    # Every Postgres input (container and volume) is identical, so the engine has nothing to change.
    assert old["windmill-db"].plain_inputs == new["windmill-db"].plain_inputs
    old_volumes = {v.name: v.plain_inputs for v in old_env.find(VOLUME)}
    new_volumes = {v.name: v.plain_inputs for v in new_env.find(VOLUME)}
    assert old_volumes == new_volumes
    assert (
        old_env.one(PASSWORD_TYPE, "windmill-db-password").inputs
        == new_env.one(PASSWORD_TYPE, "windmill-db-password").inputs
    )
    # Server and workers get the new image (an image change replaces a container).
    for name in ("windmill-server-0", "windmill-worker-default-0", "windmill-worker-native-0"):
        assert old[name].plain_inputs["image"].endswith(":1.819.0")
        assert new[name].plain_inputs["image"].endswith(":1.650.0")
    assert new_env.one(GATE, "windmill-ready").plain_inputs["expected_version"] == "1.650.0"


# --------------------------------------------------------------------------------------------
# Connection-count rule
# --------------------------------------------------------------------------------------------


def test_connection_rule_default_grows_with_the_fleet():
    assert required_connections(4, 1) == 70
    small = WindmillStackArgs.from_config({})
    assert small.postgres.max_connections == 100  # Postgres' own default covers 5x4 + 50
    big = WindmillStackArgs.from_config(
        {"server": {"replicas": 2}, "workerGroups": [{"name": "default", "replicas": 30}]}
    )
    assert big.required_connections == 5 * 31 + 50 * 2
    assert big.postgres.max_connections == 255


def only_problem(config: dict[str, Any], key_prefix: str = PREFIX) -> ConfigError:
    """The one problem ``config`` has (a bad value must not drag in unrelated problems)."""
    with pytest.raises(ConfigErrors) as raised:
        WindmillStackArgs.from_config(config, key_prefix)
    [error] = raised.value.errors
    return error


def test_connection_rule_refuses_too_few_connections():
    error = only_problem({"postgres": {"maxConnections": 69}})
    assert error.key == f"{PREFIX}.postgres.maxConnections"
    assert "at least 70" in str(error)
    assert WindmillStackArgs.from_config({"postgres": {"maxConnections": 70}}).postgres.max_connections == 70


# --------------------------------------------------------------------------------------------
# Bad input fails before any resource exists, naming the key
# --------------------------------------------------------------------------------------------

BAD_INPUTS = [
    ({"workerGroups": [{"name": "default"}, {"name": "gpu", "replicas": -1}]}, "workerGroups[1].replicas", ">= 0"),
    ({"workerGroups": [{"name": "gpu", "replicas": "many"}]}, "workerGroups[0].replicas", "integer"),
    ({"server": {"replicas": 0}}, "server.replicas", ">= 1"),
    ({"workerGroups": [{"name": "gpu", "memory": "lots"}]}, "workerGroups[0].memory", "2g"),
    ({"workerGroups": [{"name": "gpu", "memory": "100m"}]}, "workerGroups[0].memory", "at least 256m"),
    ({"workerGroups": [{"name": "gpu", "memory": 2048}]}, "workerGroups[0].memory", "size"),
    ({"postgres": {"shmSize": "1 terabyte"}}, "postgres.shmSize", "size"),
    ({"postgres": {"dataVolume": "../etc"}}, "postgres.dataVolume", "Docker volume name"),
    ({"version": "main"}, "version", "pin"),
    ({"version": "latest"}, "version", "pin"),
    ({"version": "1.646"}, "version", "full release"),
    ({"version": 1.5}, "version", "string"),
    ({"postgres": {"version": 13}}, "postgres.version", "14 or newer"),
    ({"postgres": {"version": "sixteen"}}, "postgres.version", "tag"),
    ({"caddy": {"port": 0}}, "caddy.port", ">= 1"),
    ({"caddy": {"port": 70000}}, "caddy.port", "<= 65535"),
    ({"caddy": {"port": "http"}}, "caddy.port", "integer"),
    ({"caddy": {"smtpPort": 80}}, "caddy.smtpPort", "already used"),
    ({"caddy": {"bindAddress": "localhost"}}, "caddy.bindAddress", "IP address"),
    ({"caddy": {"image": "ghcr.io/windmill-labs/caddy-l4:latest"}}, "caddy.image", "moving tag"),
    ({"caddy": {"image": "ghcr.io/windmill-labs/caddy-l4"}}, "caddy.image", "pin a tag"),
    ({"extra": {"image": "ghcr.io/windmill-labs/windmill-extra:main"}}, "extra.image", "moving tag"),
    ({"dockerHost": "tcp://10.0.0.2:2375"}, "dockerHost", "ssh://"),
    ({"dockerHost": "ssh://"}, "dockerHost", "ssh://user@host"),
    ({"dockerHost": "nas.home.arpa"}, "dockerHost", "ssh://user@host"),
    ({"dockerHost": "ssh://me@nas:99999"}, "dockerHost", "<= 65535"),
    ({"dockerHost": "ssh://me@nas"}, "apiUrl", "SSH tunnel"),
    (
        {"workerGroups": [{"name": "gpu"}, {"name": "reports"}, {"name": "gpu"}]},
        "workerGroups[2].name",
        "defined twice",
    ),
    ({"workerGroups": [{"name": "default"}, {"name": "default"}]}, "workerGroups[1].name", "defined twice"),
    ({"workerGroups": [{"name": "GPU"}]}, "workerGroups[0].name", "lowercase"),
    ({"workerGroups": [{"replicas": 1}]}, "workerGroups[0].name", "required"),
    (
        {"workerGroups": [{"name": "gpu", "env": {"DATABASE_URL": "x"}}]},
        "workerGroups[0].env.DATABASE_URL",
        "generated",
    ),
    ({"workerGroups": [{"name": "gpu", "env": {"lower": "x"}}]}, "workerGroups[0].env.lower", "UPPER_SNAKE"),
    ({"workerGroups": [{"name": "gpu", "cpus": 0}]}, "workerGroups[0].cpus", "> 0"),
    ({"workerGroups": [{"name": "gpu", "replicaz": 2}]}, "workerGroups[0].replicaz", "unknown key"),
    ({"edition": "enterprise"}, "edition", "one of ce, ee"),
    ({"baseUrl": "windmill.example.com"}, "baseUrl", "http(s) URL"),
    ({"caddy": {"domain": "wm.example.com"}, "baseUrl": "https://other.example.com"}, "baseUrl", "caddy.domain"),
    ({"caddy": {"domain": "not a domain"}}, "caddy.domain", "DNS name"),
    ({"caddy": {"enabled": False}}, "server.port", "required"),
    ({"server": {"port": 8000}}, "server.port", "caddy.enabled: false"),
    ({"logMaxSize": "20 MB"}, "logMaxSize", "json-file"),
    ({"logMaxFile": 0}, "logMaxFile", ">= 1"),
    ({"readiness": {"timeoutSeconds": 1}}, "readiness.timeoutSeconds", ">= 5"),
    ({"enabled": "yes"}, "enabled", "true or false"),
    ({"unknownThing": 1}, "unknownThing", "unknown key"),
    ({"workerGroups": {"name": "default"}}, "workerGroups", "list"),
]


@pytest.mark.parametrize(("config", "key", "fragment"), BAD_INPUTS, ids=[f"{k}:{f}" for _, k, f in BAD_INPUTS])
def test_bad_input_names_the_key(config, key, fragment):
    error = only_problem(config)
    assert error.key == f"{PREFIX}.{key}"
    assert str(error).startswith(f"{PREFIX}.{key}: ")
    assert fragment in error.problem


def test_independent_problems_are_reported_together():
    with pytest.raises(ConfigErrors) as raised:
        WindmillStackArgs.from_config({"version": "latest", "caddy": {"port": -1}, "logMaxFile": 0})
    keys = {e.key for e in raised.value.errors}
    assert keys == {f"{PREFIX}.version", f"{PREFIX}.caddy.port", f"{PREFIX}.logMaxFile"}


def test_custom_key_prefix_is_used_in_messages():
    assert only_problem({"version": "main"}, key_prefix="other:stack").key == "other:stack.version"


def test_defaults_when_config_is_missing():
    args = WindmillStackArgs.from_config(None)
    assert args.enabled is False
    assert args.docker_host == "unix:///var/run/docker.sock"
    assert args.version == DEFAULT_WINDMILL_VERSION and args.edition == "ce"
    assert [(g.name, g.replicas, g.memory_mb, g.privileged) for g in args.worker_groups] == [
        ("default", 3, 2048, False),
        ("native", 1, 2048, False),
    ]
    assert args.caddy.bind_address == "127.0.0.1" and args.caddy.port == 80
    assert (args.base_url, args.api_url) == ("http://localhost", "http://127.0.0.1")
    assert args.postgres.version == "16" and args.postgres.shm_size_mb == 1024
    assert (args.log_max_size, args.log_max_file) == ("20m", 10)


@pytest.mark.parametrize(
    ("text", "megabytes"), [("2g", 2048), ("2048m", 2048), ("1.5G", 1536), ("512MB", 512), ("4gb", 4096)]
)
def test_memory_sizes(text, megabytes):
    args = WindmillStackArgs.from_config({"workerGroups": [{"name": "gpu", "memory": text}]})
    assert next(g for g in args.worker_groups if g.name == "gpu").memory_mb == megabytes


def test_version_with_v_prefix_is_normalised():
    assert WindmillStackArgs.from_config({"version": "v1.819.0"}).windmill_image.endswith(":1.819.0")


# --------------------------------------------------------------------------------------------
# Caddyfile (pure function)
# --------------------------------------------------------------------------------------------


def test_caddyfile_default():
    assert render_caddyfile(WindmillStackArgs.from_config({})) == (
        "# Generated by homeops-windmill (components/windmill_stack.py). Do not edit by hand.\n"
        ":80 {\n"
        "\treverse_proxy /ws/* http://windmill_extra:3001\n"
        "\treverse_proxy /* http://windmill_server_0:8000\n"
        "}\n"
    )


def test_caddyfile_with_domain_smtp_and_two_servers():
    text = render_caddyfile(
        WindmillStackArgs.from_config(
            {"server": {"replicas": 2}, "caddy": {"domain": "wm.example.com", "smtpPort": 2525}}
        )
    )
    assert text == (
        "# Generated by homeops-windmill (components/windmill_stack.py). Do not edit by hand.\n"
        "{\n"
        "\tlayer4 {\n"
        "\t\t:25 {\n"
        "\t\t\tproxy {\n"
        "\t\t\t\tto windmill_server:2525\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
        "\n"
        "wm.example.com {\n"
        "\treverse_proxy /ws/* http://windmill_extra:3001\n"
        "\treverse_proxy /* http://windmill_server_0:8000 http://windmill_server_1:8000 {\n"
        "\t\tlb_policy round_robin\n"
        "\t\tlb_try_duration 5s\n"
        "\t}\n"
        "}\n"
    )


def test_caddyfile_braces_balance_in_every_variant():
    for config in (
        {},
        {"extra": {"enabled": False}},
        {"server": {"replicas": 3}},
        {"caddy": {"smtpPort": 2525, "domain": "a.example.com"}},
    ):
        text = render_caddyfile(WindmillStackArgs.from_config(config))
        assert text.count("{") == text.count("}"), config


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
    install_mocks(_outputs())

    @pulumi.runtime.test
    def run() -> None:
        with pytest.raises(ValueError, match="enabled true"):
            WindmillStack("windmill", args)

    run()
