"""The Windmill naming rules, applied to stack config: each rule is the provider's own.

``components/windmill/rules.py`` writes every Windmill rule once (ids, item paths, folder, group,
member and resource-type names, the instance URL, the API timeouts); the provider's ``check`` uses
it and so does config, through this module, so a bad id or path fails at load time with its config
key and the same explanation. This is the only config module that reaches into the provider package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.windmill.first_boot import DEFAULT_AUTOMATION_EMAIL
from components.windmill.instance_api import EDITIONS
from components.windmill.instance_settings import CE_MAX_RETENTION_PERIOD_SECS, setting_problems
from components.windmill.readiness import DEFAULT_INTERVAL_SECONDS, DEFAULT_TIMEOUT_SECONDS
from components.windmill.rules import (
    BUILTIN_GROUP,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    DELETION_MODES,
    FOLDER_ITEM_PATH_RULE,
    MAX_TIMEOUT_SECONDS,
    MAX_VARIABLE_VALUE_LENGTH,
    MAX_WORKSPACE_NAME_LENGTH,
    MEMBER_ROLES,
    Validator,
    folder_of,
    references,
    validate_color,
    validate_email,
    validate_folder_name,
    validate_group_name,
    validate_instance_group_name,
    validate_instance_url,
    validate_item_path,
    validate_principal,
    validate_resource_type_name,
    validate_worker_group_name,
    validate_workspace_id,
)
from components.windmill.worker_group_configs import CONFIG_FIELDS as WORKER_CONFIG_FIELDS

from .errors import ConfigError
from .values import check_str

__all__ = [
    "BUILTIN_GROUP",
    "CE_MAX_RETENTION_PERIOD_SECS",
    "DEFAULT_AUTOMATION_EMAIL",
    "DEFAULT_CONNECT_TIMEOUT_SECONDS",
    "DEFAULT_READ_TIMEOUT_SECONDS",
    "DELETION_MODES",
    "EDITIONS",
    "MAX_TIMEOUT_SECONDS",
    "MAX_VARIABLE_VALUE_LENGTH",
    "MAX_WORKSPACE_NAME_LENGTH",
    "MEMBER_ROLES",
    "READINESS_INTERVAL_SECONDS",
    "READINESS_TIMEOUT_SECONDS",
    "WORKER_CONFIG_FIELDS",
    "check_color",
    "check_email",
    "check_folder_item_path",
    "check_folder_name",
    "check_group_name",
    "check_instance_group_name",
    "check_item_path",
    "check_principal",
    "check_resource_type_name",
    "check_url",
    "check_worker_group_name",
    "check_workspace_id",
    "folder_of",
    "references",
    "setting_problems",
    "validate_workspace_id",
]

# The readiness gate's defaults, as whole seconds for config.
READINESS_TIMEOUT_SECONDS = int(DEFAULT_TIMEOUT_SECONDS)
READINESS_INTERVAL_SECONDS = int(DEFAULT_INTERVAL_SECONDS)


def _checker(validate: Validator) -> Callable[[str, Any], str]:
    """A config check from a provider rule: a string the rule accepts, or a ConfigError naming ``key``."""

    def check(key: str, value: Any) -> str:
        check_str(key, value)
        problem = validate(value)
        if problem:
            raise ConfigError(key, problem)
        return str(value)

    return check


def _validate_folder_item_path(value: Any) -> str | None:
    folder = folder_of(value)
    if validate_item_path(value) or folder is None or validate_folder_name(folder):
        return f"{FOLDER_ITEM_PATH_RULE}, got {value!r}"
    return None


check_workspace_id = _checker(validate_workspace_id)
check_item_path = _checker(validate_item_path)
check_folder_item_path = _checker(_validate_folder_item_path)
check_url = _checker(validate_instance_url)
check_color = _checker(validate_color)
check_folder_name = _checker(validate_folder_name)
check_principal = _checker(validate_principal)
check_group_name = _checker(validate_group_name)
check_email = _checker(validate_email)
check_resource_type_name = _checker(validate_resource_type_name)
check_instance_group_name = _checker(validate_instance_group_name)
check_worker_group_name = _checker(validate_worker_group_name)
