"""The real Pulumi CLI previews the platform stack with ``windmillStack.runtime: kubernetes``.

The engine runs the program (``testkit.served_program``), the pulumi-kubernetes provider plugin built from
the Go module proxy (``scripts/install-pulumi-kubernetes``) checks every Kubernetes input, and the dynamic
provider checks the Windmill resources. No cluster runs here: the provider gets a kubeconfig whose server is
a closed loopback port, and a preview goes on without a cluster (the provider marks the cluster unreachable
and previews every resource as a create). The chart repository cannot be reached from this machine either,
and the Helm release's check loads the chart, so the release points at a stand-in chart the test writes
(``kubernetes.chartPath``: a Chart.yaml of the same name and version, nothing copied from the real chart);
the generated values themselves are checked against the real chart's documented keys in
tests/program/test_windmill_kubernetes.py.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components.config.windmill_chart import VERIFIED_CHART
from testkit.engine import PulumiProject, tools_dir
from windmill_emulator import WindmillEmulator

PLUGIN_VERSION = "4.25.0"
DATABASE_URL = "postgres://windmill:kube-db-pass-5150@pg.homeops.example:5432/windmill?sslmode=verify-full"
PLATFORM_SECRETS = {
    "platform_postgres_password": "engine-pg-1",
    "platform_redis_password": "engine-redis-1",
    "platform_timescaledb_password": "engine-tsdb-1",
    "platform_alerts_slack_webhook": "https://hooks.slack.example/T0/B0/engine",
    "github_api_token": "ghp_engine0123",
    "docker_registry_password": "engine-registry-1",
    "windmill_database_url": DATABASE_URL,
}


def plugin_dir() -> Path:
    """Where scripts/install-pulumi-kubernetes put the plugin; fails with the command to run if absent."""
    folder = tools_dir() / "pulumi-kubernetes" / f"v{PLUGIN_VERSION}" / "bin"
    if not (folder / "pulumi-resource-kubernetes").exists():
        raise RuntimeError(f"no pulumi-kubernetes plugin in {folder}: run scripts/install-pulumi-kubernetes")
    return folder


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released), so every connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_kubeconfig(path: Path) -> None:
    server = f"https://127.0.0.1:{closed_loopback_port()}"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "unreachable",
        "clusters": [{"name": "unreachable", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "nobody", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "unreachable", "context": {"cluster": "unreachable", "user": "nobody"}}],
    }))


def write_stand_in_chart(folder: Path) -> None:
    """A chart with the real one's name and version and no templates: enough for the release's check."""
    folder.mkdir()
    (folder / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": "windmill", "type": "application",
        "version": VERIFIED_CHART.chart_version, "appVersion": VERIFIED_CHART.app_version,
        "description": "Stand-in for windmill-labs/windmill-helm-charts in the engine tier (no network here)",
    }))


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PulumiProject, str]]:
    base = tmp_path_factory.mktemp("kubernetes")
    emulator = WindmillEmulator().start()
    try:
        project = PulumiProject(base, extra_env={"KUBECONFIG": str(base / "kubeconfig")})
        write_kubeconfig(base / "kubeconfig")
        write_stand_in_chart(base / "chart")
        project.pulumi("plugin", "install", "resource", "kubernetes", f"v{PLUGIN_VERSION}",
                       "--file", str(plugin_dir() / "pulumi-resource-kubernetes"))
        stack_file = project.dir / "Pulumi.platform.yaml"
        document = yaml.safe_load(stack_file.read_text())
        config = document["config"]
        config.pop("homeops-windmill:githubSync", None)
        config["homeops-windmill:windmillStack"] = {
            "enabled": True, "runtime": "kubernetes", "version": "1.819.0",
            "baseUrl": "https://windmill.homeops.example", "apiUrl": emulator.url,
            # No pulumi-random plugin here: the operator's token instead of a generated bootstrap secret.
            "bootstrapToken": False,
            "server": {"replicas": 2},
            "workerGroups": [{"name": "default", "replicas": 3, "memory": "2g", "tags": ["default", "python3"]},
                             {"name": "native", "replicas": 1}],
            "kubernetes": {
                "kubeconfig": str(base / "kubeconfig"), "namespace": "windmill", "chartPath": str(base / "chart"),
                "postgres": {"mode": "external", "urlSecret": "windmill_database_url"},
                "ingress": {"className": "nginx", "tlsSecret": "windmill-tls"},
            },
        }
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        project.pulumi("stack", "init", "platform", "--secrets-provider", "passphrase")
        # One command (each `config set --secret` pays the passphrase's key derivation again).
        project.pulumi("config", "set-all", "--stack", "platform", "--path",
                       f"--secret=windmillToken={emulator.admin_token}",
                       *(f"--secret=secrets.{name}={value}" for name, value in PLATFORM_SECRETS.items()))
        result = project.pulumi("preview", "--stack", "platform", "--diff", timeout=600)
        yield project, result.output
    finally:
        emulator.stop()


def test_the_kubernetes_variant_previews_without_a_cluster(preview: tuple[PulumiProject, str]) -> None:
    _, output = preview
    for resource in ("pulumi:providers:kubernetes", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret",
                     "kubernetes:helm.sh/v3:Release", "pulumi-python:dynamic/windmill:ReadinessGate",
                     "pulumi-python:dynamic/windmill:Workspace"):
        assert re.search(rf"\+ {re.escape(resource)}: \(create\)", output), (resource, output)
    assert "docker:" not in output  # one runtime at a time
    provider = output.split("pulumi:providers:kubernetes: (create)", 1)[1].split(" + ", 1)[0]
    assert "/kubeconfig" in provider and '"4.25.0"' in provider  # the unreachable cluster, the built plugin
    assert "Traceback" not in output


def test_the_preview_shows_the_release_and_its_values(preview: tuple[PulumiProject, str]) -> None:
    _, output = preview
    release = output.split("kubernetes:helm.sh/v3:Release: (create)", 1)[1].split("\n    + ", 1)[0]
    # The provider's check loaded the (stand-in) chart and recorded its version.
    assert re.search(rf'version\s+: "{re.escape(VERIFIED_CHART.chart_version)}"', release), release
    assert re.search(r'chart\s+: ".*/chart"', release), release
    for expected in ('"1.819.0"', '"windmill.homeops.example"', '"windmill-database"', '"windmill-tls"',
                     '"WORKER_TAGS"', '"default,python3"'):
        assert expected in release, (expected, release)


def test_no_credential_appears_in_the_preview(preview: tuple[PulumiProject, str]) -> None:
    _, output = preview
    assert DATABASE_URL not in output and "kube-db-pass-5150" not in output
    assert "not-a-real-token" not in output
    assert "[secret]" in output
