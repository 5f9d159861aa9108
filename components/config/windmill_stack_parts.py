"""The parts of the Docker-hosted stack: Postgres, servers, worker groups, windmill-extra and Caddy.

Each part has typed settings and a parser that records every problem of its section (with its key)
in the shared collector and returns None when the section had any, so the checks that combine
parts only run on valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .docker_values import (
    DEFAULT_CADDY_IMAGE,
    parse_bind_address,
    parse_cpus,
    parse_domain,
    parse_env,
    parse_image,
    parse_memory_mb,
    parse_port,
    parse_postgres_version,
)
from .errors import ConfigError, Problems
from .values import Section, check_str

T = TypeVar("T")

DEFAULT_POSTGRES_VERSION = "16"
EXTRA_IMAGE_REPOSITORY = "ghcr.io/windmill-labs/windmill-extra"  # tagged like Windmill releases

# Windmill's Postgres sizing rule (docs/pulumi-notes.md §23.4).
CONNECTIONS_PER_WORKER = 5
CONNECTIONS_PER_SERVER = 50
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100

_GROUP_NAME = r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?"
HOST_NAME = r"[a-z][a-z0-9-]{0,29}"  # a remoteHosts entry's name
_GROUP_DEFAULTS: dict[str, dict[str, Any]] = {
    # Upstream compose: 3 default workers and 1 native worker, 2 GB each.
    "default": {"replicas": 3, "memory": "2g"},
    "native": {"replicas": 1, "memory": "2g"},
}
_GROUP_KEYS = (
    "name", "replicas", "memory", "cpus", "privileged", "mountDockerSocket", "env", "tags", "host", "autoscaling",
)
# Windmill's worker tags (WORKER_TAGS, comma separated): the queues a group listens to.
_TAG = r"[A-Za-z0-9][A-Za-z0-9_.()$-]{0,49}"


def required_connections(worker_replicas: int, server_replicas: int) -> int:
    """Windmill's rule: at least 5 connections per worker replica and 50 per server replica."""
    return CONNECTIONS_PER_WORKER * worker_replicas + CONNECTIONS_PER_SERVER * server_replicas


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
    # WORKER_TAGS; empty: Windmill's defaults for the group (every language, or the native ones).
    tags: tuple[str, ...] = ()
    # Docker runtime: the remoteHosts entry the group runs on; None: the stack's own Docker host.
    host: str | None = None
    # Kubernetes runtime, Enterprise: Windmill's native autoscaler owns the replica count.
    autoscaling: bool = False

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


def _part(
    parent: Section, name: str, allowed: Sequence[str], problems: Problems, build: Callable[[Section, Problems], T]
) -> T | None:
    """Parse one part: every field's problem is recorded; None when the part had any."""
    with problems.scope() as found:
        section = found.check(lambda: parent.section(name))
        if section is None:
            return None
        found.check(lambda: section.reject_unknown(allowed))
        part = build(section, found)
    return None if found else part


def parse_server(root: Section, problems: Problems) -> ServerSettings | None:
    def build(s: Section, check: Problems) -> ServerSettings:
        return ServerSettings(
            replicas=check.check(lambda: s.int("replicas", 1, minimum=1, maximum=16), 1),
            wait_timeout_seconds=check.check(lambda: s.int("waitTimeoutSeconds", 300, minimum=30, maximum=3600), 300),
            bind_address=check.check(lambda: s.parse("bindAddress", parse_bind_address, "127.0.0.1"), "127.0.0.1"),
            port=check.check(lambda: s.parse("port", parse_port, None)),
        )

    return _part(root, "server", ("replicas", "waitTimeoutSeconds", "bindAddress", "port"), problems, build)


def parse_postgres(
    root: Section, problems: Problems, groups: Sequence[WorkerGroup], server: ServerSettings | None, name_prefix: str
) -> PostgresSettings | None:
    workers = sum(group.replicas for group in groups)
    servers = server.replicas if server else 1
    needed = required_connections(workers, servers)

    def max_connections(s: Section) -> int:
        value = s.int("maxConnections", None, minimum=1, maximum=10000)
        if value is None:
            return max(POSTGRES_DEFAULT_MAX_CONNECTIONS, needed)
        if value < needed:
            raise ConfigError(
                s.key("maxConnections"),
                f"must be at least {needed} for this fleet ({CONNECTIONS_PER_WORKER} x {workers} worker replicas + "
                f"{CONNECTIONS_PER_SERVER} x {servers} server replicas), got {value}",
            )
        return value

    def build(s: Section, check: Problems) -> PostgresSettings:
        default_version = (DEFAULT_POSTGRES_VERSION, int(DEFAULT_POSTGRES_VERSION))
        version, major = check.check(lambda: s.parse("version", parse_postgres_version, default_version),
                                     default_version)
        shm = check.check(lambda: s.parse("shmSize", lambda k, v: parse_memory_mb(k, v, minimum_mb=64), None))
        return PostgresSettings(
            version=version, major=major, max_connections=check.check(lambda: max_connections(s), 0),
            shm_size_mb=shm or 1024,
            # A new name is how a Postgres major upgrade gets an empty volume (docs/docker-stack.md).
            data_volume=check.check(lambda: s.str(
                "dataVolume", f"{name_prefix}_db_data", pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}",
                pattern_help="must be a Docker volume name",
            ), ""),
        )

    # remoteAccess is parsed with the remote hosts (components/config/remote_workers.py).
    return _part(root, "postgres", ("version", "maxConnections", "shmSize", "dataVolume", "remoteAccess"),
                 problems, build)


def parse_extra(root: Section, problems: Problems, version: str) -> ExtraSettings | None:
    def build(s: Section, check: Problems) -> ExtraSettings:
        return ExtraSettings(
            enabled=check.check(lambda: s.bool("enabled", True), True),
            # windmill-extra is released with Windmill; keep them in step unless told otherwise.
            image=check.check(lambda: s.parse("image", parse_image, f"{EXTRA_IMAGE_REPOSITORY}:{version}"), ""),
        )

    return _part(root, "extra", ("enabled", "image"), problems, build)


def parse_caddy(root: Section, problems: Problems) -> CaddySettings | None:
    def build(s: Section, check: Problems) -> CaddySettings:
        caddy = CaddySettings(
            enabled=check.check(lambda: s.bool("enabled", True), True),
            image=check.check(lambda: s.parse("image", parse_image, DEFAULT_CADDY_IMAGE), ""),
            bind_address=check.check(lambda: s.parse("bindAddress", parse_bind_address, "127.0.0.1"), "127.0.0.1"),
            port=check.check(lambda: s.parse("port", parse_port, 80), 80),
            https_port=check.check(lambda: s.parse("httpsPort", parse_port, 443), 443),
            domain=check.check(lambda: s.parse("domain", parse_domain, None)),
            smtp_port=check.check(lambda: s.parse("smtpPort", parse_port, None)),
        )
        if not check:
            _check_caddy_ports(s, caddy, check)
        return caddy

    return _part(root, "caddy", ("enabled", "image", "bindAddress", "port", "httpsPort", "domain", "smtpPort"),
                 problems, build)


def _check_caddy_ports(section: Section, caddy: CaddySettings, problems: Problems) -> None:
    published = {"port": caddy.port}
    if caddy.domain:
        published["httpsPort"] = caddy.https_port
    if caddy.smtp_port is not None:
        published["smtpPort"] = caddy.smtp_port
    used: dict[int, str] = {}
    for key, port in published.items():
        if port in used:
            problems.add(section.key(key), f"port {port} is already used by caddy.{used[port]}")
            return
        used[port] = key


def _parse_group(section: Section, problems: Problems) -> WorkerGroup | None:
    with problems.scope() as found:
        check = found.check
        check(lambda: section.reject_unknown(_GROUP_KEYS))
        name = check(lambda: section.str(
            "name", pattern=_GROUP_NAME, pattern_help="must be a lowercase worker group name such as gpu or reports"
        ))
        defaults = _GROUP_DEFAULTS.get(name or "", {"replicas": 1, "memory": "2g"})
        memory = check(lambda: section.parse("memory", lambda k, v: parse_memory_mb(k, v, minimum_mb=256), None))
        group = WorkerGroup(
            name=name or "",
            replicas=check(lambda: section.int("replicas", defaults["replicas"], minimum=0, maximum=64), 0),
            memory_mb=memory if memory is not None else parse_memory_mb(section.key("memory"), defaults["memory"]),
            cpus=check(lambda: section.parse("cpus", parse_cpus, None)),
            privileged=check(lambda: section.bool("privileged", False), False),
            mount_docker_socket=check(lambda: section.bool("mountDockerSocket", False), False),
            env=check(lambda: section.parse("env", parse_env, ()), ()),
            tags=check(lambda: _tags(section), ()),
            host=check(lambda: section.str(
                "host", None, pattern=HOST_NAME, pattern_help="must name an entry of remoteHosts"), None),
            autoscaling=check(lambda: section.bool("autoscaling", False), False),
        )
    return None if found else group


def _tags(section: Section) -> tuple[str, ...]:
    items = section.list("tags", [])
    tags = tuple(check_str(f"{section.key('tags')}[{i}]", item, pattern=_TAG,
                           pattern_help="must be a Windmill worker tag such as media or python3")
                 for i, item in enumerate(items))
    if len(set(tags)) != len(tags):
        raise ConfigError(section.key("tags"), "lists a tag more than once")
    return tags


def parse_worker_groups(root: Section, problems: Problems) -> tuple[WorkerGroup, ...] | None:
    """The configured groups, plus ``default`` and ``native`` unless configured (``replicas: 0``
    turns one off); None when any group had a problem."""
    groups: list[WorkerGroup] = []
    seen: dict[str, str] = {}
    with problems.scope() as found:
        for section in found.check(lambda: root.sections("workerGroups"), []):
            group = _parse_group(section, found)
            if group is None:
                continue
            if group.name in seen:
                found.add(
                    section.key("name"), f"worker group {group.name!r} is defined twice (first at {seen[group.name]})"
                )
                continue
            seen[group.name] = section.path
            groups.append(group)
    if found:
        return None
    for name in ("native", "default"):
        if name not in seen:
            implicit = _parse_group(Section({"name": name}, f"{root.key('workerGroups')}<{name}>"), problems)
            assert implicit is not None  # the built-in defaults are valid
            groups.insert(0, implicit)
    return tuple(groups)
