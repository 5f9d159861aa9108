"""Worker groups on other Docker hosts: ``windmillStack.remoteHosts`` and ``postgres.remoteAccess``.

Windmill is one Postgres job queue: a worker anywhere that reaches the database and runs the same
release is a worker of the instance. A group with ``host: <name>`` runs on that remote Docker host
(its own Docker provider, over SSH), and its workers reach the central Postgres at
``postgres.remoteAccess.address``: a private address of the central host on which Postgres is then
published, with TLS required and verified, as a dedicated login role per remote host (never the
superuser). The reference is docs/docker-stack.md (*Worker groups on other Docker hosts*).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from .docker_values import parse_docker_host, parse_port
from .errors import ConfigError, Problems, config_set_command
from .values import Section, check_str
from .windmill_stack_parts import HOST_NAME, WorkerGroup

_HOST_KEYS = ("name", "dockerHost", "sshOpts", "drainSeconds")
_ACCESS_KEYS = ("address", "port", "sslMode", "tlsCertificate", "tlsPrivateKey", "tlsCa")
SSL_MODES = ("verify-full", "verify-ca")
# How long removing a host (or replacing a worker there) lets running jobs finish: Windmill's own chart
# gives workers a termination grace period so a running job can finish before the worker stops
# (windmill-helm-charts, charts/windmill/values.yaml at windmill-4.0.246, terminationGracePeriodSeconds).
DEFAULT_DRAIN_SECONDS = 600
# Where a private address may be: RFC 1918, IPv6 unique local, and the shared range overlays such as
# Tailscale use. Python's is_private also counts documentation and benchmark ranges, so it is not used.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10",
))


@dataclass(frozen=True)
class RemoteHost:
    """A Docker host that runs worker groups of the instance (``remoteHosts[]``)."""

    name: str
    docker_host: str
    ssh_opts: tuple[str, ...]
    drain_seconds: int

    @property
    def database_role(self) -> str:
        """The login role its workers use: one per host, so a host can be cut off on its own."""
        return "windmill_remote_" + self.name.replace("-", "_")


@dataclass(frozen=True)
class RemoteDatabaseAccess:
    """Where remote workers reach the central Postgres, and the TLS it serves there.

    The three TLS values are names in ``homeops-windmill:secrets`` (PEM text), never the PEM itself.
    """

    address: str
    port: int
    ssl_mode: str
    tls_certificate: str
    tls_private_key: str
    tls_ca: str


def parse_remote_hosts(
    root: Section, problems: Problems, central_docker_host: str
) -> tuple[RemoteHost, ...] | None:
    hosts: list[RemoteHost] = []
    with problems.scope() as found:
        for section in found.check(lambda: root.sections("remoteHosts"), []):
            host = _parse_host(section, found, central_docker_host)
            if host is None:
                continue
            if any(h.name == host.name for h in hosts):
                found.add(section.key("name"), f"remote host {host.name!r} is defined twice")
            elif any(h.docker_host == host.docker_host for h in hosts):
                found.add(section.key("dockerHost"), f"{host.docker_host} is already another remote host")
            else:
                hosts.append(host)
    return None if found else tuple(hosts)


def _parse_host(section: Section, problems: Problems, central_docker_host: str) -> RemoteHost | None:
    with problems.scope() as found:
        check = found.check
        check(lambda: section.reject_unknown(_HOST_KEYS))
        name = check(lambda: section.str("name", pattern=HOST_NAME,
                                         pattern_help="must be lowercase letters, digits and dashes (e.g. nas)"), "")
        docker_host = check(lambda: section.parse("dockerHost", parse_docker_host), "")
        if docker_host and not docker_host.startswith("ssh://"):
            found.add(section.key("dockerHost"), f"must be ssh://user@host of another machine, got {docker_host!r}")
        elif docker_host and docker_host == central_docker_host:
            found.add(section.key("dockerHost"), "is the stack's own dockerHost; leave host unset for local groups")
        host = RemoteHost(
            name=name,
            docker_host=docker_host,
            ssh_opts=check(lambda: tuple(
                check_str(f"{section.key('sshOpts')}[{i}]", v) for i, v in enumerate(section.list("sshOpts", []))
            ), ()),
            drain_seconds=check(lambda: section.int(
                "drainSeconds", DEFAULT_DRAIN_SECONDS, minimum=30, maximum=86400), DEFAULT_DRAIN_SECONDS),
        )
    return None if found else host


def parse_remote_access(root: Section, problems: Problems, secret_names: frozenset[str]) -> RemoteDatabaseAccess | None:
    """``postgres.remoteAccess``, or None when it is not set (or had problems, then recorded)."""
    postgres = problems.check(lambda: root.section("postgres"))
    if postgres is None or postgres.data.get("remoteAccess") is None:
        return None
    with problems.scope() as found:
        section = found.check(lambda: postgres.section("remoteAccess"))
        if section is None:
            return None
        check = found.check
        check(lambda: section.reject_unknown(_ACCESS_KEYS))

        def secret(name: str) -> str:
            value = check_str(section.key(name), section.data.get(name), pattern=r"[A-Za-z0-9_]+",
                              pattern_help="must name a value of homeops-windmill:secrets")
            if value not in secret_names:
                raise ConfigError(section.key(name), f"homeops-windmill:secrets.{value} is not set; run: "
                                  f"{config_set_command(f'secrets.{value}', f'< {value}.pem')}")
            return value

        access = RemoteDatabaseAccess(
            address=check(lambda: section.parse("address", parse_private_address), ""),
            port=check(lambda: section.parse("port", parse_port, 5432), 5432),
            ssl_mode=check(lambda: section.str("sslMode", "verify-full", choices=SSL_MODES), "verify-full"),
            tls_certificate=check(lambda: secret("tlsCertificate"), ""),
            tls_private_key=check(lambda: secret("tlsPrivateKey"), ""),
            tls_ca=check(lambda: secret("tlsCa"), ""),
        )
    return None if found else access


def parse_private_address(key: str, value: object) -> str:
    """A private (RFC 1918, ULA or CGNAT overlay) unicast address: never public, loopback or any."""
    text = check_str(key, value)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(key, f"must be an IP address of the central Docker host, got {text!r}") from None
    if address.is_unspecified or address.is_loopback or address.is_link_local or address.is_multicast:
        raise ConfigError(key, f"must be a private address that remote hosts can reach, got {text!r}")
    if not any(address in network for network in PRIVATE_NETWORKS if network.version == address.version):
        raise ConfigError(key, f"must be a private address (10/8, 172.16/12, 192.168/16, fc00::/7 or 100.64/10): "
                          f"Postgres is never published on a public interface, got {text!r}")
    return str(address)


def check_remote_groups(
    root: Section,
    problems: Problems,
    groups: Sequence[WorkerGroup],
    hosts: Sequence[RemoteHost],
    access: RemoteDatabaseAccess | None,
) -> None:
    """Every group's host exists, every host runs a group, and remote groups come with remoteAccess."""
    names = {host.name for host in hosts}
    used = set()
    for index, group in enumerate(groups):
        if group.host is None:
            continue
        used.add(group.host)
        if group.host not in names:
            problems.add(_group_key(root, groups, index, "host"),
                         f"names no remoteHosts entry ({', '.join(sorted(names)) or 'there are none'})")
    for index, host in enumerate(hosts):
        if host.name not in used:
            problems.add(f"{root.key('remoteHosts')}[{index}]",
                         f"runs no worker group; remove it, or give a group host: {host.name}")
    if used and access is None:
        problems.add(root.key("postgres.remoteAccess"),
                     "is required when a worker group runs on a remote host: the private address and TLS "
                     "certificate its workers reach Postgres with")
    if not used and access is not None:
        problems.add(root.key("postgres.remoteAccess"),
                     "publishes Postgres although no worker group runs on a remote host; remove it")


def _group_key(root: Section, groups: Sequence[WorkerGroup], index: int, name: str) -> str:
    # The implicit default/native groups are inserted first; configured ones keep their written index.
    written = [g for g in root.data.get("workerGroups") or [] if isinstance(g, dict)]
    position = next((i for i, g in enumerate(written) if g.get("name") == groups[index].name), index)
    return f"{root.key('workerGroups')}[{position}].{name}"


def database_url_params(access: RemoteDatabaseAccess, ca_path: str) -> str:
    """The query string of a remote worker's DATABASE_URL: TLS required and the server verified."""
    return f"sslmode={access.ssl_mode}&sslrootcert={ca_path}"
