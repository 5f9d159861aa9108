"""The Kubernetes runtime under mocks: the Helm release of Windmill's chart and the values generated for it.

Every key the values generator writes is checked against the chart's documented values for the pinned
chart release (``fixtures/windmill_chart_values_keys.json``, read from windmill-labs/windmill-helm-charts).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.config.errors import ConfigErrors
from components.config.windmill_chart import CHART_NAME, CHART_REPOSITORY, VERIFIED_CHART, chart_for
from components.config.windmill_stack import RUNTIME_ONLY_KEYS, WindmillStackArgs
from components.windmill_kubernetes import WindmillKubernetes, chart_values
from components.windmill_kubernetes.values import APP_STARTUP_BUDGET_SECONDS
from testkit.mocking import MockEnvironment, install_mocks, is_secret, plaintext_leaks
from testkit.program import PLATFORM_SECRETS, ROOT, load_stack_config, run_program

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "windmill_chart_values_keys.json").read_text())
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
GATE = "pulumi-python:dynamic/windmill:ReadinessGate"
DATABASE_URL = "postgres://windmill:db-pass-1234@pg.homeops.example:5432/windmill?sslmode=verify-full"
LICENSE = "ee-license-key-0123456789"
SECRETS = {"windmill_database_url": DATABASE_URL, "windmill_license": LICENSE}


def docs_example() -> dict[str, Any]:
    """The committed Kubernetes config: the example of docs/kubernetes.md, which operators copy."""
    text = (ROOT / "docs" / "kubernetes.md").read_text()
    block = re.search(r"<!-- kubernetes-example -->\s*```yaml\n(.*?)```", text, re.S)
    assert block, "docs/kubernetes.md has the example block"
    return yaml.safe_load(block.group(1))["config"]["homeops-windmill:windmillStack"]


def args_of(config: dict[str, Any]) -> WindmillStackArgs:
    return WindmillStackArgs.from_config({"enabled": True, **config}, secret_names=frozenset(SECRETS))


def large(autoscaling: bool) -> dict[str, Any]:
    """Five worker groups, EE; with ``autoscaling`` the app scales on CPU and two groups are Windmill-scaled."""
    groups = [
        {"name": "default", "replicas": 6, "memory": "2g", "cpus": 1},
        {"name": "native", "replicas": 2, "memory": "1g"},
        {"name": "reports", "replicas": 2, "memory": "4g", "cpus": 2, "tags": ["reports", "chromium"],
         "env": {"INIT_SCRIPT": "apt-get install -y chromium"}},
        {"name": "gpu", "replicas": 1, "memory": "16g", "cpus": 8, "privileged": True, "tags": ["gpu"]},
        {"name": "builder", "replicas": 1, "memory": "4g", "mountDockerSocket": True, "tags": ["docker"]},
    ]
    if autoscaling:
        groups[0]["autoscaling"] = True
        groups[2]["autoscaling"] = True
    return {
        "runtime": "kubernetes", "edition": "ee", "version": "1.819.0", "baseUrl": "https://windmill.example.com",
        "server": {"replicas": 3}, "workerGroups": groups,
        "kubernetes": {
            "namespace": "windmill-prod", "licenseSecret": "windmill_license",
            "postgres": {"mode": "external", "urlSecret": "windmill_database_url"},
            "gatewayRoute": {"parentRefs": [{"name": "edge", "namespace": "gateways", "sectionName": "https"}]},
            "app": {"memory": "4g", "cpus": 2, **({"autoscaling": {"maxReplicas": 8}} if autoscaling else {})},
        },
    }


def build(config: dict[str, Any]) -> tuple[MockEnvironment, WindmillKubernetes, WindmillStackArgs]:
    args = args_of(config)
    env = install_mocks({
        GATE: lambda a: {"version": f"CE v{a.inputs['expected_version']}"},
        "random:index/randomPassword:RandomPassword": lambda a: {"result": "bootstrap-secret-0123456789"},
    })
    built: list[WindmillKubernetes] = []

    @pulumi.runtime.test
    def run() -> None:
        secrets = {name: pulumi.Output.secret(value) for name, value in SECRETS.items()}
        built.append(WindmillKubernetes("windmill", args, secrets=secrets))

    run()
    return env, built[0], args


def paths(node: Any, prefix: str = "") -> set[str]:
    """Every key path of a values tree; ``[]`` stands for every list item."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= paths(value, path)
    elif isinstance(node, list):
        for item in node:
            found |= paths(item, prefix + "[]")
    return found


def undocumented(values: dict[str, Any]) -> list[str]:
    """Generated paths that neither the chart's values.yaml nor a passthrough object documents."""
    documented = set(FIXTURE["keys"])
    passthrough = FIXTURE["passthrough"]
    wrong = []
    for path in sorted(paths(values)):
        if path in documented:
            continue
        base = next((p for p in passthrough if path.startswith(p + ".") or path.startswith(p + "[]")), None)
        if base is None:
            wrong.append(path)
            continue
        rest = path[len(base):].lstrip(".")
        allowed = passthrough[base]["subPaths"]
        if "*" not in allowed and rest not in allowed:
            wrong.append(path)
    return wrong


# --------------------------------------------------------------------------------------------
# The values, checked against the chart's documented values
# --------------------------------------------------------------------------------------------


def test_the_fixture_is_the_chart_release_the_values_are_generated_for():
    assert FIXTURE["chartVersion"] == VERIFIED_CHART.chart_version
    assert FIXTURE["appVersion"] == VERIFIED_CHART.app_version
    assert VERIFIED_CHART.commit in FIXTURE["source"]


@pytest.mark.parametrize("name", ["docs example", "large, autoscaling off", "large, autoscaling on", "demo"])
def test_every_generated_key_is_a_documented_value_of_the_chart(name):
    config = {
        "docs example": docs_example(),
        "large, autoscaling off": large(False),
        "large, autoscaling on": large(True),
        "demo": {"runtime": "kubernetes", "baseUrl": "http://localhost:8000", "apiUrl": "http://127.0.0.1:8000",
                 "kubernetes": {"postgres": {"mode": "demo"}}},
    }[name]
    values = chart_values(args_of(config))
    assert undocumented(values) == []


def test_the_key_check_can_fail():
    values = chart_values(args_of(docs_example()))
    values["windmill"]["workerGroups"][0]["replica"] = 3  # a typo of replicas
    values["windmill"]["app"]["resources"]["limits"]["gpu"] = 1
    assert undocumented(values) == ["windmill.app.resources.limits.gpu", "windmill.workerGroups[].replica"]


def test_values_of_the_docs_example():
    args = args_of(docs_example())
    values = chart_values(args)
    windmill = values["windmill"]
    assert windmill["tag"] == "1.819.0" and windmill["imagePullPolicy"] == "IfNotPresent"
    assert (windmill["baseProtocol"], windmill["baseDomain"]) == ("https", "windmill.homeops.example")
    assert windmill["appReplicas"] == 2
    assert [g["name"] for g in windmill["workerGroups"]] == ["default", "native"]
    default, native = windmill["workerGroups"]
    assert default["replicas"] == 3 and default["privileged"] is False
    assert default["resources"]["limits"] == {"memory": "2048Mi"}
    assert native["extraEnv"] == [{"name": "NATIVE_MODE", "value": "true"}, {"name": "SLEEP_QUEUE", "value": "200"}]
    # The URL comes from the Secret the component makes; no database URL is a value.
    assert windmill["databaseUrlSecretName"] == "windmill-database" and windmill["databaseUrlSecretKey"] == "url"
    assert "databaseUrl" not in windmill
    assert values["postgresql"] == {"enabled": False}
    assert values["ingress"]["tls"] == [{"hosts": ["windmill.homeops.example"], "secretName": "windmill-tls"}]
    assert values["httproute"] == {"enabled": False}
    assert values["enterprise"] == {"enabled": False}
    # windmill-extra follows the configured release, not the chart's appVersion; the debugger stays off.
    assert windmill["windmillExtra"] == {"enableLsp": True, "enableDebugger": False, "enableGateway": True,
                                         "image": "ghcr.io/windmill-labs/windmill-extra", "tag": "1.819.0"}


def test_large_config_without_and_with_autoscaling():
    off, on = chart_values(args_of(large(False))), chart_values(args_of(large(True)))
    groups_off = {g["name"]: g for g in off["windmill"]["workerGroups"]}
    assert list(groups_off) == ["default", "native", "reports", "gpu", "builder"]
    assert {name: g["replicas"] for name, g in groups_off.items()} == {
        "default": 6, "native": 2, "reports": 2, "gpu": 1, "builder": 1}
    assert groups_off["reports"]["resources"] == {"limits": {"memory": "4096Mi", "cpu": "2"},
                                                  "requests": {"memory": "4096Mi", "cpu": "2"}}
    assert {"name": "WORKER_TAGS", "value": "reports,chromium"} in groups_off["reports"]["extraEnv"]
    assert {"name": "INIT_SCRIPT", "value": "apt-get install -y chromium"} in groups_off["reports"]["extraEnv"]
    assert groups_off["gpu"]["privileged"] is True
    assert groups_off["builder"]["exposeHostDocker"] is True
    assert not any(g["autoscalingManaged"] for g in groups_off.values())
    assert off["windmill"]["app"]["autoscaling"] == {"enabled": False}
    assert off["enterprise"]["createKubernetesAutoscalingRolesAndBindings"] is False
    assert off["enterprise"]["licenseKeySecretName"] == "windmill-license"
    assert off["httproute"] == {"enabled": True,
                                "parentRefs": [{"name": "edge", "namespace": "gateways", "sectionName": "https"}]}
    assert off["ingress"] == {"enabled": False}

    groups_on = {g["name"]: g for g in on["windmill"]["workerGroups"]}
    assert [n for n, g in groups_on.items() if g["autoscalingManaged"]] == ["default", "reports"]
    assert on["enterprise"]["createKubernetesAutoscalingRolesAndBindings"] is True
    assert on["windmill"]["app"]["autoscaling"] == {
        "enabled": True, "maxReplicas": 8, "targetCPUUtilizationPercentage": 80}
    assert on["windmill"]["appReplicas"] == 3  # the HPA's minimum


# --------------------------------------------------------------------------------------------
# The component: release, secrets, readiness
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_stack() -> tuple[MockEnvironment, WindmillKubernetes, WindmillStackArgs]:
    return build(docs_example())


def test_the_release_pins_the_mapped_chart_and_carries_the_values(docs_stack):
    env, _, args = docs_stack
    release = env.one(RELEASE, "windmill-release").plain_inputs
    assert release["chart"] == CHART_NAME
    assert release["version"] == chart_for("1.819.0").chart_version == "4.0.246"
    assert release["repositoryOpts"] == {"repo": CHART_REPOSITORY}
    assert release["namespace"] == "windmill" and release["name"] == "windmill"
    assert release["values"] == json.loads(json.dumps(chart_values(args)))
    assert release["timeout"] >= APP_STARTUP_BUDGET_SECONDS
    provider = env.one("pulumi:providers:kubernetes", "windmill-k8s").plain_inputs
    assert provider["context"] == "homeops" and provider["namespace"] == "windmill"


def test_credentials_are_kubernetes_secrets_and_never_plain_values(docs_stack):
    env, _, _ = docs_stack
    secrets = {r.plain_inputs["metadata"]["name"]: r for r in env.find(SECRET)}
    assert sorted(secrets) == ["windmill-bootstrap", "windmill-database"]
    database = secrets["windmill-database"]
    assert is_secret(database.inputs["stringData"])
    assert database.plain_inputs["stringData"] == {"url": DATABASE_URL}
    assert database.plain_inputs["metadata"]["namespace"] == "windmill"
    release = env.one(RELEASE, "windmill-release")
    for secret in secrets.values():
        assert secret.urn in release.dependencies
    assert env.one(NAMESPACE, "windmill-namespace").urn in release.dependencies
    assert list(plaintext_leaks(env.registrations, DATABASE_URL)) == []
    assert list(plaintext_leaks(env.registrations, "bootstrap-secret-0123456789")) == []
    assert DATABASE_URL not in json.dumps(release.plain_inputs["values"])
    # The app reads the bootstrap superadmin secret from its Secret.
    app_env = release.plain_inputs["values"]["windmill"]["app"]["extraEnv"]
    assert app_env == [{"name": "SUPERADMIN_SECRET",
                        "valueFrom": {"secretKeyRef": {"name": "windmill-bootstrap", "key": "superadminSecret"}}}]


def test_the_readiness_gate_waits_for_the_release(docs_stack):
    env, _, _ = docs_stack
    gate = env.one(GATE, "windmill-ready")
    assert env.one(RELEASE, "windmill-release").urn in gate.dependencies
    assert gate.plain_inputs["url"] == "https://windmill.homeops.example"
    assert gate.plain_inputs["expected_version"] == "1.819.0"
    assert gate.provider is None  # a dynamic resource never inherits the Kubernetes provider


def test_enterprise_license_is_a_secret_too():
    env, _, _ = build(large(True))
    license_secret = next(r for r in env.find(SECRET) if r.plain_inputs["metadata"]["name"] == "windmill-license")
    assert license_secret.plain_inputs["stringData"] == {"licenseKey": LICENSE}
    assert is_secret(license_secret.inputs["stringData"])
    assert list(plaintext_leaks(env.registrations, LICENSE)) == []
    assert env.one(RELEASE, "windmill-release").plain_inputs["namespace"] == "windmill-prod"


def test_demo_postgres_is_marked_not_for_production(monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    env, _, _ = build({"runtime": "kubernetes", "baseUrl": "http://localhost:8000",
                           "apiUrl": "http://127.0.0.1:8000", "bootstrapToken": False,
                           "kubernetes": {"postgres": {"mode": "demo"}, "createNamespace": False}})
    values = env.one(RELEASE, "windmill-release").plain_inputs["values"]
    assert values["postgresql"] == {"enabled": True}
    assert "databaseUrlSecretName" not in values["windmill"]
    assert any("NOT for production" in w for w in warnings)
    assert env.find(SECRET) == [] and env.find(NAMESPACE) == []


def test_a_local_chart_path_replaces_the_repository():
    config = docs_example()
    config["kubernetes"] = {**config["kubernetes"], "chartPath": "/srv/charts/windmill-4.0.246.tgz"}
    env, _, _ = build(config)
    release = env.one(RELEASE, "windmill-release").plain_inputs
    assert release["chart"] == "/srv/charts/windmill-4.0.246.tgz"
    assert "repositoryOpts" not in release and "version" not in release


# --------------------------------------------------------------------------------------------
# The whole program: same workspaces and sync on top
# --------------------------------------------------------------------------------------------


def test_the_platform_program_runs_windmill_on_kubernetes_and_waits_for_it():
    config = load_stack_config("platform")
    config["homeops-windmill:windmillStack"] = docs_example()
    secrets = {**PLATFORM_SECRETS, "secrets": {**PLATFORM_SECRETS["secrets"], **SECRETS}}
    run = run_program(config, secrets=secrets, stack="platform")
    env = run.env
    assert env.find("homeops:windmill:WindmillStack") == []
    assert env.find("docker:index/container:Container") == []
    gate = env.one(GATE, "windmill-ready")
    api = [r for r in env.registrations if r.typ.startswith("pulumi-python:dynamic/windmill:") and r.typ != GATE]
    assert api
    by_urn = {r.urn: r for r in env.registrations}

    def waits(urn: str, seen: set[str]) -> bool:
        if urn == gate.urn:
            return True
        if urn in seen or urn not in by_urn:
            return False
        seen.add(urn)
        registration = by_urn[urn]
        return any(waits(d, seen) for d in registration.dependencies) or (
            registration.parent is not None and waits(registration.parent, seen))

    assert all(waits(r.urn, set()) for r in api)
    assert run.exports["windmillUrl"] == "https://windmill.homeops.example"
    assert run.exports["windmillInternalUrl"] == "http://windmill-app.windmill.svc:8000"
    assert "postgresConnectionString" in run.secret_exports
    assert list(plaintext_leaks(env.registrations, DATABASE_URL)) == []


# --------------------------------------------------------------------------------------------
# One config shape, and a refusal for the other runtime's keys
# --------------------------------------------------------------------------------------------


def problems(config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as caught:
        args_of(config)
    return {e.key.removeprefix("homeops-windmill:windmillStack."): e.problem for e in caught.value.errors}


def test_docker_keys_are_refused_with_runtime_kubernetes_naming_the_runtime():
    config = {**docs_example(), "dockerHost": "ssh://deploy@nas", "caddy": {"port": 8080},
              "postgres": {"version": "16"}, "server": {"replicas": 2, "port": 8000},
              "workerGroups": [{"name": "media", "host": "nas"}]}
    found = problems(config)
    assert set(found) == {"dockerHost", "caddy", "postgres", "server.port", "workerGroups[0].host"}
    assert all("only understood by runtime docker" in p for p in found.values())


def test_kubernetes_keys_are_refused_with_runtime_docker():
    found = problems({"kubernetes": {"namespace": "x"}, "workerGroups": [{"name": "gpu", "autoscaling": True}]})
    assert set(found) == {"kubernetes", "workerGroups[0].autoscaling"}
    assert all("only understood by runtime kubernetes" in p for p in found.values())


def test_every_runtime_only_key_is_refused_by_the_other_runtime():
    for runtime, keys in RUNTIME_ONLY_KEYS.items():
        other = "docker" if runtime == "kubernetes" else "kubernetes"
        base = docs_example() if other == "kubernetes" else {}
        for key in keys:
            config = json.loads(json.dumps(base))
            config["runtime"] = other
            if key.startswith("workerGroups[]."):
                config["workerGroups"] = [{"name": "g", key.split(".", 1)[1]: "x"}]
            else:
                head, _, tail = key.partition(".")
                config[head] = {tail: "x"} if tail else "x"
            assert any(f"runtime {runtime}" in p for p in problems(config).values()), (other, key)


def test_kubernetes_needs_a_database_choice_a_base_url_and_ee_needs_a_license():
    found = problems({"runtime": "kubernetes", "edition": "ee", "kubernetes": {}})
    assert "kubernetes.postgres" in found and "demo" in found["kubernetes.postgres"]
    found = problems({"runtime": "kubernetes", "edition": "ee",
                      "kubernetes": {"postgres": {"mode": "demo"}, "ingress": {"tlsSecret": "t"}}})
    assert set(found) == {"kubernetes.licenseSecret", "baseUrl"}


def test_an_ingress_serves_https_only_and_one_way_in():
    base = docs_example()
    found = problems({**base, "baseUrl": "http://windmill.homeops.example"})
    assert "must be https" in found["baseUrl"]
    found = problems({**base, "kubernetes": {**base["kubernetes"], "gatewayRoute": {
        "parentRefs": [{"name": "gw", "sectionName": "https"}]}}})
    assert "not both" in found["kubernetes.gatewayRoute"]


def test_credentials_must_be_named_secrets_that_are_set():
    base = docs_example()
    found = problems({**base, "kubernetes": {**base["kubernetes"], "postgres": {
        "mode": "external", "urlSecret": "not_set"}}})
    assert "secrets.not_set is not set" in found["kubernetes.postgres.urlSecret"]
    found = problems({**base, "kubernetes": {**base["kubernetes"], "postgres": {"mode": "external"}}})
    assert "exactly one" in found["kubernetes.postgres.urlSecret"]


def test_a_windmill_older_than_the_verified_chart_is_refused():
    found = problems({**docs_example(), "version": "1.700.0"})
    assert "1.794.0 or newer" in found["version"]
    assert chart_for("1.794.0").exact and not chart_for("1.819.0").exact


def test_worker_autoscaling_needs_the_enterprise_edition():
    found = problems({**docs_example(), "workerGroups": [{"name": "default", "autoscaling": True}]})
    assert "edition ee" in found["workerGroups[0].autoscaling"]
