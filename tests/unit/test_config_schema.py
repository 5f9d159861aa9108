"""Pulumi.yaml's config schema, the program's defaults, the stack files and the README agree.

The Pulumi CLI validates stack config against Pulumi.yaml before the program runs; these tests
apply the same rules (pulumi/pulumi pkg/workspace/config.go: a declared key without default must
be set, types must match, secret keys must be encrypted) so a drift fails here, not on a user's
machine.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.config.placeholders import ACCEPT_ENV
from components.config.schema import DEFAULT_WINDMILL_VERSION, DEFAULTS, PROJECT, SECRET_KEYS
from components.config.settings import load_settings
from components.windmill.rules import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS
from testkit.program import FINANCIAL_SECRETS, PLATFORM_SECRETS, load_stack_config

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILE = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SCHEMA: dict[str, dict[str, Any]] = PROJECT_FILE["config"]
STACKS = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


def test_project_file_runs_python_from_the_venv_on_a_local_backend() -> None:
    assert PROJECT_FILE["name"] == "homeops-windmill"
    assert PROJECT_FILE["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    assert PROJECT_FILE["backend"]["url"] == "file://~"


class RecordingConfig(pulumi.Config):
    """Stack config that remembers every key the program reads."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.read: set[str] = set()

    def full_key(self, key: str) -> str:  # every get*/require* goes through it
        self.read.add(key)
        return super().full_key(key)


@pytest.fixture(autouse=True)
def placeholders_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed stacks keep their example hosts; load_settings runs here as at pulumi up."""
    monkeypatch.setenv(ACCEPT_ENV, "1")


def keys_read_by_the_program(stack: str, secrets: dict[str, Any]) -> set[str]:
    values = {**load_stack_config(stack), **{f"{PROJECT}:{k}": v for k, v in secrets.items()}}
    secret_keys = [f"{PROJECT}:{k}" for k in secrets]
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()},
        secret_keys,
    )
    # Settings holds secret Outputs, which need an event loop (an earlier test may have closed its own);
    # the test runs in a loop of its own and puts back whatever was there.
    try:
        previous: asyncio.AbstractEventLoop | None = asyncio.get_event_loop()
    except RuntimeError:
        previous = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        config = RecordingConfig()
        load_settings(config)
        return config.read
    finally:
        pulumi.runtime.set_all_config({})
        asyncio.set_event_loop(previous)
        loop.close()


def test_the_program_reads_exactly_the_keys_the_schema_declares() -> None:
    read = keys_read_by_the_program("platform", PLATFORM_SECRETS) | keys_read_by_the_program(
        "financial", FINANCIAL_SECRETS
    )
    assert read == set(SCHEMA)


def test_schema_entries_are_complete_and_the_program_uses_their_defaults() -> None:
    assert PROJECT_FILE["name"] == PROJECT
    assert SCHEMA["windmillVersion"]["default"] == DEFAULT_WINDMILL_VERSION
    # The provider's own defaults, for a connection that does not say (components/windmill/rules.py).
    assert SCHEMA["windmillConnectTimeoutSeconds"]["default"] == DEFAULT_CONNECT_TIMEOUT_SECONDS
    assert SCHEMA["windmillReadTimeoutSeconds"]["default"] == DEFAULT_READ_TIMEOUT_SECONDS
    for key, entry in SCHEMA.items():
        assert entry["description"], key
        assert isinstance(entry["default"], TYPES[entry["type"]]), key
        assert entry["default"] == DEFAULTS[key], key
        # pkg/workspace/config.go (mergeConfig, validateStackConfigValue): a default is written into the
        # stack as a plain value and a `secret: true` key must then be encrypted, so no key may be both.
        assert not entry.get("secret"), f"{key}: an optional key declared secret fails every stack that omits it"
        if key in SECRET_KEYS:
            assert "--secret" in entry["description"], key


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_only_set_declared_keys_with_the_declared_types(stack: str) -> None:
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    for full_key, value in (document.get("config") or {}).items():
        namespace, _, key = full_key.partition(":")
        assert namespace == "homeops-windmill", f"{full_key}: only project keys are expected"
        assert key in SCHEMA, f"{full_key} is not declared in Pulumi.yaml"
        entry = SCHEMA[key]
        if key in SECRET_KEYS:
            assert _all_secure(value), f"{full_key} is secret and must be set with --secret"
        else:
            assert isinstance(value, TYPES[entry["type"]]), f"{full_key} must be {entry['type']}"


def _all_secure(value: Any) -> bool:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return True
    if isinstance(value, dict):
        return all(_all_secure(v) for v in value.values())
    return False


def test_stack_files_hold_no_plaintext_secret() -> None:
    for stack in STACKS:
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        document = yaml.safe_load(text)
        for key in SECRET_KEYS:
            value = (document.get("config") or {}).get(f"homeops-windmill:{key}")
            assert value is None or _all_secure(value), f"{stack}: {key}"


def readme_config_rows() -> dict[str, tuple[str, str]]:
    """``| `key` | type | default | secret | description |`` rows of the README's reference."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`([A-Za-z]+)`\s*\|\s*([a-z]+)\s*\|\s*`?([^|`]*)`?\s*\|\s*(yes|no)\s*\|", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3).strip(), match.group(4))
    return rows


def test_readme_configuration_reference_matches_the_schema() -> None:
    rows = readme_config_rows()
    assert set(rows) == set(SCHEMA), "README '## Configuration reference' must list every key of Pulumi.yaml"
    for key, entry in SCHEMA.items():
        kind, default, secret = rows[key]
        assert kind == entry["type"], key
        shown = entry["default"] if not isinstance(entry["default"], dict) else "{}"
        if isinstance(shown, bool):
            shown = "true" if shown else "false"  # as YAML and `pulumi config set` write it
        assert default == (str(shown) if shown != "" else '""'), key
        assert secret == ("yes" if key in SECRET_KEYS else "no"), key


def test_readme_lists_every_secret_the_stack_files_use_with_its_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for stack in STACKS:
        document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        workspace = document["config"].get("homeops-windmill:workspace", {})
        for variable in workspace.get("variables", []):
            if "secret" in variable:
                command = f"--path 'secrets.{variable['secret']}'"
                assert command in readme, f"README lacks the command setting secrets.{variable['secret']}"
