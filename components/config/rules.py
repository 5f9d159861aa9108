"""The Windmill rules config shares with the dynamic provider, imported from where they are defined.

Config checks ids, paths and names at load time with the provider's own rules (the provider checks
them again in ``check``), so a rule is written once, in ``components/windmill/``. This module is the
only place config reaches into the provider package for them.
"""

from __future__ import annotations

import re
from typing import Any

from components.windmill.base import (
    ITEM_PATH_RULE,
    WORKSPACE_ID_RULE,
    validate_item_path,
    validate_url,
    validate_workspace_id,
)
from components.windmill.members import ROLES as MEMBER_ROLES
from components.windmill.resources import references
from components.windmill.variables import MAX_VALUE_LENGTH
from components.windmill.workspaces import DELETION_MODES

from .errors import ConfigError
from .values import check_str

__all__ = [
    "DELETION_MODES",
    "FOLDER_NAME",
    "FOLDER_NAME_HELP",
    "ITEM_PATH_RULE",
    "MAX_VALUE_LENGTH",
    "MEMBER_ROLES",
    "WORKSPACE_ID_RULE",
    "check_folder_item_path",
    "check_item_path",
    "check_url",
    "check_workspace_id",
    "references",
    "validate_workspace_id",
]

# Folder names (Windmill's folders.name check). The provider declares the same rule on Folder.name.
FOLDER_NAME = r"[a-zA-Z_0-9]+"
FOLDER_NAME_HELP = "may contain only letters, digits and '_' (Windmill refuses hyphens in folder names)"
FOLDER_ITEM_PATH_HELP = "must be a path f/<folder>/<name>"


def _raise_on(problem: str | None, key: str) -> None:
    if problem:
        raise ConfigError(key, problem)


def check_workspace_id(key: str, value: Any) -> str:
    """A Windmill workspace id (the provider's rule), or a ConfigError naming ``key``."""
    check_str(key, value)
    _raise_on(validate_workspace_id(value), key)
    return str(value)


def check_item_path(key: str, value: Any) -> str:
    """A Windmill item path such as ``f/<folder>/<name>`` (the provider's rule)."""
    check_str(key, value)
    _raise_on(validate_item_path(value), key)
    return str(value)


def check_url(key: str, value: Any) -> str:
    """The root URL of a Windmill instance (the provider's rule for ``api_url``)."""
    check_str(key, value)
    _raise_on(validate_url(value), key)
    return str(value)


def check_folder_item_path(key: str, value: Any) -> str:
    """An item path inside a folder, ``f/<folder>/<name>``: the item path rule plus a folder."""
    path = check_str(key, value)
    parts = path.split("/")
    if validate_item_path(path) or parts[0] != "f" or not re.fullmatch(FOLDER_NAME, parts[1]):
        raise ConfigError(key, f"{FOLDER_ITEM_PATH_HELP}, got {path!r}")
    return path
