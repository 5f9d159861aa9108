"""The Docker-hosted Windmill instance: pinned images, nothing published beyond loopback unless
allowed, Postgres never published, its data volume protected and its password generated.

The Postgres container is recognised by what it runs, not by its name: a ``postgres`` command,
a ``pg_isready`` health check, ``POSTGRES_*`` variables, a mount at ``/var/lib/postgresql``, or an
image (its own ``image`` or the ``RemoteImage`` it was built from) named postgres, PostGIS or
TimescaleDB. Image ids are unknown until the image is pulled, which is why the other hints count.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .model import CONTAINER, RANDOM_PASSWORD, REMOTE_IMAGE, UNKNOWN, VOLUME, Item, Stack, item, strings, text

WINDMILL_IMAGE = re.compile(r"(?:[\w.-]+(?::\d+)?/)?windmill-?labs/(windmill(?:-ee|-extra)?)(?::([\w.-]+))?(@.+)?")
RELEASE_TAG = re.compile(r"v?\d+\.\d+\.\d+")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}")
POSTGRES_IMAGE = re.compile(r"(?:^|/)(postgres|postgis|timescaledb[\w-]*)(?::|@|$)")
POSTGRES_DATA = "/var/lib/postgresql"
WELL_KNOWN_PASSWORDS = frozenset({"postgres", "password", "changeme", "windmill", "admin", "secret"})
MIN_PASSWORD_LENGTH = 16


def _windmill_image_problem(reference: str) -> str | None:
    match = WINDMILL_IMAGE.fullmatch(reference)
    if match is None:
        return None
    repository, tag, digest = match.groups()
    if digest is not None:
        return None if DIGEST.fullmatch(digest) else f"{repository} has a malformed digest"
    if tag is None:
        return f"{repository} has no tag, which means :latest"
    if not RELEASE_TAG.fullmatch(tag):
        return f"{repository} uses the tag '{tag}', which is not a release (such as 1.819.0)"
    return None


def _windmill_image(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (REMOTE_IMAGE, CONTAINER):
        return
    entry = item(args)
    reference = text(entry.props.get("name" if args.resource_type == REMOTE_IMAGE else "image"))
    problem = _windmill_image_problem(reference) if reference else None
    if problem:
        report(
            f"{problem}. Pin Windmill images to a release (windmillVersion) or a digest, so every preview shows "
            f"exactly what runs and an upgrade is a reviewed change.",
            None,
        )


WINDMILL_IMAGE_PINNED = ResourceValidationPolicy(
    name="windmill-images-pinned",
    description="Windmill images (windmill, windmill-ee, windmill-extra) are pinned to a release version or a "
                "digest, never latest, main or untagged.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_windmill_image,
)


def is_postgres(container: Item, stack: Stack | None = None) -> bool:
    props = container.props
    image = text(props.get("image"))
    if image and POSTGRES_IMAGE.search(image.split("@")[0]):
        return True
    if stack is not None:
        for dep in stack.dependencies(container, "image"):
            name = text(dep.props.get("name"))
            if dep.resource_type == REMOTE_IMAGE and name and POSTGRES_IMAGE.search(name.split("@")[0]):
                return True
    command = strings(props.get("command"))
    if command[:1] == ["postgres"]:
        return True
    healthcheck = props.get("healthcheck")
    if isinstance(healthcheck, dict) and any("pg_isready" in t for t in strings(healthcheck.get("tests"))):
        return True
    if any(env.startswith("POSTGRES_") for env in strings(props.get("envs"))):
        return True
    return any(str(mount.get("containerPath", "")).startswith(POSTGRES_DATA)
               for mount in _mounts(container))


def _mounts(container: Item) -> list[dict[str, Any]]:
    volumes = container.props.get("volumes")
    return [v for v in volumes if isinstance(v, dict)] if isinstance(volumes, list) else []


def _postgres_not_published(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for container in stack.of_type(CONTAINER):
        if not is_postgres(container, stack):
            continue
        ports = container.props.get("ports")
        if isinstance(ports, list) and ports and not _remote_access(container, ports):
            report(
                f"Postgres container {container.name} publishes {len(ports)} port(s) on the Docker host. Windmill "
                f"reaches its database over the stack's private network; remove the ports (worker groups on other "
                f"Docker hosts: publish only on a private address, with ssl=on and a pg_hba file, as "
                f"windmillStack.postgres.remoteAccess does).",
                container.urn,
            )
        if container.props.get("networkMode") == "host":
            report(
                f"Postgres container {container.name} runs in the host's network, so it listens on every address "
                f"of the host. Attach it to the stack's private network instead.",
                container.urn,
            )


# Where remote worker groups may reach Postgres (components/config/remote_workers.py): RFC 1918, IPv6
# unique local and the 100.64/10 range of overlays; never loopback, any-address or public.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10",
))


def _remote_access(container: Item, ports: list[Any]) -> bool:
    """Postgres published for remote workers: every port on a private address, TLS on, its own pg_hba."""
    command = strings(container.props.get("command"))
    if "ssl=on" not in command or not any(c.startswith("hba_file=") for c in command):
        return False
    for port in ports:
        address = port.get("ip") if isinstance(port, dict) else None
        try:
            parsed = ipaddress.ip_address(address) if isinstance(address, str) else None
        except ValueError:
            parsed = None
        if parsed is None or not any(parsed in n for n in PRIVATE_NETWORKS if n.version == parsed.version):
            return False
    return True


POSTGRES_NOT_PUBLISHED = StackValidationPolicy(
    name="postgres-never-published",
    description="The Postgres container publishes no port on the Docker host (except, for remote worker groups, on a "
                "private address with TLS) and does not use the host network.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_postgres_not_published,
)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def _loopback(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CONTAINER:
        return
    entry = item(args)
    allowed = {str(a) for a in (args.get_config() or {}).get("allowedBindAddresses") or []}
    ports = entry.props.get("ports")
    for port in ports if isinstance(ports, list) else []:
        if not isinstance(port, dict):
            continue
        address = port.get("ip", "0.0.0.0")  # noqa: S104 - Docker's default when no address is given
        if address is UNKNOWN or not isinstance(address, str):
            continue
        if not _is_loopback(address) and address not in allowed:
            report(
                f"Container {entry.name} publishes port {port.get('external', '?')} on {address}, not on loopback. "
                f"Bind it to 127.0.0.1 (reach it through an SSH tunnel), or allow {address} in this policy's "
                f"allowedBindAddresses.",
                None,
            )
    if entry.props.get("networkMode") == "host" and "host" not in allowed:
        report(f"Container {entry.name} uses the host network, so it listens on every address of the host.", None)


LOOPBACK = ResourceValidationPolicy(
    name="published-ports-on-loopback",
    description="Containers (the proxy in particular) publish ports on a loopback address only, unless the address "
                "is listed in allowedBindAddresses.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_loopback,
    config_schema=PolicyConfigSchema(
        properties={"allowedBindAddresses": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
)


def _data_volumes(stack: Stack, container: Item) -> tuple[list[Item], bool]:
    """The stack's volumes mounted at the Postgres data path, and whether anything is mounted there."""
    mounted, found = False, []
    volumes = {text(v.props.get("name")): v for v in stack.of_type(VOLUME)}
    dependencies = [d for d in stack.dependencies(container, "volumes") if d.resource_type == VOLUME]
    for mount in _mounts(container):
        path = mount.get("containerPath")
        if not (isinstance(path, str) and path.startswith(POSTGRES_DATA)):
            continue
        mounted = True
        name = mount.get("volumeName")
        if isinstance(name, str) and name in volumes:
            found.append(volumes[name])
        elif name is UNKNOWN and len(dependencies) == 1:
            found.append(dependencies[0])
    return found, mounted


def _data_protected(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for container in stack.of_type(CONTAINER):
        if not is_postgres(container, stack):
            continue
        volumes, mounted = _data_volumes(stack, container)
        if not mounted:
            report(
                f"Postgres container {container.name} keeps its data in the container itself, which is lost "
                f"whenever the container is replaced. Mount a volume at {POSTGRES_DATA}.",
                container.urn,
            )
        for volume in volumes:
            if not volume.protect:
                report(
                    f"Docker volume {volume.label} holds Windmill's database but is not protected: `pulumi destroy` "
                    f"or a replacement would delete it. Set protect (and retain_on_delete) on it.",
                    volume.urn,
                )


DATA_PROTECTED = StackValidationPolicy(
    name="postgres-data-volume-protected",
    description="Postgres keeps its data in a volume, and a volume the stack declares for it is protected.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_data_protected,
)


def _password_sources(stack: Stack, container: Item) -> list[Item]:
    return [d for d in stack.dependencies(container, "envs") if d.resource_type == RANDOM_PASSWORD]


def _password_generated(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for container in stack.of_type(CONTAINER):
        if not is_postgres(container, stack):
            continue
        envs = container.props.get("envs")
        settings = dict(e.split("=", 1) for e in strings(envs) if "=" in e) if isinstance(envs, list) else {}
        problems = []
        if settings.get("POSTGRES_HOST_AUTH_METHOD") == "trust":
            problems.append("POSTGRES_HOST_AUTH_METHOD=trust lets anyone on its network in without a password")
        password = settings.get("POSTGRES_PASSWORD")
        if password is not None and (password.lower() in WELL_KNOWN_PASSWORDS or len(password) < MIN_PASSWORD_LENGTH):
            problems.append(f"POSTGRES_PASSWORD is a well-known or short value (under {MIN_PASSWORD_LENGTH} "
                            f"characters)")
        if not _password_sources(stack, container) and "POSTGRES_PASSWORD_FILE" not in settings:
            problems.append("its password is not generated by the stack (no RandomPassword feeds its environment), "
                            "so it is written somewhere in plain text")
        for problem in problems:
            report(f"Postgres container {container.name}: {problem}.", container.urn)


PASSWORD_GENERATED = StackValidationPolicy(
    name="postgres-password-generated",
    description="The Postgres password is generated by the stack (random.RandomPassword, a secret), never a literal "
                "or a well-known value, and password authentication stays on.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_password_generated,
)


def _password_protected(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for container in stack.of_type(CONTAINER):
        if not is_postgres(container, stack):
            continue
        for password in _password_sources(stack, container):
            if not password.protect:
                report(
                    f"RandomPassword {password.name} is the password of the Postgres data volume but is not "
                    f"protected: if it were ever replaced, the database (kept in its volume) would still expect "
                    f"the old password and Windmill could no longer connect. Set protect on it.",
                    password.urn,
                )


PASSWORD_PROTECTED = StackValidationPolicy(
    name="postgres-password-protected",
    description="The generated Postgres password is protected, like the data volume it unlocks.",
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_password_protected,
)

POLICIES = (WINDMILL_IMAGE_PINNED, POSTGRES_NOT_PUBLISHED, LOOPBACK, DATA_PROTECTED, PASSWORD_GENERATED,
            PASSWORD_PROTECTED)
