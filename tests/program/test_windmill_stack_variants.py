"""WindmillStack under pulumi mocks, configurations other than the default: EE, worker groups, TLS,
a remote Docker host, Caddy or the extra container off, two servers, Postgres versions, name
prefixes, previews; and upgrades, which never touch Postgres."""

# 0.0.0.0 below is a container setting being asserted, not an address the tests bind.
# ruff: noqa: S104

from __future__ import annotations

import pulumi

from components.config.windmill_stack import WindmillStackArgs
from components.windmill_stack import WindmillStack, render_caddyfile
from testkit.mocking import install_mocks
from tests.program.windmill_stack_mocks import (
    CONTAINER,
    GATE,
    IMAGE,
    PASSWORD_TYPE,
    VOLUME,
    build,
    containers,
    env_map,
    volume_mounts,
)


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
