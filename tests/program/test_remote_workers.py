"""Worker groups on other Docker hosts, under mocks: their own provider, their own database role, TLS to
Postgres over a private address, never a public Postgres port, and a drain when they go."""

# 0.0.0.0 below is an address the parser must refuse, not one the tests bind.
# ruff: noqa: S104

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pulumi
import pytest

from components.config.errors import ConfigErrors
from components.config.windmill_stack import WindmillStackArgs
from components.windmill_stack import WindmillStack
from components.windmill_stack.remote import pg_hba
from testkit.mocking import MockEnvironment, install_mocks, is_secret, plaintext_leaks

CONTAINER = "docker:index/container:Container"
PROVIDER = "pulumi:providers:docker"
PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"
TLS = {
    "pg_tls_cert": "-----BEGIN CERTIFICATE-----\nserver\n-----END CERTIFICATE-----\n",
    "pg_tls_key": "-----BEGIN PRIVATE KEY-----\nserver-key-material\n-----END PRIVATE KEY-----\n",
    "pg_tls_ca": "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n",
}
ACCESS = {"address": "10.20.0.5", "port": 15432, "tlsCertificate": "pg_tls_cert", "tlsPrivateKey": "pg_tls_key",
          "tlsCa": "pg_tls_ca"}
CONFIG: dict[str, Any] = {
    "remoteHosts": [
        {"name": "nas", "dockerHost": "ssh://deploy@nas.home.arpa", "drainSeconds": 900},
        {"name": "gpu-box", "dockerHost": "ssh://deploy@gpu.home.arpa:2222", "sshOpts": ["-i", "~/.ssh/homeops"]},
    ],
    "postgres": {"remoteAccess": ACCESS},
    "workerGroups": [
        {"name": "default", "replicas": 2},
        {"name": "media", "host": "nas", "replicas": 2, "memory": "4g", "cpus": 2, "tags": ["media", "ffmpeg"]},
        {"name": "native", "host": "nas", "replicas": 1},
        {"name": "gpu", "host": "gpu-box", "replicas": 1, "memory": "16g", "privileged": True, "tags": ["gpu"]},
    ],
}


def passwords(args: Any) -> dict[str, str]:
    return {"result": f"{args.name}-generated"}


def build(config: dict[str, Any]) -> tuple[MockEnvironment, WindmillStackArgs]:
    args = WindmillStackArgs.from_config({"enabled": True, **config}, secret_names=frozenset(TLS))
    env = install_mocks({
        "docker:index/remoteImage:RemoteImage": lambda a: {"imageId": a.inputs["name"]},
        PASSWORD_TYPE: passwords,
        "pulumi-python:dynamic/windmill:ReadinessGate": lambda a: {"version": "CE v1.819.0"},
    })

    @pulumi.runtime.test
    def run() -> None:
        WindmillStack("windmill", args, secrets={k: pulumi.Output.secret(v) for k, v in TLS.items()})

    run()
    return env, args


@pytest.fixture(scope="module")
def remote() -> tuple[MockEnvironment, WindmillStackArgs]:
    return build(CONFIG)


def containers(env: MockEnvironment) -> dict[str, Any]:
    return {r.name: r for r in env.find(CONTAINER)}


def env_map(registration: Any) -> dict[str, str]:
    return dict(item.split("=", 1) for item in registration.plain_inputs.get("envs") or [])


def provider_of(env: MockEnvironment, registration: Any) -> Any:
    return next(p for p in env.find(PROVIDER) if registration.provider.startswith(p.urn))


def test_each_remote_host_gets_its_own_docker_provider(remote):
    env, _ = remote
    providers = {p.name: p.plain_inputs for p in env.find(PROVIDER)}
    assert providers == {
        "windmill-docker": {"host": "unix:///var/run/docker.sock"},
        "windmill-remote-nas-docker": {"host": "ssh://deploy@nas.home.arpa"},
        "windmill-remote-gpu-box-docker": {"host": "ssh://deploy@gpu.home.arpa:2222",
                                           # Provider inputs reach the engine JSON-encoded.
                                           "sshOpts": '["-i", "~/.ssh/homeops"]'},
    }
    by_name = containers(env)
    expected = {
        "windmill-worker-default-0": "windmill-docker",
        "windmill-remote-nas-worker-media-0": "windmill-remote-nas-docker",
        "windmill-remote-nas-worker-media-1": "windmill-remote-nas-docker",
        "windmill-remote-nas-worker-native-0": "windmill-remote-nas-docker",
        "windmill-remote-gpu-box-worker-gpu-0": "windmill-remote-gpu-box-docker",
        # The role is made on the central host, next to Postgres.
        "windmill-remote-nas-db-role": "windmill-docker",
        "windmill-db": "windmill-docker",
    }
    for name, provider in expected.items():
        assert provider_of(env, by_name[name]).name == provider, name
    # Each remote host pulls the image and keeps its caches on itself.
    images = env.find("docker:index/remoteImage:RemoteImage")
    nas_images = [r for r in images if r.name.startswith("windmill-remote-nas")]
    assert [r.plain_inputs["name"] for r in nas_images] == ["ghcr.io/windmill-labs/windmill:1.819.0"]
    assert provider_of(env, nas_images[0]).name == "windmill-remote-nas-docker"


def test_remote_groups_have_replicas_limits_tags_and_kinds_as_local_ones(remote):
    env, _ = remote
    by_name = containers(env)
    assert sorted(n for n in by_name if "-worker-" in n) == [
        "windmill-remote-gpu-box-worker-gpu-0", "windmill-remote-nas-worker-media-0",
        "windmill-remote-nas-worker-media-1", "windmill-remote-nas-worker-native-0",
        "windmill-worker-default-0", "windmill-worker-default-1",
    ]
    media = by_name["windmill-remote-nas-worker-media-0"]
    assert media.plain_inputs["memory"] == 4096 and media.plain_inputs["cpus"] == "2"
    assert media.plain_inputs["name"] == "windmill-worker-media-0"
    variables = env_map(media)
    assert variables["MODE"] == "worker" and variables["WORKER_GROUP"] == "media"
    assert variables["WORKER_TAGS"] == "media,ffmpeg"
    assert variables["BASE_URL"] == "http://localhost"  # reports to the same instance
    native = env_map(by_name["windmill-remote-nas-worker-native-0"])
    assert native["NATIVE_MODE"] == "true" and "WORKER_TAGS" not in native
    gpu = by_name["windmill-remote-gpu-box-worker-gpu-0"]
    assert gpu.plain_inputs["privileged"] is True and env_map(gpu)["FAVOR_UNSHARE_PID"] == "true"
    assert "WORKER_TAGS" not in env_map(by_name["windmill-worker-default-0"])


def test_remote_workers_use_their_own_role_over_verified_tls_never_the_superuser(remote):
    env, _ = remote
    by_name = containers(env)
    for name in ("windmill-remote-nas-worker-media-0", "windmill-remote-gpu-box-worker-gpu-0"):
        worker = by_name[name]
        assert is_secret(worker.inputs["envs"])
        url = urlsplit(env_map(worker)["DATABASE_URL"])
        host = name.split("-remote-")[1].split("-worker-")[0].replace("-", "_")
        assert url.username == f"windmill_remote_{host}" and url.username != "postgres"
        assert url.password == f"windmill-remote-{host.replace('_', '-')}-db-password-generated"
        assert (url.hostname, url.port) == ("10.20.0.5", 15432)
        query = parse_qs(url.query)
        assert query["sslmode"] == ["verify-full"]
        assert query["sslrootcert"] == ["/etc/homeops/postgres-ca.crt"]
        uploads = {u["file"]: u["content"] for u in worker.plain_inputs["uploads"]}
        assert uploads == {"/etc/homeops/postgres-ca.crt": TLS["pg_tls_ca"]}
    # Local workers keep the private network's superuser URL (unchanged by remote groups).
    assert env_map(by_name["windmill-worker-default-0"])["DATABASE_URL"].startswith("postgres://postgres:")


def test_postgres_is_published_only_on_the_private_address_with_tls(remote):
    env, _ = remote
    by_name = containers(env)
    db = by_name["windmill-db"]
    assert db.plain_inputs["ports"] == [{"internal": 5432, "external": 15432, "ip": "10.20.0.5"}]
    command = db.plain_inputs["command"]
    assert "ssl=on" in command and "hba_file=/etc/homeops/postgres/pg_hba.conf" in command
    uploads = {u["file"]: u for u in db.plain_inputs["uploads"]}
    key = uploads["/etc/homeops/postgres/server.key"]
    assert key["content"] == TLS["pg_tls_key"] and key["permissions"] == "0600" and key["owner"] == "999"
    assert uploads["/etc/homeops/postgres/pg_hba.conf"]["content"] == pg_hba(
        ["windmill_remote_nas", "windmill_remote_gpu_box"])
    assert "hostnossl all windmill_remote_nas all reject" in pg_hba(["windmill_remote_nas"])
    assert list(plaintext_leaks(env.registrations, "server-key-material")) == []
    # No container publishes Postgres anywhere else, and nothing publishes on a public interface.
    for name, container in by_name.items():
        for port in container.plain_inputs.get("ports") or []:
            assert port["ip"] in ("127.0.0.1", "10.20.0.5"), name
            assert port["internal"] != 5432 or name == "windmill-db", name


def test_the_role_job_runs_once_after_the_migrations_and_keeps_passwords_secret(remote):
    env, _ = remote
    by_name = containers(env)
    job = by_name["windmill-remote-nas-db-role"]
    inputs = job.plain_inputs
    assert inputs["mustRun"] is False and inputs["attach"] is True and inputs["restart"] == "no"
    assert is_secret(job.inputs["envs"])
    assert env_map(job)["ROLE_NAME"] == "windmill_remote_nas"
    assert "ROLE_PASSWORD" not in " ".join(inputs["command"]).replace("$ROLE_PASSWORD", "")
    sql = inputs["uploads"][0]["content"]
    assert "GRANT windmill_user, windmill_admin TO" in sql and "NOSUPERUSER" in sql
    assert by_name["windmill-server-0"].urn in job.dependencies
    for worker in ("windmill-remote-nas-worker-media-0", "windmill-remote-nas-worker-native-0"):
        assert job.urn in by_name[worker].dependencies
    for host in ("nas", "gpu-box"):
        assert list(plaintext_leaks(env.registrations, f"windmill-remote-{host}-db-password-generated")) == []


def test_removing_a_host_drains_its_workers(remote):
    env, _ = remote
    by_name = containers(env)
    # Deleting a worker stops it with SIGTERM and waits this long for the running job (docker stop -t).
    assert by_name["windmill-remote-nas-worker-media-0"].plain_inputs["destroyGraceSeconds"] == 900
    assert by_name["windmill-remote-gpu-box-worker-gpu-0"].plain_inputs["destroyGraceSeconds"] == 600
    # Without the host, nothing of it is declared: Pulumi deletes (drains) its workers, then its provider.
    env_without, _ = build({**CONFIG, "remoteHosts": CONFIG["remoteHosts"][:1],
                            "workerGroups": CONFIG["workerGroups"][:3]})
    assert "windmill-remote-gpu-box-docker" not in {p.name for p in env_without.find(PROVIDER)}
    assert not any("gpu-box" in r.name for r in env_without.registrations)


def test_the_readiness_gate_waits_for_remote_workers_too(remote):
    env, _ = remote
    gate = env.one("pulumi-python:dynamic/windmill:ReadinessGate", "windmill-ready")
    by_name = containers(env)
    for name in ("windmill-remote-nas-worker-media-0", "windmill-remote-gpu-box-worker-gpu-0",
                 "windmill-remote-nas-db-role"):
        assert by_name[name].urn in gate.dependencies, name


def test_postgres_connection_budget_counts_remote_workers(remote):
    _, args = remote
    assert args.worker_replicas == 6
    assert args.postgres.max_connections >= 5 * 6 + 50


def test_without_remote_groups_postgres_stays_unpublished():
    env, _ = build({})
    db = containers(env)["windmill-db"]
    assert db.plain_inputs.get("ports") in (None, []) and not db.plain_inputs.get("uploads")
    assert len(env.find(PROVIDER)) == 1


# --------------------------------------------------------------------------------------------
# Config refusals
# --------------------------------------------------------------------------------------------


def problems(config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as caught:
        WindmillStackArgs.from_config({"enabled": True, **config}, secret_names=frozenset(TLS))
    return {e.key.removeprefix("homeops-windmill:windmillStack."): e.problem for e in caught.value.errors}


@pytest.mark.parametrize("address", ["0.0.0.0", "127.0.0.1", "203.0.113.7", "8.8.8.8", "169.254.1.1", "::"])
def test_postgres_is_never_published_on_a_public_loopback_or_any_address(address):
    found = problems({**CONFIG, "postgres": {"remoteAccess": {**ACCESS, "address": address}}})
    assert set(found) == {"postgres.remoteAccess.address"}


@pytest.mark.parametrize("address", ["10.1.2.3", "172.20.0.9", "192.168.1.20", "100.101.102.103", "fd00::5"])
def test_private_and_overlay_addresses_are_accepted(address):
    args = WindmillStackArgs.from_config(
        {"enabled": True, **CONFIG, "postgres": {"remoteAccess": {**ACCESS, "address": address}}},
        secret_names=frozenset(TLS))
    assert args.remote_access is not None and args.remote_access.address == address


def test_remote_groups_need_remote_access_and_a_known_host():
    found = problems({**CONFIG, "postgres": {}})
    assert "postgres.remoteAccess" in found
    found = problems({**CONFIG, "workerGroups": [{"name": "media", "host": "attic"}]})
    assert "names no remoteHosts entry" in found["workerGroups[0].host"]
    assert "runs no worker group" in found["remoteHosts[0]"]
    found = problems({"postgres": {"remoteAccess": ACCESS}})
    assert "no worker group runs on a remote host" in found["postgres.remoteAccess"]


def test_remote_hosts_are_other_machines_over_ssh_and_tls_material_is_set():
    found = problems({**CONFIG, "remoteHosts": [{"name": "nas", "dockerHost": "unix:///var/run/docker.sock"},
                                                CONFIG["remoteHosts"][1]]})
    assert "ssh://" in found["remoteHosts[0].dockerHost"]
    found = problems({**CONFIG, "postgres": {"remoteAccess": {**ACCESS, "tlsCa": "missing_ca"}}})
    assert "secrets.missing_ca is not set" in found["postgres.remoteAccess.tlsCa"]
    found = problems({**CONFIG, "workerGroups": [*CONFIG["workerGroups"], {"name": "x", "env": {"WORKER_TAGS": "a"}}]})
    assert "workerGroups[4].env.WORKER_TAGS" in found
