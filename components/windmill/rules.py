"""The naming rules of Windmill objects, written once for the provider and the config layer.

Each rule has a pattern or limit, a sentence that explains it to a human (``*_RULE``) and a
validator (``validate_*``: the value -> a problem, or None). The provider's ``check`` uses the
validators; the config layer (``components/config/``) checks stack config against the same rules
so a bad id or path fails at load time naming its config key, before any resource is declared.

This module imports nothing but the standard library, so anything may import it. Sources are
Windmill's own constraints (docs/windmill-api.md: §3 workspaces, §4 folders, groups and members,
§5 variables, §6 resources).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Validator = Callable[[Any], str | None]


# -- validator building blocks ---------------------------------------------------------------


def pattern(regex: str, rule: str, *, ascii_only: bool = False) -> Validator:
    """A validator for strings that must fully match ``regex``; ``rule`` explains it to a human."""
    compiled = re.compile(regex, flags=re.ASCII if ascii_only else 0)

    def validate(value: Any) -> str | None:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            return f"{rule}; got {value!r}"
        return None

    return validate


def max_length(limit: int) -> Validator:
    """A validator for strings of at most ``limit`` characters."""

    def validate(value: Any) -> str | None:
        return f"must be at most {limit} characters, got {len(value)}" if len(value) > limit else None

    return validate


def one_of(choices: Iterable[str]) -> Validator:
    """A validator for a value from a fixed list."""
    allowed = tuple(choices)
    listed = f"'{allowed[0]}' or '{allowed[1]}'" if len(allowed) == 2 else ", ".join(allowed)

    def validate(value: Any) -> str | None:
        return None if value in allowed else f"must be {'' if len(allowed) == 2 else 'one of '}{listed}, got {value!r}"

    return validate


def all_of(*validators: Validator) -> Validator:
    """The first problem any of ``validators`` finds."""

    def validate(value: Any) -> str | None:
        for validator in validators:
            problem = validator(value)
            if problem:
                return problem
        return None

    return validate


def each(validator: Validator, rule: str) -> Validator:
    """A validator for lists whose every item passes ``validator``; names the items that do not."""

    def validate(value: Any) -> str | None:
        bad = [item for item in value if validator(item) is not None]
        return f"{rule}; got {bad!r}" if bad else None

    return validate


# -- workspaces (§3) ---------------------------------------------------------------------------

WORKSPACE_ID_PATTERN = r"\w+(-\w+)*"  # the DB check proper_id, ASCII word characters
MAX_WORKSPACE_ID_LENGTH = 50  # VARCHAR(50)
RESERVED_WORKSPACE_IDS = ("global", "admins", "starter")  # 'global' refused, the others protected
WORKSPACE_ID_RULE = (
    "must be letters, digits and '_' in runs separated by single hyphens (^\\w+(-\\w+)*$), "
    "at most 50 characters, and not 'global', 'admins' or 'starter'"
)
MAX_WORKSPACE_NAME_LENGTH = 50
COLOR_PATTERN = r"#[0-9a-fA-F]{6}"
DELETION_MODES = ("archive", "delete")


def validate_workspace_id(value: Any) -> str | None:
    if not re.fullmatch(WORKSPACE_ID_PATTERN, value, flags=re.ASCII) or len(value) > MAX_WORKSPACE_ID_LENGTH:
        return f"{WORKSPACE_ID_RULE}; got {value!r}"
    if value in RESERVED_WORKSPACE_IDS:
        return f"{value!r} is reserved by Windmill; {WORKSPACE_ID_RULE}"
    return None


validate_workspace_name = max_length(MAX_WORKSPACE_NAME_LENGTH)
validate_color = pattern(COLOR_PATTERN, "must be a #rrggbb colour")
validate_deletion_mode = one_of(DELETION_MODES)


# -- item paths (§5, §6) -----------------------------------------------------------------------

ITEM_PATH_PATTERN = r"[ufg](/[\w-]+){2,}"
MAX_ITEM_PATH_LENGTH = 255
ITEM_PATH_RULE = (
    "must look like u/<user>/<name>, f/<folder>/<name> or g/<group>/<name> "
    "(^[ufg](/[\\w-]+){2,}$, at most 255 characters)"
)
validate_item_path = all_of(pattern(ITEM_PATH_PATTERN, ITEM_PATH_RULE), max_length(MAX_ITEM_PATH_LENGTH))
# A path inside a folder, as the architecture's cross-workspace tokens name flows and variables.
FOLDER_ITEM_PATH_PATTERN = r"f/[a-zA-Z_0-9]+(/[\w-]+)+"
FOLDER_ITEM_PATH_RULE = "must be a path f/<folder>/<name>"


def folder_of(path: str) -> str | None:
    """The folder an item path lives in (``f/<folder>/…``), or None for user and group paths."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "f" else None


# -- folders, groups, members (§4) -------------------------------------------------------------

FOLDER_NAME_PATTERN = r"[a-zA-Z_0-9]+"
FOLDER_NAME_RULE = "may contain only letters, digits and '_' (no hyphens)"
validate_folder_name = pattern(FOLDER_NAME_PATTERN, FOLDER_NAME_RULE)

PRINCIPAL_PATTERN = r"[ug]/[\w.@+-]+"
PRINCIPAL_RULE = "must be u/<username> or g/<group>"
validate_principal = pattern(PRINCIPAL_PATTERN, PRINCIPAL_RULE)

GROUP_NAME_PATTERN = r"[\w-]+"
GROUP_NAME_RULE = "may contain only letters, digits, '_' and '-'"
MAX_GROUP_NAME_LENGTH = 50  # group_.name VARCHAR(50): a longer name fails the INSERT (groups.rs)
BUILTIN_GROUP = "all"


def validate_group_name(value: Any) -> str | None:
    if value == BUILTIN_GROUP:
        return f"'{BUILTIN_GROUP}' is Windmill's built-in group of every member and cannot be managed"
    return all_of(pattern(GROUP_NAME_PATTERN, GROUP_NAME_RULE), max_length(MAX_GROUP_NAME_LENGTH))(value)


USERNAME_PATTERN = r"[\w.@+-]+"
validate_username = pattern(USERNAME_PATTERN, "must be a workspace username")

EMAIL_PATTERN = r"[^A-Z\s@]+@[^A-Z\s@]+\.[^A-Z\s@]+"  # Windmill lowercases emails
EMAIL_RULE = "must be a lowercase email address"
validate_email = pattern(EMAIL_PATTERN, EMAIL_RULE)

MEMBER_ROLES = ("admin", "developer", "operator")
validate_member_role = one_of(MEMBER_ROLES)


# -- variables and resources (§5, §6) ----------------------------------------------------------

MAX_VARIABLE_VALUE_LENGTH = 15000  # VARCHAR(15000)


def encrypted_length(value: str) -> int:
    """How many characters a secret takes in the ``VARCHAR(15000)`` column once Windmill stored it:
    ``encrypt_str_to_base64`` of magic_crypt AES-256-CBC (windmill-common ``variables.rs``
    ``encrypt`` @ 08b7146be8032f4bc991e3c81b734b3f2c650fcd), i.e. base64 of the PKCS#7-padded
    UTF-8 bytes, whole 16-byte blocks with at least one byte of padding."""
    padded = 16 * (len(value.encode()) // 16 + 1)
    return 4 * -(-padded // 3)


# The longest secret (UTF-8 bytes) whose ciphertext still fits: 11247 bytes become 15000 characters.
MAX_SECRET_VALUE_BYTES = 11247
RESOURCE_TYPE_NAME_PATTERN = r"[\w-]{1,50}"
RESOURCE_TYPE_NAME_RULE = "must be 1 to 50 letters, digits, '_' or '-'"
validate_resource_type_name = pattern(RESOURCE_TYPE_NAME_PATTERN, RESOURCE_TYPE_NAME_RULE)


def references(value: Any, where: str = "value") -> list[tuple[str, str, str]]:
    """Every ``$var:``/``$res:`` string in a JSON value, as ``(location, "var"|"res", path)``."""
    found: list[tuple[str, str, str]] = []
    if isinstance(value, str) and value.startswith(("$var:", "$res:")):
        found.append((where, value[1:4], value[5:]))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(references(item, f"{where}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(references(item, f"{where}[{index}]"))
    return found


def reference_problems(value: Any, where: str = "value") -> list[str]:
    """Every reference in a JSON value whose path is not a valid item path."""
    problems = []
    for location, kind, path in references(value, where):
        problem = validate_item_path(path)
        if problem:
            problems.append(f"{location}: reference '${kind}:{path}' {problem}")
    return problems


# -- the instance ------------------------------------------------------------------------------

INSTANCE_URL_PATTERN = r"https?://[^\s/]+(/\S*)?"
# What the client waits for when nobody says otherwise (Pulumi.yaml declares the same for config).
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5
DEFAULT_READ_TIMEOUT_SECONDS = 30
MAX_TIMEOUT_SECONDS = 600


def has_credentials(url: Any) -> bool:
    """Whether a URL carries a user (and maybe a password) before its host: ``https://u:p@host``."""
    return isinstance(url, str) and re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@", url) is not None


def redacted_url(url: str) -> str:
    """The URL with whatever stood before ``@`` replaced, for messages that must not show it."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@", r"\1***@", url)


CREDENTIALS_IN_URL_RULE = (
    "must not carry credentials (user:password@): they would be published in the windmillUrl export and the "
    "WMILL_URL Actions variable; put the API token in windmillToken instead"
)


def validate_instance_url(value: Any) -> str | None:
    """The root URL of a Windmill instance, without ``/api`` (the client adds it), and without
    credentials in it (the message then shows the URL with them blanked out)."""
    if has_credentials(value):
        return f"{CREDENTIALS_IN_URL_RULE}; got {redacted_url(value)!r}"
    if not re.fullmatch(INSTANCE_URL_PATTERN, value):
        example = "https://windmill.example.com"
        return f"must be an http(s) URL of the Windmill instance, e.g. {example}; got {value!r}"
    if value.rstrip("/").endswith("/api"):
        return f"must be the instance root without /api (the client adds it); got {value!r}"
    return None


# -- instance-level objects ----------------------------------------------------------------------

# Windmill lowercases instance group names and turns spaces into '_' (groups.rs convert_name), so
# only the normalized form is accepted: what is declared is what Windmill stores.
INSTANCE_GROUP_NAME_PATTERN = r"[a-z0-9][a-z0-9_-]{0,49}"
INSTANCE_GROUP_NAME_RULE = "must be 1 to 50 lowercase letters, digits, '_' or '-', starting with a letter or digit"
validate_instance_group_name = pattern(INSTANCE_GROUP_NAME_PATTERN, INSTANCE_GROUP_NAME_RULE, ascii_only=True)
# A global setting's name (the global_settings table's key), e.g. base_url or smtp_settings.
SETTING_KEY_PATTERN = r"[a-z][a-z0-9_]{0,99}"
validate_setting_key = pattern(SETTING_KEY_PATTERN, "must be a Windmill global setting name such as base_url",
                               ascii_only=True)
# Worker group names as the worker containers' WORKER_GROUP (the ``worker__<name>`` config row).
WORKER_GROUP_NAME_PATTERN = r"[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?"
validate_worker_group_name = pattern(WORKER_GROUP_NAME_PATTERN, "must be a lowercase worker group name such as "
                                     "default, native or reports", ascii_only=True)
