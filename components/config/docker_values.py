"""The values of the Docker-hosted stack: pinned images and versions, sizes, ports, addresses, hosts.

Each ``parse_*`` function checks one value and raises a ConfigError naming its key. Images must be
pinned (``main`` / ``latest`` refused) so previews are stable and upgrades deliberate.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any

from components.windmill.rules import CREDENTIALS_IN_URL_RULE, has_credentials, redacted_url

from .errors import ConfigError
from .schema import DEFAULT_WINDMILL_VERSION
from .values import Section, check_int, check_str

# The caddy-l4 build Windmill's own compatibility tests use as their reference image.
DEFAULT_CADDY_IMAGE = "ghcr.io/windmill-labs/caddy-l4:sha-989c9e6"
MIN_POSTGRES_MAJOR = 14  # the server refuses older ones (docs/windmill-api.md §11.4)
MOVING_TAGS = frozenset({"latest", "main", "master", "nightly", "edge", "dev"})
RESERVED_WORKER_ENV = {
    "DATABASE_URL": "it is built from the generated Postgres password",
    "MODE": "workers always run with MODE=worker",
    "WORKER_GROUP": "it is the group's name",
    "PORT": "it is the port the worker health check probes",
    "WORKER_TAGS": "set the group's tags instead (workerGroups[].tags)",
    "NATIVE_MODE": "it follows the group's kind (the group named native)",
}

HOSTNAME = (
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_ENV_NAME = r"[A-Z_][A-Z0-9_]*"


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
    match = re.fullmatch(rf"ssh://(?:([a-z_][a-z0-9_.-]*)@)?({HOSTNAME}|\[[0-9a-fA-F:]+\])(?::(\d+))?", text)
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
        key, value, pattern=HOSTNAME, pattern_help="must be a DNS name such as windmill.example.com"
    ).lower()


def parse_url(key: str, value: Any) -> str:
    if has_credentials(value):  # before any check that would echo the URL
        raise ConfigError(key, f"{CREDENTIALS_IN_URL_RULE}; got {redacted_url(value)!r}")
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
