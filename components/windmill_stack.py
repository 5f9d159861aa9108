"""The Docker-hosted Windmill stack: Windmill's own docker-compose deployment, minus its weak points.

Topology (windmill-api.md §11): Postgres, N servers, worker groups (``default``, ``native`` and any
extra group), the windmill-extra language server and a Caddy reverse proxy, on one private network.
What differs from the upstream compose file, and why:

* images are pinned (``main`` / ``latest`` refused) so previews are stable and upgrades deliberate;
* the Postgres password is generated (pulumi-random) and only ever travels inside secret Outputs;
* every container has a health check, and servers/workers start only once Postgres is healthy;
* nothing is published on the host except Caddy, bound to 127.0.0.1 unless configured otherwise;
* the Postgres data volume is protected and retained on delete: no ``pulumi destroy`` drops it,
  and nothing the Windmill version feeds into touches Postgres, so upgrades never replace it;
* a readiness gate waits until the API answers at the URL the rest of the program will use.

Config lives under one project key, ``windmillStack``; ``WindmillStackArgs.from_config`` validates
all of it and names the key of every bad value. The reference is docs/docker-stack.md.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.config.errors import ConfigError, ConfigErrors
from components.config.values import Section, check_int, check_str
from components.windmill.readiness import ReadinessGate

T = TypeVar("T")

CONFIG_KEY = "homeops-windmill:windmillStack"

WINDMILL_IMAGES = {
    "ce": "ghcr.io/windmill-labs/windmill",
    "ee": "ghcr.io/windmill-labs/windmill-ee",
}
# The release the project's API facts were checked against (windmill-api.md §1). Stacks should
# still pin `version` in their stack file, so a code change never upgrades anything by itself.
DEFAULT_WINDMILL_VERSION = "1.819.0"
DEFAULT_POSTGRES_VERSION = "16"
MIN_POSTGRES_MAJOR = 14  # the server refuses older ones (windmill-api.md §11.4)
EXTRA_IMAGE_REPOSITORY = "ghcr.io/windmill-labs/windmill-extra"  # tagged like Windmill releases
# The caddy-l4 build Windmill's own compatibility tests use as their reference image.
DEFAULT_CADDY_IMAGE = "ghcr.io/windmill-labs/caddy-l4:sha-989c9e6"

# Windmill's Postgres sizing rule (pulumi-notes.md §23.4).
CONNECTIONS_PER_WORKER = 5
CONNECTIONS_PER_SERVER = 50
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100

SERVER_PORT = 8000
SERVER_ALIAS = "windmill_server"
EXTRA_ALIAS = "windmill_extra"
DB_ALIAS = "db"
EXTRA_LSP_PORT = 3001
SMTP_SERVER_PORT = 2525
# Paths inside the Windmill image (upstream compose), not on the host.
WORKER_LOGS_PATH = "/tmp/windmill/logs"  # noqa: S108
WORKER_CACHE_PATH = "/tmp/windmill/cache"  # noqa: S108

MOVING_TAGS = frozenset({"latest", "main", "master", "nightly", "edge", "dev"})
RESERVED_WORKER_ENV = {
    "DATABASE_URL": "it is built from the generated Postgres password",
    "MODE": "workers always run with MODE=worker",
    "WORKER_GROUP": "it is the group's name",
    "PORT": "it is the port the worker health check probes",
}

_NAME_PREFIX = r"[a-z][a-z0-9-]{0,29}"
_GROUP_NAME = r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?"
_HOSTNAME = (
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_ENV_NAME = r"[A-Z_][A-Z0-9_]*"


# --------------------------------------------------------------------------------------------
# Typed settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresSettings:
    """The Postgres container: image tag, connection budget and shared memory."""

    version: str
    major: int
    max_connections: int
    shm_size_mb: int
    data_volume: str

    @property
    def image(self) -> str:
        return f"postgres:{self.version}"

    @property
    def data_path(self) -> str:
        # postgres:18 moved PGDATA under /var/lib/postgresql/18/docker and refuses a volume
        # mounted at the old .../data path.
        return "/var/lib/postgresql" if self.major >= 18 else "/var/lib/postgresql/data"


@dataclass(frozen=True)
class ServerSettings:
    """Windmill servers (``MODE=server``); ``port`` publishes one directly when Caddy is off."""

    replicas: int
    wait_timeout_seconds: int
    bind_address: str
    port: int | None


@dataclass(frozen=True)
class WorkerGroup:
    """One worker group: ``replicas`` identical containers with ``WORKER_GROUP=<name>``."""

    name: str
    replicas: int
    memory_mb: int
    cpus: str | None
    privileged: bool
    mount_docker_socket: bool
    env: tuple[tuple[str, str], ...]

    @property
    def native(self) -> bool:
        return self.name == "native"


@dataclass(frozen=True)
class ExtraSettings:
    """windmill-extra: the language servers behind the editor (``/ws/*``)."""

    enabled: bool
    image: str


@dataclass(frozen=True)
class CaddySettings:
    """The reverse proxy, the only container published on the host."""

    enabled: bool
    image: str
    bind_address: str
    port: int
    https_port: int
    domain: str | None
    smtp_port: int | None


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

    @property
    def windmill_image(self) -> str:
        return f"{WINDMILL_IMAGES[self.edition]}:{self.version}"

    @property
    def worker_replicas(self) -> int:
        return sum(group.replicas for group in self.worker_groups)

    @property
    def internal_url(self) -> str:
        return f"http://{SERVER_ALIAS}:{SERVER_PORT}"

    @property
    def required_connections(self) -> int:
        return required_connections(self.worker_replicas, self.server.replicas)

    @classmethod
    def from_config(cls, data: Any, key_prefix: str = CONFIG_KEY) -> WindmillStackArgs:
        """Validate the ``windmillStack`` config object; raise ConfigError naming the bad key.

        Independent problems are reported together (ConfigErrors) so one preview shows them all;
        a single problem is raised as the ConfigError itself.
        """
        return _parse(Section(data, key_prefix))


def required_connections(worker_replicas: int, server_replicas: int) -> int:
    """Windmill's rule: at least 5 connections per worker replica and 50 per server replica."""
    return CONNECTIONS_PER_WORKER * worker_replicas + CONNECTIONS_PER_SERVER * server_replicas


# --------------------------------------------------------------------------------------------
# Parsing helpers (each raises ConfigError naming its key)
# --------------------------------------------------------------------------------------------


def parse_memory_mb(key: str, value: Any, *, minimum_mb: int = 1) -> int:
    """``"2g"``, ``"2048m"``, ``"1.5G"``, ``"512MB"`` -> megabytes (what pulumi-docker takes)."""
    if not isinstance(value, str):
        raise ConfigError(key, f"must be a size such as 2g or 2048m, got {value!r}")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mMgG])[bB]?", value.strip())
    if not match:
        raise ConfigError(key, f"must be a size such as 2g or 2048m, got {value!r}")
    number = float(match.group(1))
    megabytes = number * 1024 if match.group(2).lower() == "g" else number
    if not megabytes.is_integer():
        megabytes = math.floor(megabytes)
    if megabytes < minimum_mb:
        raise ConfigError(key, f"must be at least {minimum_mb}m, got {value!r}")
    return int(megabytes)


def parse_windmill_version(key: str, value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in MOVING_TAGS:
        raise ConfigError(
            key,
            f"must pin a Windmill release such as {DEFAULT_WINDMILL_VERSION}; "
            f"{value!r} moves with every build, so previews and upgrades would not be reproducible",
        )
    text = check_str(key, value)
    version = text[1:] if text.startswith("v") else text
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ConfigError(key, f"must be a full release version such as {DEFAULT_WINDMILL_VERSION}, got {value!r}")
    return version


def parse_postgres_version(key: str, value: Any) -> tuple[str, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))
    text = check_str(
        key,
        value,
        pattern=r"\d+(\.\d+)?(-[a-z0-9][a-z0-9.]*)?",
        pattern_help="must be a postgres image tag such as 16, 16.4 or 16-alpine",
    )
    major = int(text.split(".")[0].split("-")[0])
    if major < MIN_POSTGRES_MAJOR:
        raise ConfigError(key, f"must be Postgres {MIN_POSTGRES_MAJOR} or newer (Windmill requires it), got {text!r}")
    return text, major


def parse_image(key: str, value: Any) -> str:
    """A full image reference with a pinned tag or digest."""
    text = check_str(key, value)
    if re.fullmatch(r"[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}", text):
        return text
    match = re.fullmatch(
        r"([a-z0-9][a-z0-9._/-]*(?::\d+/[a-z0-9._/-]+)?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?", text
    )
    if not match:
        raise ConfigError(key, f"must be an image reference such as {DEFAULT_CADDY_IMAGE}, got {text!r}")
    tag = match.group(2)
    if tag is None:
        raise ConfigError(key, f"must pin a tag or digest (an untagged image means :latest), got {text!r}")
    if tag.lower() in MOVING_TAGS:
        raise ConfigError(key, f"must pin a fixed tag or digest, not the moving tag {tag!r}")
    return text


def parse_port(key: str, value: Any) -> int:
    return check_int(key, value, minimum=1, maximum=65535)


def parse_bind_address(key: str, value: Any) -> str:
    text = check_str(key, value)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ConfigError(key, f"must be an IP address such as 127.0.0.1 or 0.0.0.0, got {text!r}") from None


def parse_docker_host(key: str, value: Any) -> str:
    """``unix:///path/docker.sock`` or ``ssh://[user@]host[:port]``."""
    text = check_str(key, value)
    if re.fullmatch(r"unix:///[^\s]+", text):
        return text
    match = re.fullmatch(rf"ssh://(?:([a-z_][a-z0-9_.-]*)@)?({_HOSTNAME}|\[[0-9a-fA-F:]+\])(?::(\d+))?", text)
    if match:
        if match.group(3) is not None:
            parse_port(key, int(match.group(3)))
        return text
    if text.startswith("tcp://"):
        raise ConfigError(
            key,
            "plain tcp:// is not supported: an unauthenticated Docker API is root on that host; "
            "use ssh://user@host instead",
        )
    raise ConfigError(key, f"must be unix:///path/to/docker.sock or ssh://user@host[:port], got {text!r}")


def parse_domain(key: str, value: Any) -> str:
    return check_str(
        key, value, pattern=_HOSTNAME, pattern_help="must be a DNS name such as windmill.example.com"
    ).lower()


def parse_url(key: str, value: Any) -> str:
    text = check_str(
        key,
        value,
        pattern=r"https?://[^\s/?#]+/?",
        pattern_help="must be an http(s) URL without a path, such as https://windmill.example.com",
    )
    return text.rstrip("/")


def parse_cpus(key: str, value: Any) -> str:
    if isinstance(value, bool):
        raise ConfigError(key, f"must be a number of CPUs such as 1 or 1.5, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"must be a number of CPUs such as 1 or 1.5, got {value!r}") from None
    if not (0 < number <= 512):
        raise ConfigError(key, f"must be a number of CPUs > 0, got {value!r}")
    return f"{number:g}"


def parse_env(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    section = Section(value, key)
    result: dict[str, str] = {}
    for name, item in section.data.items():
        item_key = section.key(name)
        if not isinstance(name, str) or not re.fullmatch(_ENV_NAME, name):
            raise ConfigError(item_key, "must be an environment variable name in UPPER_SNAKE_CASE")
        if name in RESERVED_WORKER_ENV:
            raise ConfigError(item_key, f"cannot be set here: {RESERVED_WORKER_ENV[name]}")
        if isinstance(item, bool):
            result[name] = "true" if item else "false"
        elif isinstance(item, int | float | str):
            result[name] = str(item)
        else:
            raise ConfigError(item_key, f"must be a string, number or boolean, got {type(item).__name__}")
    return tuple(sorted(result.items()))


class _Errors:
    """Collects ConfigErrors from independent parts so one preview reports all of them."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def run(self, fn: Callable[[], T], fallback: T) -> T:
        try:
            return fn()
        except ConfigError as error:
            self.errors.append(error)
        except ConfigErrors as many:
            self.errors.extend(many.errors)
        return fallback

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ConfigErrors(self.errors)


_GROUP_DEFAULTS: dict[str, dict[str, Any]] = {
    # Upstream compose: 3 default workers and 1 native worker, 2 GB each.
    "default": {"replicas": 3, "memory": "2g"},
    "native": {"replicas": 1, "memory": "2g"},
}
_GROUP_KEYS = ("name", "replicas", "memory", "cpus", "privileged", "mountDockerSocket", "env")


def _parse_group(section: Section) -> WorkerGroup:
    section.reject_unknown(_GROUP_KEYS)
    name = section.str(
        "name", pattern=_GROUP_NAME, pattern_help="must be a lowercase worker group name such as gpu or reports"
    )
    defaults = _GROUP_DEFAULTS.get(name, {"replicas": 1, "memory": "2g"})
    replicas = section.int("replicas", defaults["replicas"], minimum=0, maximum=64)
    memory = section.parse("memory", lambda k, v: parse_memory_mb(k, v, minimum_mb=256), None)
    if memory is None:
        memory = parse_memory_mb(section.key("memory"), defaults["memory"])
    return WorkerGroup(
        name=name,
        replicas=replicas,
        memory_mb=memory,
        cpus=section.parse("cpus", parse_cpus, None),
        privileged=section.bool("privileged", False),
        mount_docker_socket=section.bool("mountDockerSocket", False),
        env=section.parse("env", parse_env, ()),
    )


def _parse_groups(root: Section) -> tuple[WorkerGroup, ...]:
    groups: list[WorkerGroup] = []
    seen: dict[str, str] = {}
    errors = _Errors()
    for section in root.sections("workerGroups"):
        group = errors.run(lambda s=section: _parse_group(s), None)
        if group is None:
            continue
        if group.name in seen:
            errors.errors.append(
                ConfigError(
                    section.key("name"), f"worker group {group.name!r} is defined twice (first at {seen[group.name]})"
                )
            )
            continue
        seen[group.name] = section.path
        groups.append(group)
    errors.raise_if_any()
    # `default` and `native` exist unless configured otherwise (replicas: 0 turns one off).
    for name in ("native", "default"):
        if name not in seen:
            groups.insert(0, _parse_group(Section({"name": name}, f"{root.key('workerGroups')}<{name}>")))
    return tuple(groups)


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def _is_unspecified(address: str) -> bool:
    return ipaddress.ip_address(address).is_unspecified


def _host_url(scheme: str, host: str, port: int) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 80 if scheme == "http" else 443
    return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"


def _parse(root: Section) -> WindmillStackArgs:
    root.reject_unknown(
        (
            "enabled",
            "dockerHost",
            "dockerSshOpts",
            "namePrefix",
            "edition",
            "version",
            "baseUrl",
            "apiUrl",
            "postgres",
            "server",
            "workerGroups",
            "extra",
            "caddy",
            "logMaxSize",
            "logMaxFile",
            "readiness",
            "bootstrapToken",
        )
    )
    errors = _Errors()
    enabled = errors.run(lambda: root.bool("enabled", False), False)
    bootstrap_token = errors.run(lambda: root.bool("bootstrapToken", True), True)
    docker_host = errors.run(lambda: root.parse("dockerHost", parse_docker_host, "unix:///var/run/docker.sock"), "")
    ssh_opts = errors.run(
        lambda: tuple(
            check_str(f"{root.key('dockerSshOpts')}[{i}]", v) for i, v in enumerate(root.list("dockerSshOpts", []))
        ),
        (),
    )
    name_prefix = errors.run(
        lambda: root.str(
            "namePrefix",
            "windmill",
            pattern=_NAME_PREFIX,
            pattern_help="must be lowercase letters, digits and dashes, starting with a letter",
        ),
        "windmill",
    )
    edition = errors.run(lambda: root.str("edition", "ce", choices=("ce", "ee")), "ce")
    version = errors.run(
        lambda: root.parse("version", parse_windmill_version, DEFAULT_WINDMILL_VERSION), DEFAULT_WINDMILL_VERSION
    )
    log_max_size = errors.run(
        lambda: root.str(
            "logMaxSize", "20m", pattern=r"\d+[kmg]", pattern_help="must be a json-file log size such as 20m"
        ),
        "20m",
    )
    log_max_file = errors.run(lambda: root.int("logMaxFile", 10, minimum=1, maximum=100), 10)

    # Worker groups and servers first: the Postgres connection rule depends on them.
    groups = errors.run(lambda: _parse_groups(root), ())
    server = errors.run(lambda: _parse_server(root.section("server")), None)

    postgres = errors.run(lambda: _parse_postgres(root.section("postgres"), groups, server, name_prefix), None)
    extra = errors.run(lambda: _parse_extra(root.section("extra"), version), None)
    caddy = errors.run(lambda: _parse_caddy(root.section("caddy")), None)

    readiness = errors.run(lambda: root.section("readiness"), Section({}, root.key("readiness")))
    errors.run(lambda: readiness.reject_unknown(("timeoutSeconds", "intervalSeconds")), None)
    readiness_timeout = errors.run(lambda: readiness.int("timeoutSeconds", 120, minimum=5, maximum=900), 120)
    readiness_interval = errors.run(lambda: readiness.int("intervalSeconds", 2, minimum=1, maximum=60), 2)

    errors.raise_if_any()
    assert server is not None and postgres is not None and extra is not None and caddy is not None

    if caddy.enabled and server.port is not None:
        errors.errors.append(
            ConfigError(
                root.section("server").key("port"),
                "publishes the server directly, so it is only allowed with caddy.enabled: false",
            )
        )
    if not caddy.enabled:
        if server.port is None:
            errors.errors.append(
                ConfigError(
                    root.section("server").key("port"),
                    "is required when caddy.enabled is false: nothing else would make Windmill reachable",
                )
            )
        elif server.replicas != 1:
            errors.errors.append(
                ConfigError(
                    root.section("server").key("replicas"),
                    f"must be 1 when the server is published directly (server.port), got {server.replicas}",
                )
            )
    errors.raise_if_any()

    # Where the server is reachable from the Docker host's point of view.
    if caddy.enabled:
        bind, port = caddy.bind_address, caddy.port
    else:
        bind, port = server.bind_address, server.port or SERVER_PORT
    if caddy.enabled and caddy.domain:
        derived_base = (
            f"https://{caddy.domain}" if caddy.https_port == 443 else f"https://{caddy.domain}:{caddy.https_port}"
        )
    else:
        derived_base = _host_url("http", "localhost" if _is_loopback(bind) or _is_unspecified(bind) else bind, port)
    base_url = errors.run(lambda: root.parse("baseUrl", parse_url, derived_base), derived_base)
    if caddy.enabled and caddy.domain and base_url.split("://", 1)[1].split(":")[0] != caddy.domain:
        errors.errors.append(
            ConfigError(
                root.key("baseUrl"),
                f"must be on caddy.domain ({caddy.domain}): Caddy only serves that name, got {base_url!r}",
            )
        )

    ssh_host = None
    ssh_match = re.match(r"ssh://(?:[^@]+@)?(\[[^\]]+\]|[^:/]+)", docker_host)
    if ssh_match:
        ssh_host = ssh_match.group(1)
    if caddy.enabled and caddy.domain:
        derived_api = base_url
    elif _is_unspecified(bind):
        derived_api = _host_url("http", ssh_host or "127.0.0.1", port)
    else:
        derived_api = _host_url("http", bind, port)
    api_url = errors.run(lambda: root.parse("apiUrl", parse_url, None), None)
    if api_url is None:
        if ssh_host is not None and _is_loopback(bind) and not (caddy.enabled and caddy.domain):
            errors.errors.append(
                ConfigError(
                    root.key("apiUrl"),
                    f"is required with a remote dockerHost when Windmill is only published on {bind} of that host: "
                    "this program could not reach it; set apiUrl to an SSH tunnel (e.g. http://127.0.0.1:8080 with "
                    f"`ssh -L 8080:{bind}:{port} ...`) or bind to a reachable address",
                )
            )
        api_url = derived_api
    errors.raise_if_any()

    return WindmillStackArgs(
        enabled=enabled,
        docker_host=docker_host,
        docker_ssh_opts=ssh_opts,
        name_prefix=name_prefix,
        edition=edition,
        version=version,
        base_url=base_url,
        api_url=api_url,
        postgres=postgres,
        server=server,
        worker_groups=groups,
        extra=extra,
        caddy=caddy,
        log_max_size=log_max_size,
        log_max_file=log_max_file,
        readiness_timeout_seconds=readiness_timeout,
        readiness_interval_seconds=readiness_interval,
        bootstrap_token=bootstrap_token,
    )


def _parse_server(section: Section) -> ServerSettings:
    section.reject_unknown(("replicas", "waitTimeoutSeconds", "bindAddress", "port"))
    return ServerSettings(
        replicas=section.int("replicas", 1, minimum=1, maximum=16),
        wait_timeout_seconds=section.int("waitTimeoutSeconds", 300, minimum=30, maximum=3600),
        bind_address=section.parse("bindAddress", parse_bind_address, "127.0.0.1"),
        port=section.parse("port", parse_port, None),
    )


def _parse_postgres(
    section: Section, groups: Sequence[WorkerGroup], server: ServerSettings | None, name_prefix: str
) -> PostgresSettings:
    section.reject_unknown(("version", "maxConnections", "shmSize", "dataVolume"))
    version, major = section.parse(
        "version", parse_postgres_version, (DEFAULT_POSTGRES_VERSION, int(DEFAULT_POSTGRES_VERSION))
    )
    workers = sum(group.replicas for group in groups)
    servers = server.replicas if server else 1
    needed = required_connections(workers, servers)
    max_connections = section.int("maxConnections", None, minimum=1, maximum=10000)
    if max_connections is None:
        max_connections = max(POSTGRES_DEFAULT_MAX_CONNECTIONS, needed)
    elif max_connections < needed:
        raise ConfigError(
            section.key("maxConnections"),
            f"must be at least {needed} for this fleet ({CONNECTIONS_PER_WORKER} x {workers} worker replicas + "
            f"{CONNECTIONS_PER_SERVER} x {servers} server replicas), got {max_connections}",
        )
    shm = section.parse("shmSize", lambda k, v: parse_memory_mb(k, v, minimum_mb=64), None)
    # A new name is how a Postgres major upgrade gets an empty volume (docs/docker-stack.md).
    data_volume = section.str(
        "dataVolume",
        f"{name_prefix}_db_data",
        pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}",
        pattern_help="must be a Docker volume name",
    )
    return PostgresSettings(
        version=version, major=major, max_connections=max_connections, shm_size_mb=shm or 1024, data_volume=data_volume
    )


def _parse_extra(section: Section, version: str) -> ExtraSettings:
    section.reject_unknown(("enabled", "image"))
    return ExtraSettings(
        enabled=section.bool("enabled", True),
        # windmill-extra is released with Windmill; keep them in step unless told otherwise.
        image=section.parse("image", parse_image, f"{EXTRA_IMAGE_REPOSITORY}:{version}"),
    )


def _parse_caddy(section: Section) -> CaddySettings:
    section.reject_unknown(("enabled", "image", "bindAddress", "port", "httpsPort", "domain", "smtpPort"))
    caddy = CaddySettings(
        enabled=section.bool("enabled", True),
        image=section.parse("image", parse_image, DEFAULT_CADDY_IMAGE),
        bind_address=section.parse("bindAddress", parse_bind_address, "127.0.0.1"),
        port=section.parse("port", parse_port, 80),
        https_port=section.parse("httpsPort", parse_port, 443),
        domain=section.parse("domain", parse_domain, None),
        smtp_port=section.parse("smtpPort", parse_port, None),
    )
    published = {"port": caddy.port}
    if caddy.domain:
        published["httpsPort"] = caddy.https_port
    if caddy.smtp_port is not None:
        published["smtpPort"] = caddy.smtp_port
    used: dict[int, str] = {}
    for key, port in published.items():
        if port in used:
            raise ConfigError(section.key(key), f"port {port} is already used by caddy.{used[port]}")
        used[port] = key
    return caddy


# --------------------------------------------------------------------------------------------
# Caddyfile
# --------------------------------------------------------------------------------------------


def render_caddyfile(args: WindmillStackArgs) -> str:
    """The Caddyfile for this stack: ``/ws/*`` to windmill-extra, everything else to the servers.

    Pure function of the config, uploaded into the Caddy container (no host file involved).
    Caddy listens on its container ports (80, 443 with a domain, 25 for SMTP); which host address
    and port they are published on is the container's business, so no ``bind`` directive is
    needed (an empty ``bind {$ADDRESS}`` made Caddy >= 2.9 drop the site; windmill-api.md §11.3).
    """
    lines = ["# Generated by homeops-windmill (components/windmill_stack.py). Do not edit by hand."]
    if args.caddy.smtp_port is not None:
        # Email triggers: raw TCP from :25 to the servers' SMTP listener (caddy-l4).
        lines += [
            "{",
            "\tlayer4 {",
            "\t\t:25 {",
            "\t\t\tproxy {",
            f"\t\t\t\tto {SERVER_ALIAS}:{SMTP_SERVER_PORT}",
            "\t\t\t}",
            "\t\t}",
            "\t}",
            "}",
            "",
        ]
    site = args.caddy.domain or ":80"
    lines.append(f"{site} {{")
    if args.extra.enabled:
        lines.append(f"\treverse_proxy /ws/* http://{EXTRA_ALIAS}:{EXTRA_LSP_PORT}")
    upstreams = " ".join(f"http://{_server_alias(i)}:{SERVER_PORT}" for i in range(args.server.replicas))
    if args.server.replicas == 1:
        lines.append(f"\treverse_proxy /* {upstreams}")
    else:
        lines += [
            f"\treverse_proxy /* {upstreams} {{",
            "\t\tlb_policy round_robin",
            "\t\tlb_try_duration 5s",
            "\t}",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _server_alias(index: int) -> str:
    return f"{SERVER_ALIAS}_{index}"


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


class WindmillStack(pulumi.ComponentResource):
    """Windmill on a Docker host: Postgres, servers, worker groups, windmill-extra and Caddy.

    Outputs: ``public_url`` (BASE_URL), ``internal_url`` (on the stack's network), ``api_url``
    (what this program calls), ``windmill_version`` (what the server reported), ``database_url``
    (secret) and ``readiness``: the readiness gate every Windmill API resource must depend on.
    """

    public_url: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    api_url: pulumi.Output[str]
    windmill_version: pulumi.Output[str]
    database_url: pulumi.Output[str]
    readiness: ReadinessGate

    def __init__(self, name: str, args: WindmillStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homeops:windmill:WindmillStack", name, None, opts)
        self.args = args
        prefix = args.name_prefix

        self.provider = docker.Provider(
            f"{name}-docker",
            host=args.docker_host,
            ssh_opts=list(args.docker_ssh_opts) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.network = docker.Network(
            f"{name}-network",
            name=prefix,
            driver="bridge",
            labels=[
                docker.NetworkLabelArgs(label="org.homeops.stack", value=args.name_prefix),
                docker.NetworkLabelArgs(label="org.homeops.role", value="network"),
            ],
            opts=child,
        )

        # Data: the Postgres volume is the only thing that must survive everything. protect makes
        # `pulumi destroy` refuse; retain_on_delete keeps the Docker volume even if it is unprotected
        # and deleted from the stack. A fixed name means a re-created stack finds it again.
        self.db_volume = docker.Volume(
            f"{name}-db-data",
            name=args.postgres.data_volume,
            labels=self._volume_labels("db_data"),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
        )
        self.cache_volume = docker.Volume(
            f"{name}-worker-cache",
            name=f"{prefix}_worker_dependency_cache",
            labels=self._volume_labels("worker_dependency_cache"),
            opts=child,
        )
        self.logs_volume = docker.Volume(
            f"{name}-worker-logs", name=f"{prefix}_worker_logs", labels=self._volume_labels("worker_logs"), opts=child
        )
        self.lsp_volume = docker.Volume(
            f"{name}-lsp-cache", name=f"{prefix}_lsp_cache", labels=self._volume_labels("lsp_cache"), opts=child
        )
        # Caddy's ACME account and certificates: losing them means re-issuing, so keep the volume.
        self.caddy_volume = docker.Volume(
            f"{name}-caddy-data",
            name=f"{prefix}_caddy_data",
            labels=self._volume_labels("caddy_data"),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True)),
        )

        # keep_locally: replacing a pinned tag must not delete the old image, so a rollback is fast
        # and a still-running container's image is never pulled from under it.
        def image(key: str, reference: str) -> docker.RemoteImage:
            return docker.RemoteImage(f"{name}-image-{key}", name=reference, keep_locally=True, opts=child)

        self.postgres_image = image("postgres", args.postgres.image)
        self.windmill_image = image("windmill", args.windmill_image)
        self.extra_image = image("extra", args.extra.image) if args.extra.enabled else None
        self.caddy_image = image("caddy", args.caddy.image) if args.caddy.enabled else None

        # special=False keeps the password URL-safe inside DATABASE_URL. No keepers: it is generated
        # once and stays in state, so every run uses the same password.
        self.db_password = random.RandomPassword(
            f"{name}-db-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        password = pulumi.Output.secret(self.db_password.result)
        self.database_url = pulumi.Output.secret(
            pulumi.Output.format("postgres://postgres:{0}@{1}:5432/windmill?sslmode=disable", password, DB_ALIAS)
        )

        self.postgres = docker.Container(
            f"{name}-db",
            name=f"{prefix}-db",
            image=self.postgres_image.image_id,
            envs=pulumi.Output.secret(
                pulumi.Output.all(password).apply(lambda v: [f"POSTGRES_PASSWORD={v[0]}", "POSTGRES_DB=windmill"])
            ),
            command=["postgres", "-c", f"max_connections={args.postgres.max_connections}"],
            shm_size=args.postgres.shm_size_mb,
            volumes=[
                docker.ContainerVolumeArgs(volume_name=self.db_volume.name, container_path=args.postgres.data_path)
            ],
            networks_advanced=[self._network([DB_ALIAS])],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD-SHELL", "pg_isready -U postgres -d windmill"],
                interval="10s",
                timeout="5s",
                retries=5,
                start_period="30s",
            ),
            # Servers and workers are created only once Postgres is healthy.
            wait=True,
            wait_timeout=180,
            # Give Postgres time for a clean shutdown instead of a crash recovery on next start.
            destroy_grace_seconds=60,
            labels=self._labels("db"),
            **self._common(),
            opts=child,
        )

        # A fresh instance has no API token yet. Windmill accepts SUPERADMIN_SECRET as the bearer of
        # a virtual superadmin (windmill-api.md §2.2), so one `pulumi up` can create the instance and
        # its workspaces; an operator's own windmillToken takes precedence when set.
        self.superadmin_secret = (
            random.RandomPassword(
                f"{name}-superadmin-secret", length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            if args.bootstrap_token
            else None
        )
        self.bootstrap_token: pulumi.Output[str] | None = (
            pulumi.Output.secret(self.superadmin_secret.result) if self.superadmin_secret is not None else None
        )
        bootstrap_env = (
            self.bootstrap_token.apply(lambda t: [f"SUPERADMIN_SECRET={t}"])
            if self.bootstrap_token is not None
            else []
        )

        self.servers: list[docker.Container] = []
        for index in range(args.server.replicas):
            envs = pulumi.Output.secret(
                pulumi.Output.all(self.database_url, bootstrap_env).apply(
                    lambda v: [f"DATABASE_URL={v[0]}", "MODE=server", f"BASE_URL={args.base_url}", *v[1]]
                )
            )
            ports = None
            if not args.caddy.enabled and args.server.port is not None:
                ports = [
                    docker.ContainerPortArgs(
                        internal=SERVER_PORT, external=args.server.port, ip=args.server.bind_address
                    )
                ]
            self.servers.append(
                docker.Container(
                    f"{name}-server-{index}",
                    name=f"{prefix}-server-{index}",
                    image=self.windmill_image.image_id,
                    envs=envs,
                    ports=ports,
                    volumes=[
                        docker.ContainerVolumeArgs(volume_name=self.logs_volume.name, container_path=WORKER_LOGS_PATH)
                    ],
                    networks_advanced=[self._network([SERVER_ALIAS, _server_alias(index)])],
                    healthcheck=self._windmill_healthcheck(start_period="60s"),
                    # The first start runs the migrations; the readiness gate and the workers wait.
                    wait=True,
                    wait_timeout=args.server.wait_timeout_seconds,
                    destroy_grace_seconds=30,
                    labels=self._labels("server"),
                    **self._common(),
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.postgres])),
                )
            )

        self.workers: dict[str, list[docker.Container]] = {}
        for group in args.worker_groups:
            self.workers[group.name] = [self._worker(name, group, index, child) for index in range(group.replicas)]

        self.extra: docker.Container | None = None
        if args.extra.enabled and self.extra_image is not None:
            self.extra = docker.Container(
                f"{name}-extra",
                name=f"{prefix}-extra",
                image=self.extra_image.image_id,
                envs=[
                    "ENABLE_LSP=true",
                    # Multiplayer is EE-only and the debugger runs unsigned code when enabled
                    # without request signing; neither is on unless added deliberately.
                    "ENABLE_MULTIPLAYER=false",
                    "ENABLE_DEBUGGER=false",
                    "ENABLE_NSJAIL=false",
                    f"WINDMILL_BASE_URL={args.internal_url}",
                ],
                volumes=[docker.ContainerVolumeArgs(volume_name=self.lsp_volume.name, container_path="/pyls/.cache")],
                networks_advanced=[self._network([EXTRA_ALIAS])],
                healthcheck=docker.ContainerHealthcheckArgs(
                    tests=["CMD", "bash", "-c", f"echo > /dev/tcp/127.0.0.1/{EXTRA_LSP_PORT}"],
                    interval="30s",
                    timeout="5s",
                    retries=3,
                    start_period="30s",
                ),
                labels=self._labels("extra"),
                **self._common(),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=self.servers)),
            )

        self.caddyfile = render_caddyfile(args)
        self.caddy: docker.Container | None = None
        if args.caddy.enabled and self.caddy_image is not None:
            ports = [docker.ContainerPortArgs(internal=80, external=args.caddy.port, ip=args.caddy.bind_address)]
            if args.caddy.domain:
                ports.append(
                    docker.ContainerPortArgs(internal=443, external=args.caddy.https_port, ip=args.caddy.bind_address)
                )
            if args.caddy.smtp_port is not None:
                ports.append(
                    docker.ContainerPortArgs(internal=25, external=args.caddy.smtp_port, ip=args.caddy.bind_address)
                )
            self.caddy = docker.Container(
                f"{name}-caddy",
                name=f"{prefix}-caddy",
                image=self.caddy_image.image_id,
                ports=ports,
                uploads=[docker.ContainerUploadArgs(file="/etc/caddy/Caddyfile", content=self.caddyfile)],
                volumes=[docker.ContainerVolumeArgs(volume_name=self.caddy_volume.name, container_path="/data")],
                networks_advanced=[self._network(["caddy"])],
                healthcheck=docker.ContainerHealthcheckArgs(
                    # Caddy's admin API answers on localhost:2019 once the config is loaded.
                    tests=["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:2019/config/"],
                    interval="30s",
                    timeout="5s",
                    retries=3,
                    start_period="10s",
                ),
                labels=self._labels("caddy"),
                **self._common(),
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=[*self.servers, *([self.extra] if self.extra else [])])
                ),
            )

        containers: list[pulumi.Resource] = [self.postgres, *self.servers]
        for group_containers in self.workers.values():
            containers.extend(group_containers)
        if self.extra is not None:
            containers.append(self.extra)
        if self.caddy is not None:
            containers.append(self.caddy)
        self.containers = containers

        # No docker provider here: a dynamic resource must not inherit a foreign provider.
        self.readiness = ReadinessGate(
            f"{name}-ready",
            url=args.api_url,
            timeout_seconds=args.readiness_timeout_seconds,
            interval_seconds=args.readiness_interval_seconds,
            expected_version=args.version,
            opts=pulumi.ResourceOptions(parent=self, depends_on=containers),
        )

        self.public_url = pulumi.Output.from_input(args.base_url)
        self.internal_url = pulumi.Output.from_input(args.internal_url)
        self.api_url = self.readiness.url
        self.windmill_version = self.readiness.version
        self.register_outputs(
            {
                "public_url": self.public_url,
                "internal_url": self.internal_url,
                "api_url": self.api_url,
                "windmill_version": self.windmill_version,
                "database_url": self.database_url,
                "bootstrap_token": self.bootstrap_token,
            }
        )

    # ----------------------------------------------------------------------------------------

    def _worker(self, name: str, group: WorkerGroup, index: int, child: pulumi.ResourceOptions) -> docker.Container:
        args = self.args
        static_env: dict[str, str] = {
            "MODE": "worker",
            "WORKER_GROUP": group.name,
            # Workers serve their internal API on 127.0.0.1:$PORT (a random port when unset); a
            # fixed port is what lets the health check probe /api/version.
            "PORT": str(SERVER_PORT),
        }
        if group.native:
            static_env.update({"NATIVE_MODE": "true", "SLEEP_QUEUE": "200"})
        if group.privileged:
            # What upstream compose pairs with privileged workers: PID-namespace isolation of jobs.
            static_env["FAVOR_UNSHARE_PID"] = "true"
        static_env.update(dict(group.env))
        env_list = [f"{key}={value}" for key, value in static_env.items()]
        envs = pulumi.Output.secret(
            pulumi.Output.all(self.database_url).apply(lambda v: [f"DATABASE_URL={v[0]}", *env_list])
        )
        volumes = [docker.ContainerVolumeArgs(volume_name=self.logs_volume.name, container_path=WORKER_LOGS_PATH)]
        if not group.native:
            volumes.insert(
                0, docker.ContainerVolumeArgs(volume_name=self.cache_volume.name, container_path=WORKER_CACHE_PATH)
            )
        if group.mount_docker_socket:
            # Root-equivalent access to the Docker host for every job in this group (docs/docker-stack.md).
            volumes.append(
                docker.ContainerVolumeArgs(host_path="/var/run/docker.sock", container_path="/var/run/docker.sock")
            )
        return docker.Container(
            f"{name}-worker-{group.name}-{index}",
            name=f"{args.name_prefix}-worker-{group.name}-{index}",
            image=self.windmill_image.image_id,
            envs=envs,
            memory=group.memory_mb,
            cpus=group.cpus,
            privileged=group.privileged,
            volumes=volumes,
            networks_advanced=[self._network([])],
            healthcheck=self._windmill_healthcheck(start_period="60s"),
            # Running jobs get a minute to finish when a worker is replaced (e.g. an upgrade).
            destroy_grace_seconds=60,
            labels=self._labels(f"worker-{group.name}"),
            **self._common(),
            # Workers wait for the migrations the server runs, so start them after it is healthy.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.postgres, *self.servers])),
        )

    def _windmill_healthcheck(self, start_period: str) -> docker.ContainerHealthcheckArgs:
        # The upstream compose file has none; Windmill's own integration tests probe this endpoint.
        return docker.ContainerHealthcheckArgs(
            tests=["CMD", "curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{SERVER_PORT}/api/version"],
            interval="10s",
            timeout="5s",
            retries=5,
            start_period=start_period,
        )

    def _network(self, aliases: list[str]) -> docker.ContainerNetworksAdvancedArgs:
        return docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=aliases or None)

    def _common(self) -> dict[str, Any]:
        return {
            "restart": "unless-stopped",
            "log_driver": "json-file",
            "log_opts": {
                "max-size": self.args.log_max_size,
                "max-file": str(self.args.log_max_file),
                "compress": "true",
            },
        }

    def _labels(self, role: str) -> list[docker.ContainerLabelArgs]:
        return [
            docker.ContainerLabelArgs(label="org.homeops.stack", value=self.args.name_prefix),
            docker.ContainerLabelArgs(label="org.homeops.role", value=role),
        ]

    def _volume_labels(self, role: str) -> list[docker.VolumeLabelArgs]:
        return [
            docker.VolumeLabelArgs(label="org.homeops.stack", value=self.args.name_prefix),
            docker.VolumeLabelArgs(label="org.homeops.role", value=role),
        ]
