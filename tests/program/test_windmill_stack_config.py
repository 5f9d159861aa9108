"""WindmillStack's config (``windmillStack``): the connection-count rule, bad input that fails before
any resource exists naming its key, and the defaults."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.errors import ConfigError, ConfigErrors
from components.config.schema import DEFAULT_WINDMILL_VERSION
from components.config.windmill_stack import WindmillStackArgs
from components.config.windmill_stack_parts import required_connections

PREFIX = "homeops-windmill:windmillStack"


def test_connection_rule_default_grows_with_the_fleet():
    assert required_connections(4, 1) == 70
    small = WindmillStackArgs.from_config({})
    assert small.postgres.max_connections == 100  # Postgres' own default covers 5x4 + 50
    big = WindmillStackArgs.from_config(
        {"server": {"replicas": 2}, "workerGroups": [{"name": "default", "replicas": 30}]}
    )
    assert big.required_connections == 5 * 31 + 50 * 2
    assert big.postgres.max_connections == 255


def only_problem(config: dict[str, Any], key_prefix: str = PREFIX) -> ConfigError:
    """The one problem ``config`` has (a bad value must not drag in unrelated problems)."""
    with pytest.raises(ConfigErrors) as raised:
        WindmillStackArgs.from_config(config, key_prefix)
    [error] = raised.value.errors
    return error


def test_connection_rule_refuses_too_few_connections():
    error = only_problem({"postgres": {"maxConnections": 69}})
    assert error.key == f"{PREFIX}.postgres.maxConnections"
    assert "at least 70" in str(error)
    assert WindmillStackArgs.from_config({"postgres": {"maxConnections": 70}}).postgres.max_connections == 70


# --------------------------------------------------------------------------------------------
# Bad input fails before any resource exists, naming the key
# --------------------------------------------------------------------------------------------

BAD_INPUTS = [
    ({"workerGroups": [{"name": "default"}, {"name": "gpu", "replicas": -1}]}, "workerGroups[1].replicas", ">= 0"),
    ({"workerGroups": [{"name": "gpu", "replicas": "many"}]}, "workerGroups[0].replicas", "integer"),
    ({"server": {"replicas": 0}}, "server.replicas", ">= 1"),
    ({"workerGroups": [{"name": "gpu", "memory": "lots"}]}, "workerGroups[0].memory", "2g"),
    ({"workerGroups": [{"name": "gpu", "memory": "100m"}]}, "workerGroups[0].memory", "at least 256m"),
    ({"workerGroups": [{"name": "gpu", "memory": 2048}]}, "workerGroups[0].memory", "size"),
    ({"postgres": {"shmSize": "1 terabyte"}}, "postgres.shmSize", "size"),
    ({"postgres": {"dataVolume": "../etc"}}, "postgres.dataVolume", "Docker volume name"),
    ({"version": "main"}, "version", "pin"),
    ({"version": "latest"}, "version", "pin"),
    ({"version": "1.646"}, "version", "full release"),
    ({"version": 1.5}, "version", "string"),
    ({"postgres": {"version": 13}}, "postgres.version", "14 or newer"),
    ({"postgres": {"version": "sixteen"}}, "postgres.version", "tag"),
    ({"caddy": {"port": 0}}, "caddy.port", ">= 1"),
    ({"caddy": {"port": 70000}}, "caddy.port", "<= 65535"),
    ({"caddy": {"port": "http"}}, "caddy.port", "integer"),
    ({"caddy": {"smtpPort": 80}}, "caddy.smtpPort", "already used"),
    ({"caddy": {"bindAddress": "localhost"}}, "caddy.bindAddress", "IP address"),
    ({"caddy": {"image": "ghcr.io/windmill-labs/caddy-l4:latest"}}, "caddy.image", "moving tag"),
    ({"caddy": {"image": "ghcr.io/windmill-labs/caddy-l4"}}, "caddy.image", "pin a tag"),
    ({"extra": {"image": "ghcr.io/windmill-labs/windmill-extra:main"}}, "extra.image", "moving tag"),
    ({"dockerHost": "tcp://10.0.0.2:2375"}, "dockerHost", "ssh://"),
    ({"dockerHost": "ssh://"}, "dockerHost", "ssh://user@host"),
    ({"dockerHost": "nas.home.arpa"}, "dockerHost", "ssh://user@host"),
    ({"dockerHost": "ssh://me@nas:99999"}, "dockerHost", "<= 65535"),
    ({"dockerHost": "ssh://me@nas"}, "apiUrl", "SSH tunnel"),
    (
        {"workerGroups": [{"name": "gpu"}, {"name": "reports"}, {"name": "gpu"}]},
        "workerGroups[2].name",
        "defined twice",
    ),
    ({"workerGroups": [{"name": "default"}, {"name": "default"}]}, "workerGroups[1].name", "defined twice"),
    ({"workerGroups": [{"name": "GPU"}]}, "workerGroups[0].name", "lowercase"),
    ({"workerGroups": [{"replicas": 1}]}, "workerGroups[0].name", "required"),
    (
        {"workerGroups": [{"name": "gpu", "env": {"DATABASE_URL": "x"}}]},
        "workerGroups[0].env.DATABASE_URL",
        "generated",
    ),
    ({"workerGroups": [{"name": "gpu", "env": {"lower": "x"}}]}, "workerGroups[0].env.lower", "UPPER_SNAKE"),
    ({"workerGroups": [{"name": "gpu", "cpus": 0}]}, "workerGroups[0].cpus", "> 0"),
    ({"workerGroups": [{"name": "gpu", "replicaz": 2}]}, "workerGroups[0].replicaz", "unknown key"),
    ({"edition": "enterprise"}, "edition", "one of ce, ee"),
    ({"baseUrl": "windmill.example.com"}, "baseUrl", "http(s) URL"),
    ({"caddy": {"domain": "wm.example.com"}, "baseUrl": "https://other.example.com"}, "baseUrl", "caddy.domain"),
    ({"caddy": {"domain": "not a domain"}}, "caddy.domain", "DNS name"),
    ({"caddy": {"enabled": False}}, "server.port", "required"),
    ({"server": {"port": 8000}}, "server.port", "caddy.enabled: false"),
    ({"logMaxSize": "20 MB"}, "logMaxSize", "json-file"),
    ({"logMaxFile": 0}, "logMaxFile", ">= 1"),
    ({"readiness": {"timeoutSeconds": 1}}, "readiness.timeoutSeconds", ">= 5"),
    ({"enabled": "yes"}, "enabled", "true or false"),
    ({"unknownThing": 1}, "unknownThing", "unknown key"),
    ({"workerGroups": {"name": "default"}}, "workerGroups", "list"),
]


@pytest.mark.parametrize(("config", "key", "fragment"), BAD_INPUTS, ids=[f"{k}:{f}" for _, k, f in BAD_INPUTS])
def test_bad_input_names_the_key(config, key, fragment):
    error = only_problem(config)
    assert error.key == f"{PREFIX}.{key}"
    assert str(error).startswith(f"{PREFIX}.{key}: ")
    assert fragment in error.problem


def test_independent_problems_are_reported_together():
    with pytest.raises(ConfigErrors) as raised:
        WindmillStackArgs.from_config({"version": "latest", "caddy": {"port": -1}, "logMaxFile": 0})
    keys = {e.key for e in raised.value.errors}
    assert keys == {f"{PREFIX}.version", f"{PREFIX}.caddy.port", f"{PREFIX}.logMaxFile"}


def test_custom_key_prefix_is_used_in_messages():
    assert only_problem({"version": "main"}, key_prefix="other:stack").key == "other:stack.version"


def test_defaults_when_config_is_missing():
    args = WindmillStackArgs.from_config(None)
    assert args.enabled is False
    assert args.docker_host == "unix:///var/run/docker.sock"
    assert args.version == DEFAULT_WINDMILL_VERSION and args.edition == "ce"
    assert [(g.name, g.replicas, g.memory_mb, g.privileged) for g in args.worker_groups] == [
        ("default", 3, 2048, False),
        ("native", 1, 2048, False),
    ]
    assert args.caddy.bind_address == "127.0.0.1" and args.caddy.port == 80
    assert (args.base_url, args.api_url) == ("http://localhost", "http://127.0.0.1")
    assert args.postgres.version == "16" and args.postgres.shm_size_mb == 1024
    assert (args.log_max_size, args.log_max_file) == ("20m", 10)


@pytest.mark.parametrize(
    ("text", "megabytes"), [("2g", 2048), ("2048m", 2048), ("1.5G", 1536), ("512MB", 512), ("4gb", 4096)]
)
def test_memory_sizes(text, megabytes):
    args = WindmillStackArgs.from_config({"workerGroups": [{"name": "gpu", "memory": text}]})
    assert next(g for g in args.worker_groups if g.name == "gpu").memory_mb == megabytes


def test_version_with_v_prefix_is_normalised():
    assert WindmillStackArgs.from_config({"version": "v1.819.0"}).windmill_image.endswith(":1.819.0")
