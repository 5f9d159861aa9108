"""The project's config schema: Pulumi.yaml, read once, is the single source of keys and defaults.

The Pulumi CLI checks stack files against ``config:`` in Pulumi.yaml and fills in its defaults; the
program reads the same declarations here, so the project name, every key and every default (the
Windmill release among them) is written in one place. The API timeout defaults are the provider's
(``components/windmill/rules.py``); a test keeps Pulumi.yaml equal to them, and the README's
configuration reference equal to the schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = Path(__file__).resolve().parents[2] / "Pulumi.yaml"
_PROJECT: dict[str, Any] = yaml.safe_load(PROJECT_FILE.read_text())

PROJECT: str = _PROJECT["name"]
# key -> {type, description, default}
SCHEMA: dict[str, dict[str, Any]] = _PROJECT["config"]
DEFAULTS: dict[str, Any] = {key: entry["default"] for key, entry in SCHEMA.items()}

# Optional keys that hold credentials. Pulumi.yaml cannot declare them ``secret: true`` (the CLI
# would write their plain default into the stack and then refuse it), so the program refuses a
# value stored without --secret (settings._plain_credentials).
SECRET_KEYS = frozenset({"windmillToken", "secrets", "githubToken", "wmillSyncToken"})

DEFAULT_WINDMILL_VERSION: str = DEFAULTS["windmillVersion"]
DEFAULT_PLATFORM_STACK: str = DEFAULTS["platformStack"]

ROLES = ("platform", "domain")
PLATFORM_WORKSPACE = "homeops-platform"
# A domain names its workspace (homeops-<domain>), its GitHub folder and its Actions secret suffix.
DOMAIN_PATTERN = r"[a-z][a-z0-9]{0,29}"


def key(name: str) -> str:
    """The full config key of ``name``: ``homeops-windmill:<name>``."""
    return f"{PROJECT}:{name}"
