"""``windmillStack.kubernetes``: the settings only the Kubernetes runtime understands.

With ``windmillStack.runtime: kubernetes`` the instance is a Helm release of Windmill's official
chart (components/windmill_kubernetes/). What it shares with the Docker runtime (version, edition,
baseUrl, apiUrl, server.replicas, workerGroups, extra, readiness, bootstrapToken) is read by
``windmill_stack.py``; this module reads the rest: cluster access, namespace, where Postgres is, how
users reach the instance (an Ingress or a Gateway API HTTPRoute, with TLS) and the license. Credentials
are names in ``homeops-windmill:secrets``; the component turns them into Kubernetes Secrets, so no
credential is ever a plain chart value. The reference is docs/kubernetes.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .docker_values import HOSTNAME, parse_cpus, parse_memory_mb
from .errors import ConfigError, Problems, config_set_command
from .values import Section, check_str

_KEYS = (
    "kubeconfig", "context", "namespace", "createNamespace", "releaseName", "chartPath", "timeoutSeconds",
    "postgres", "ingress", "gatewayRoute", "licenseSecret", "app",
)
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_VALUE_NAME = r"[A-Za-z0-9_]+"
POSTGRES_MODES = ("external", "demo")


@dataclass(frozen=True)
class ExistingSecret:
    """A Kubernetes Secret managed outside this stack, and the key holding the value."""

    name: str
    key: str


@dataclass(frozen=True)
class KubernetesPostgres:
    """``external``: the URL comes from a Kubernetes Secret (made from ``url_secret``, or ``existing``);
    ``demo``: the chart's own Postgres pod, which is not for production (no persistence, fixed password)."""

    mode: str
    url_secret: str | None = None
    existing: ExistingSecret | None = None


@dataclass(frozen=True)
class IngressSettings:
    class_name: str | None
    tls_secret: str
    annotations: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GatewayParent:
    name: str
    namespace: str | None
    section_name: str


@dataclass(frozen=True)
class AppSettings:
    """The Windmill server pods (the chart's ``windmill.app``): limits and the optional CPU autoscaler."""

    memory_mb: int
    cpus: str | None
    autoscaling_max_replicas: int | None
    autoscaling_target_cpu_percent: int


@dataclass(frozen=True)
class KubernetesSettings:
    """Everything the Kubernetes runtime needs beyond the settings both runtimes share."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    create_namespace: bool
    release_name: str
    chart_path: str | None
    timeout_seconds: int
    postgres: KubernetesPostgres
    ingress: IngressSettings | None
    gateway_parents: tuple[GatewayParent, ...]
    license_secret: str | None
    app: AppSettings

    @property
    def routed(self) -> bool:
        """Whether users reach Windmill through an Ingress or an HTTPRoute made by the chart."""
        return self.ingress is not None or bool(self.gateway_parents)


def parse_kubernetes(section: Section, problems: Problems, secret_names: frozenset[str]) -> KubernetesSettings | None:
    with problems.scope() as found:
        check = found.check
        check(lambda: section.reject_unknown(_KEYS))

        def name(key: str, default: Any) -> Any:
            return check(lambda: section.str(key, default, pattern=_DNS_LABEL,
                                             pattern_help="must be a lowercase DNS label"), default)

        settings = KubernetesSettings(
            kubeconfig=check(lambda: section.str("kubeconfig", None), None),
            context=check(lambda: section.str("context", None), None),
            namespace=name("namespace", "windmill"),
            create_namespace=check(lambda: section.bool("createNamespace", True), True),
            release_name=name("releaseName", "windmill"),
            chart_path=check(lambda: section.str("chartPath", None), None),
            timeout_seconds=check(lambda: section.int("timeoutSeconds", 900, minimum=60, maximum=7200), 900),
            postgres=check(lambda: _postgres(section, secret_names), KubernetesPostgres("external")),
            ingress=check(lambda: _ingress(section), None),
            gateway_parents=check(lambda: _gateway(section), ()),
            license_secret=check(lambda: _secret_name(section, "licenseSecret", secret_names), None),
            app=check(lambda: _app(section), AppSettings(2048, None, None, 80)),
        )
        if settings.ingress is not None and settings.gateway_parents:
            found.add(section.key("gatewayRoute"), "choose one way in: ingress or gatewayRoute, not both")
    return None if found else settings


def _secret_name(section: Section, key: str, secret_names: frozenset[str], required: bool = False) -> str | None:
    value = section.data.get(key)
    if value is None:
        if required:
            raise ConfigError(section.key(key), "is required: the name of a value in homeops-windmill:secrets")
        return None
    name = check_str(section.key(key), value, pattern=_VALUE_NAME,
                     pattern_help="must name a value of homeops-windmill:secrets")
    if name not in secret_names:
        raise ConfigError(section.key(key), f"homeops-windmill:secrets.{name} is not set; run: "
                          f"{config_set_command(f'secrets.{name}')}")
    return name


def _postgres(parent: Section, secret_names: frozenset[str]) -> KubernetesPostgres:
    if parent.data.get("postgres") is None:
        raise ConfigError(parent.key("postgres"), "is required: mode external (a database URL from a Secret) or "
                          "mode demo (the chart's throwaway Postgres, not for production)")
    section = parent.section("postgres")
    section.reject_unknown(("mode", "urlSecret", "existingSecret"))
    mode = section.str("mode", choices=POSTGRES_MODES)
    if mode == "demo":
        for key in ("urlSecret", "existingSecret"):
            if section.data.get(key) is not None:
                raise ConfigError(section.key(key), "is for mode external; the demo Postgres needs none")
        return KubernetesPostgres("demo")
    url_secret = _secret_name(section, "urlSecret", secret_names)
    existing = None
    if section.data.get("existingSecret") is not None:
        ref = section.section("existingSecret")
        ref.reject_unknown(("name", "key"))
        existing = ExistingSecret(
            name=ref.str("name", pattern=_DNS_LABEL, pattern_help="must be a Secret name"),
            key=ref.str("key", "url", pattern=r"[-._a-zA-Z0-9]+", pattern_help="must be a Secret key"),
        )
    if (url_secret is None) == (existing is None):
        raise ConfigError(section.key("urlSecret"), "set exactly one of urlSecret (a value of homeops-windmill:"
                          "secrets, which becomes a Kubernetes Secret) and existingSecret (one managed elsewhere)")
    return KubernetesPostgres("external", url_secret=url_secret, existing=existing)


def _ingress(parent: Section) -> IngressSettings | None:
    if parent.data.get("ingress") is None:
        return None
    section = parent.section("ingress")
    section.reject_unknown(("className", "tlsSecret", "annotations"))
    annotations = section.mapping("annotations", {})
    for key, value in annotations.items():
        check_str(section.key(f"annotations.{key}"), value)
    return IngressSettings(
        class_name=section.str("className", None),
        # TLS is not optional: the Ingress serves baseUrl, which must be https.
        tls_secret=section.str("tlsSecret", pattern=_DNS_LABEL, pattern_help="must be a Secret name"),
        annotations=tuple(sorted(annotations.items())),
    )


def _gateway(parent: Section) -> tuple[GatewayParent, ...]:
    if parent.data.get("gatewayRoute") is None:
        return ()
    section = parent.section("gatewayRoute")
    section.reject_unknown(("parentRefs",))
    refs = section.sections("parentRefs")
    if not refs:
        raise ConfigError(section.key("parentRefs"), "needs at least one Gateway listener to attach to")
    parents = []
    for ref in refs:
        ref.reject_unknown(("name", "namespace", "sectionName"))
        parents.append(GatewayParent(
            name=ref.str("name", pattern=_DNS_LABEL, pattern_help="must be a Gateway name"),
            namespace=ref.str("namespace", None, pattern=_DNS_LABEL, pattern_help="must be a namespace"),
            # TLS terminates at the Gateway: the route must attach to its HTTPS listener by name.
            section_name=ref.str("sectionName", pattern=r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?",
                                 pattern_help="must name the Gateway's HTTPS listener"),
        ))
    return tuple(parents)


def _app(parent: Section) -> AppSettings:
    section = parent.section("app")
    section.reject_unknown(("memory", "cpus", "autoscaling"))
    memory = section.parse("memory", lambda k, v: parse_memory_mb(k, v, minimum_mb=512), 2048)
    autoscaling = section.section("autoscaling")
    autoscaling.reject_unknown(("maxReplicas", "targetCpuPercent"))
    return AppSettings(
        memory_mb=memory,
        cpus=section.parse("cpus", parse_cpus, None),
        autoscaling_max_replicas=autoscaling.int("maxReplicas", None, minimum=1, maximum=64),
        autoscaling_target_cpu_percent=autoscaling.int("targetCpuPercent", 80, minimum=10, maximum=100),
    )


def split_base_url(key: str, base_url: str, routed: bool) -> tuple[str, str]:
    """``(baseProtocol, baseDomain)`` for the chart, which builds BASE_URL from the two."""
    protocol, rest = base_url.split("://", 1)
    host = rest.split(":")[0] if not rest.startswith("[") else rest
    if routed:
        if protocol != "https":
            raise ConfigError(key, f"must be https: the Ingress or Gateway serves it with TLS, got {base_url!r}")
        if rest != host:
            raise ConfigError(key, f"must not carry a port: it is the route's host name, got {base_url!r}")
        check_str(key, host, pattern=HOSTNAME, pattern_help="must be a DNS name the route serves")
    return protocol, rest
