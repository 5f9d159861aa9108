"""``windmillStack``: the typed Args of the Docker-hosted Windmill stack, and their parser.

Topology (docs/windmill-api.md §11): Postgres, N servers, worker groups, the windmill-extra language
server and a Caddy reverse proxy on one private network. The parser checks every value (pinned
images, ports, addresses, the Postgres connection budget), decides where Windmill is reachable
(``baseUrl`` for users, ``apiUrl`` for this program) and records every problem with its key. The
reference is docs/docker-stack.md.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .docker_values import parse_docker_host, parse_url, parse_windmill_version
from .errors import ConfigError, Problems, collected
from .remote_workers import (
    RemoteDatabaseAccess,
    RemoteHost,
    check_remote_groups,
    parse_remote_access,
    parse_remote_hosts,
)
from .rules import READINESS_INTERVAL_SECONDS, READINESS_TIMEOUT_SECONDS
from .schema import DEFAULT_WINDMILL_VERSION, key
from .values import Section, check_str
from .windmill_chart import VERIFIED_CHART, ChartChoice, chart_for
from .windmill_kubernetes import KubernetesSettings, parse_kubernetes, split_base_url
from .windmill_stack_parts import (
    CaddySettings,
    ExtraSettings,
    PostgresSettings,
    ServerSettings,
    WorkerGroup,
    parse_caddy,
    parse_extra,
    parse_postgres,
    parse_server,
    parse_worker_groups,
    required_connections,
)

CONFIG_KEY = key("windmillStack")

WINDMILL_IMAGES = {
    "ce": "ghcr.io/windmill-labs/windmill",
    "ee": "ghcr.io/windmill-labs/windmill-ee",
}

# The stack's private network (upstream compose names): how the containers find each other.
SERVER_PORT = 8000
SERVER_ALIAS = "windmill_server"
EXTRA_ALIAS = "windmill_extra"
DB_ALIAS = "db"
EXTRA_LSP_PORT = 3001
SMTP_SERVER_PORT = 2525

_NAME_PREFIX = r"[a-z][a-z0-9-]{0,29}"
_KEYS = (
    "enabled", "dockerHost", "dockerSshOpts", "namePrefix", "edition", "version", "baseUrl", "apiUrl", "postgres",
    "server", "workerGroups", "extra", "caddy", "logMaxSize", "logMaxFile", "readiness", "bootstrapToken",
    "runtime", "kubernetes", "remoteHosts",
)
RUNTIMES = ("docker", "kubernetes")
# Keys only one runtime understands (paths inside windmillStack; "workerGroups[]." applies to every group).
# Everything else (version, edition, baseUrl, apiUrl, server.replicas, workerGroups, extra.enabled,
# readiness, bootstrapToken) means the same on both.
RUNTIME_ONLY_KEYS: dict[str, tuple[str, ...]] = {
    "docker": (
        "dockerHost", "dockerSshOpts", "namePrefix", "postgres", "caddy", "logMaxSize", "logMaxFile",
        "remoteHosts", "server.waitTimeoutSeconds", "server.bindAddress", "server.port", "workerGroups[].host",
    ),
    "kubernetes": ("kubernetes", "workerGroups[].autoscaling"),
}


@dataclass(frozen=True)
class WindmillStackArgs:
    """Everything WindmillStack builds, validated; construct it with ``from_config``."""

    enabled: bool
    docker_host: str
    docker_ssh_opts: tuple[str, ...]
    name_prefix: str
    edition: str
    version: str
    base_url: str
    api_url: str
    postgres: PostgresSettings
    server: ServerSettings
    worker_groups: tuple[WorkerGroup, ...]
    extra: ExtraSettings
    caddy: CaddySettings
    log_max_size: str
    log_max_file: int
    readiness_timeout_seconds: int
    readiness_interval_seconds: int
    bootstrap_token: bool = True
    runtime: str = "docker"
    # Docker runtime: worker groups on other Docker hosts, and how they reach Postgres.
    remote_hosts: tuple[RemoteHost, ...] = ()
    remote_access: RemoteDatabaseAccess | None = None
    # Kubernetes runtime: the cluster side, and the chart release the version runs on.
    kubernetes: KubernetesSettings | None = None
    chart: ChartChoice | None = None

    @property
    def windmill_image(self) -> str:
        return f"{WINDMILL_IMAGES[self.edition]}:{self.version}"

    @property
    def worker_replicas(self) -> int:
        return sum(group.replicas for group in self.worker_groups)

    @property
    def internal_url(self) -> str:
        if self.kubernetes is not None:  # the chart's Service in front of the server pods
            return f"http://windmill-app.{self.kubernetes.namespace}.svc:{SERVER_PORT}"
        return f"http://{SERVER_ALIAS}:{SERVER_PORT}"

    @property
    def local_worker_groups(self) -> tuple[WorkerGroup, ...]:
        return tuple(group for group in self.worker_groups if group.host is None)

    @property
    def required_connections(self) -> int:
        return required_connections(self.worker_replicas, self.server.replicas)

    @classmethod
    def from_config(
        cls, data: Any, key_prefix: str = CONFIG_KEY, problems: Problems | None = None,
        secret_names: frozenset[str] = frozenset(),
    ) -> WindmillStackArgs | None:
        """Validate the ``windmillStack`` config object.

        Problems go to ``problems`` (the result is then None); without one, they are raised
        together as ConfigErrors, each naming its key. ``secret_names`` are the names set in
        ``homeops-windmill:secrets``, which TLS material, database URLs and licenses refer to.
        """
        if problems is None:
            return collected(lambda found: cls.from_config(data, key_prefix, found, secret_names))
        with problems.scope() as found:
            root = found.check(lambda: Section(data, key_prefix))
            runtime = found.check(lambda: root.str("runtime", "docker", choices=RUNTIMES)) if root else None
            if root is not None and runtime is not None:
                _refuse_other_runtime(root, found, runtime)
            if found or root is None:
                args = None
            elif runtime == "kubernetes":
                args = _parse_kubernetes(root, found, secret_names)
            else:
                args = _parse(root, found, secret_names)
        return None if found else args


def _refuse_other_runtime(root: Section, problems: Problems, runtime: str) -> None:
    """A key of the other runtime is an error, named with the runtime that would understand it."""
    for other, keys in RUNTIME_ONLY_KEYS.items():
        if other == runtime:
            continue
        for path in keys:
            for full_key in _present(root, path):
                problems.add(full_key, f"is only understood by runtime {other}; this stack has runtime {runtime}, "
                             "so remove it (docs/kubernetes.md lists what each runtime reads)")


def _present(root: Section, path: str) -> list[str]:
    """Full keys of ``path`` (``a.b`` or ``workerGroups[].b``) that are set in ``root``."""
    if path.startswith("workerGroups[]."):
        field = path.split(".", 1)[1]
        groups = root.data.get("workerGroups")
        if not isinstance(groups, list):
            return []
        return [f"{root.key('workerGroups')}[{i}].{field}" for i, group in enumerate(groups)
                if isinstance(group, dict) and group.get(field) is not None]
    data: Any = root.data
    for part in path.split("."):
        if not isinstance(data, dict) or data.get(part) is None:
            return []
        data = data[part]
    return [root.key(path)]


def _parse(root: Section, problems: Problems, secret_names: frozenset[str]) -> WindmillStackArgs | None:
    with problems.scope() as found:
        basics = _basics(root, found)
        # Worker groups and servers first: the Postgres connection rule depends on them.
        groups = parse_worker_groups(root, found)
        server = parse_server(root, found)
        postgres = parse_postgres(root, found, groups or (), server, basics["name_prefix"])
        extra = parse_extra(root, found, basics["version"])
        caddy = parse_caddy(root, found)
        hosts = parse_remote_hosts(root, found, basics["docker_host"])
        access = parse_remote_access(root, found, secret_names)
    if found:
        return None
    assert groups is not None and server is not None and postgres is not None
    assert extra is not None and caddy is not None and hosts is not None
    with problems.scope() as found:
        _check_publishing(root, found, server, caddy)
        check_remote_groups(root, found, groups, hosts, access)
        urls = _urls(root, found, basics["docker_host"], server, caddy) if not found else None
    if found or urls is None:
        return None
    base_url, api_url = urls
    return WindmillStackArgs(
        **basics, base_url=base_url, api_url=api_url, postgres=postgres, server=server, worker_groups=groups,
        extra=extra, caddy=caddy, remote_hosts=hosts, remote_access=access,
    )


def _parse_kubernetes(root: Section, problems: Problems, secret_names: frozenset[str]) -> WindmillStackArgs | None:
    """The Kubernetes runtime: the shared keys as for Docker, plus the ``kubernetes`` section."""
    with problems.scope() as found:
        basics = _basics(root, found)
        groups = parse_worker_groups(root, found)
        server = parse_server(root, found)
        extra = parse_extra(root, found, basics["version"])
        section = found.check(lambda: root.section("kubernetes"))
        kubernetes = parse_kubernetes(section, found, secret_names) if section is not None else None
    if found:
        return None
    assert groups is not None and server is not None and extra is not None and kubernetes is not None
    with problems.scope() as found:
        chart = chart_for(basics["version"])
        if chart is None:
            found.add(root.key("version"), f"must be {VERIFIED_CHART.app_version} or newer with runtime kubernetes: "
                      f"the Helm chart this project generates values for is {VERIFIED_CHART.chart_version}, "
                      f"which ships {VERIFIED_CHART.app_version} (components/config/windmill_chart.py)")
        _check_kubernetes_editions(root, found, basics["edition"], groups, kubernetes)
        if "@" in extra.image:
            found.add(root.key("extra.image"), "must be image:tag with runtime kubernetes: the chart takes an image "
                      "and a tag, not a digest")
        urls = found.check(lambda: _kubernetes_urls(root, kubernetes))
    if found or urls is None:
        return None
    base_url, api_url = urls
    # The Docker-only parts keep their (valid, unused) defaults, so every runtime has one Args type.
    empty = Section({}, root.path)
    postgres = parse_postgres(empty, problems, groups, server, basics["name_prefix"])
    caddy = parse_caddy(empty, problems)
    assert postgres is not None and caddy is not None
    return WindmillStackArgs(
        **basics, base_url=base_url, api_url=api_url, postgres=postgres, server=server, worker_groups=groups,
        extra=extra, caddy=caddy, runtime="kubernetes", kubernetes=kubernetes, chart=chart,
    )


def _check_kubernetes_editions(
    root: Section, problems: Problems, edition: str, groups: tuple[WorkerGroup, ...], kubernetes: KubernetesSettings
) -> None:
    if edition == "ee" and kubernetes.license_secret is None:
        problems.add(root.key("kubernetes.licenseSecret"),
                     "is required with edition ee: the chart passes the license to every pod from this Secret")
    if edition == "ce" and kubernetes.license_secret is not None:
        problems.add(root.key("kubernetes.licenseSecret"), "is only used with edition ee; remove it")
    for index, group in enumerate(groups):
        if group.autoscaling and edition != "ee":
            problems.add(_written_group_key(root, group, index, "autoscaling"),
                         "needs edition ee: Windmill's Kubernetes autoscaling integration is an Enterprise feature")


def _written_group_key(root: Section, group: WorkerGroup, index: int, field: str) -> str:
    written = [g for g in root.data.get("workerGroups") or [] if isinstance(g, dict)]
    position = next((i for i, g in enumerate(written) if g.get("name") == group.name), index)
    return root.key(f"workerGroups[{position}].{field}")


def _kubernetes_urls(root: Section, kubernetes: KubernetesSettings) -> tuple[str, str]:
    """``(base_url, api_url)``: baseUrl is required (nothing to derive it from); apiUrl defaults to it
    when an Ingress or HTTPRoute serves it, and is required otherwise (e.g. a kubectl port-forward)."""
    if root.data.get("baseUrl") is None:
        raise ConfigError(root.key("baseUrl"), "is required with runtime kubernetes: the URL users open")
    base_url = root.parse("baseUrl", parse_url)
    split_base_url(root.key("baseUrl"), base_url, kubernetes.routed)
    api_url = root.parse("apiUrl", parse_url, "")
    if api_url:
        return base_url, api_url
    if not kubernetes.routed:
        raise ConfigError(root.key("apiUrl"), "is required with runtime kubernetes and neither kubernetes.ingress nor "
                          "kubernetes.gatewayRoute: e.g. http://127.0.0.1:8000 with `kubectl port-forward -n "
                          f"{kubernetes.namespace} svc/windmill-app 8000`")
    return base_url, base_url


def _basics(root: Section, problems: Problems) -> dict[str, Any]:
    """The stack-wide settings, by WindmillStackArgs field name (defaults where a value is bad)."""
    check = problems.check
    check(lambda: root.reject_unknown(_KEYS))
    readiness = check(lambda: root.section("readiness"), Section({}, root.key("readiness")))
    check(lambda: readiness.reject_unknown(("timeoutSeconds", "intervalSeconds")))
    return {
        "enabled": check(lambda: root.bool("enabled", False), False),
        "bootstrap_token": check(lambda: root.bool("bootstrapToken", True), True),
        "docker_host": check(lambda: root.parse("dockerHost", parse_docker_host, "unix:///var/run/docker.sock"), ""),
        "docker_ssh_opts": check(lambda: tuple(
            check_str(f"{root.key('dockerSshOpts')}[{i}]", v) for i, v in enumerate(root.list("dockerSshOpts", []))
        ), ()),
        "name_prefix": check(lambda: root.str(
            "namePrefix", "windmill", pattern=_NAME_PREFIX,
            pattern_help="must be lowercase letters, digits and dashes, starting with a letter",
        ), "windmill"),
        "edition": check(lambda: root.str("edition", "ce", choices=("ce", "ee")), "ce"),
        "version": check(lambda: root.parse("version", parse_windmill_version, DEFAULT_WINDMILL_VERSION),
                         DEFAULT_WINDMILL_VERSION),
        "log_max_size": check(lambda: root.str(
            "logMaxSize", "20m", pattern=r"\d+[kmg]", pattern_help="must be a json-file log size such as 20m"
        ), "20m"),
        "log_max_file": check(lambda: root.int("logMaxFile", 10, minimum=1, maximum=100), 10),
        "readiness_timeout_seconds": check(lambda: readiness.int(
            "timeoutSeconds", READINESS_TIMEOUT_SECONDS, minimum=5, maximum=900), READINESS_TIMEOUT_SECONDS),
        "readiness_interval_seconds": check(lambda: readiness.int(
            "intervalSeconds", READINESS_INTERVAL_SECONDS, minimum=1, maximum=60), READINESS_INTERVAL_SECONDS),
    }


def _check_publishing(root: Section, problems: Problems, server: ServerSettings, caddy: CaddySettings) -> None:
    """Exactly one way in: Caddy, or (without Caddy) one server published directly."""
    if caddy.enabled and server.port is not None:
        problems.add(root.key("server.port"),
                     "publishes the server directly, so it is only allowed with caddy.enabled: false")
    if not caddy.enabled and server.port is None:
        problems.add(root.key("server.port"),
                     "is required when caddy.enabled is false: nothing else would make Windmill reachable")
    elif not caddy.enabled and server.replicas != 1:
        problems.add(root.key("server.replicas"),
                     f"must be 1 when the server is published directly (server.port), got {server.replicas}")


def _urls(
    root: Section, problems: Problems, docker_host: str, server: ServerSettings, caddy: CaddySettings
) -> tuple[str, str] | None:
    """``(base_url, api_url)``: where users open Windmill, and where this program calls it."""
    # Where the server is reachable from the Docker host's point of view.
    if caddy.enabled:
        bind, port = caddy.bind_address, caddy.port
    else:
        bind, port = server.bind_address, server.port or SERVER_PORT
    on_domain = caddy.enabled and bool(caddy.domain)
    if on_domain:
        derived_base = f"https://{caddy.domain}" if caddy.https_port == 443 else f"https://{caddy.domain}:{caddy.https_port}"
    else:
        derived_base = _host_url("http", "localhost" if _is_loopback(bind) or _is_unspecified(bind) else bind, port)
    base_url = problems.check(lambda: root.parse("baseUrl", parse_url, derived_base))
    if base_url is None:
        return None
    if on_domain and base_url.split("://", 1)[1].split(":")[0] != caddy.domain:
        problems.add(root.key("baseUrl"),
                     f"must be on caddy.domain ({caddy.domain}): Caddy only serves that name, got {base_url!r}")
    ssh_match = re.match(r"ssh://(?:[^@]+@)?(\[[^\]]+\]|[^:/]+)", docker_host)
    ssh_host = ssh_match.group(1) if ssh_match else None
    configured = problems.check(lambda: root.parse("apiUrl", parse_url, ""))
    if configured:
        return base_url, configured
    if configured is None:
        return None  # invalid, recorded
    if ssh_host is not None and _is_loopback(bind) and not on_domain:
        problems.add(
            root.key("apiUrl"),
            f"is required with a remote dockerHost when Windmill is only published on {bind} of that host: "
            "this program could not reach it; set apiUrl to an SSH tunnel (e.g. http://127.0.0.1:8080 with "
            f"`ssh -L 8080:{bind}:{port} ...`) or bind to a reachable address",
        )
        return None
    if on_domain:
        return base_url, base_url
    return base_url, _host_url("http", (ssh_host or "127.0.0.1") if _is_unspecified(bind) else bind, port)


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def _is_unspecified(address: str) -> bool:
    return ipaddress.ip_address(address).is_unspecified


def _host_url(scheme: str, host: str, port: int) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 80 if scheme == "http" else 443
    return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"
