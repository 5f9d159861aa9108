"""A live workspace -> the stack config's ``workspace`` section, in the project's own shape.

Every kind is written in a stable order (folders, groups and types by name, members by email,
variables, resources and schedules by path; keys in the order the README documents), so importing
the same workspace twice writes the same text and a later import shows only what changed. What the
config cannot express is not dropped: it goes to ``Conversion.skipped`` with the reason, and the
command lists it. Secret variables are written by name only (``secret: <name>``); their values
belong in the stack's encrypted ``secrets``.

The rules mirror the config parser's (``components.config.workspace``), which checks the result:
items live in the workspace's own folders, a resource references only what the workspace declares,
a variable and a resource never share a path, group members are declared members.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from components.config.workspace import SECRET_NAME
from components.windmill.rules import (
    folder_of,
    references,
    validate_email,
    validate_item_path,
    validate_principal,
)

from .live import LiveWorkspace, Unmodelled
from .settings_convert import convert_schedule, convert_settings

# Words that make a name a credential's (as the policy pack's secret_values rule reads names): a
# plain value under such a name would land in the stack file, so it is listed instead of imported.
CREDENTIAL_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "secrets", "token", "tokens",
                              "credential", "credentials", "apikey", "webhook", "privatekey", "dsn"})
CREDENTIAL_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("signing", "key"),
                              ("key", "id"), ("connection", "string")})
# Made and used by Windmill itself: managing them from a stack would let a destroy delete them.
WINDMILL_GROUPS = frozenset({"all", "wm_deployers", "error_handler", "slack"})
WINDMILL_FOLDERS = frozenset({"app_themes", "app_custom", "app_groups"})


@dataclass(frozen=True)
class SecretNeed:
    """A secret the stack needs: ``secrets.<name>`` holds the value of the variable at ``path``."""

    name: str
    path: str


@dataclass
class Conversion:
    """The section to write, the secrets it names, and what was left out (with reasons)."""

    section: dict[str, Any]
    secrets: list[SecretNeed] = field(default_factory=list)
    skipped: list[Unmodelled] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, kind: str, name: str, reason: str) -> None:
        self.skipped.append(Unmodelled(kind, name, reason))

    def count(self, key: str) -> int:
        value = self.section.get(key)
        return len(value) if isinstance(value, list | dict) else 0


@dataclass(frozen=True)
class Previous:
    """What the stack config already says that an import keeps: each secret variable's secret name,
    the deletion mode, and the variables another part of the project manages (path -> by whom)."""

    secret_names: dict[str, str] = field(default_factory=dict)
    deletion_mode: str | None = None
    managed_elsewhere: dict[str, str] = field(default_factory=dict)


def convert(live: LiveWorkspace, previous: Previous) -> Conversion:
    """The ``workspace`` section for ``live``; ``previous`` keeps names the operator already uses."""
    result = Conversion(section={})
    section = result.section
    section["id"] = live.id
    section["name"] = live.name
    if live.color:
        section["color"] = live.color
    section["deletionMode"] = previous.deletion_mode or "archive"
    section["adopt"] = True
    folders = _folders(live, result)
    members, emails = _members(live, result)
    groups = _groups(live, emails, result)
    types = _resource_types(live, result)
    variables = _variables(live, folders, previous, result)
    resources = _resources(live, folders, {t["name"] for t in types}, variables, result)
    schedules = [s for s in (convert_schedule(row, folders, result.skip) for row in live.schedules) if s]
    for key, items in (("folders", list(folders.values())), ("members", members), ("groups", groups),
                       ("resourceTypes", types), ("variables", list(variables.values())), ("resources", resources),
                       ("schedules", schedules)):
        if items:
            section[key] = items
    settings = convert_settings(live.settings, live.env_vars, folders, result.skip)
    if settings:
        section["settings"] = settings
    result.skipped.extend(live.unmodelled)
    result.notes.extend(live.notes)
    return result


def _entry(**values: Any) -> dict[str, Any]:
    """An item without the empty optional values the config defaults anyway (readable, stable)."""
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def _folders(live: LiveWorkspace, result: Conversion) -> dict[str, dict[str, Any]]:
    folders: dict[str, dict[str, Any]] = {}
    for row in sorted(live.folders, key=lambda f: f["name"]):
        name = row["name"]
        if name in WINDMILL_FOLDERS:
            result.skip("folder", name, "made by Windmill for apps; left as it is")
            continue
        owners = sorted({o for o in row.get("owners") or [] if validate_principal(o) is None})
        perms = {p: bool(w) for p, w in sorted((row.get("extra_perms") or {}).items())
                 if validate_principal(p) is None and not (p in owners and w is True)}
        # Owners always have write access; the config lists them once, under owners.
        folders[name] = _entry(name=name, summary=row.get("summary"), owners=owners, extraPerms=perms)
    return folders


def _members(live: LiveWorkspace, result: Conversion) -> tuple[list[dict[str, Any]], dict[str, str]]:
    members, emails = [], {}
    for row in sorted(live.members, key=lambda m: str(m.get("email", "")).lower()):
        email = str(row.get("email", "")).lower()
        if validate_email(email) is not None:
            result.skip("member", email or row.get("username", "?"), "not an email address the config accepts")
            continue
        role = "admin" if row.get("is_admin") else "operator" if row.get("operator") else "developer"
        members.append({"email": email, "role": role})
        emails[row["username"]] = email
    return members, emails


def _groups(live: LiveWorkspace, emails: dict[str, str], result: Conversion) -> list[dict[str, Any]]:
    groups = []
    for row in sorted(live.groups, key=lambda g: g["name"]):
        if row["name"] in WINDMILL_GROUPS:
            result.skip("group", row["name"], "Windmill's own group; left as it is")
            continue
        members = sorted({emails[u] for u in row.get("members") or [] if u in emails})
        groups.append(_entry(name=row["name"], summary=row.get("summary"), members=members))
    return groups


def _resource_types(live: LiveWorkspace, result: Conversion) -> list[dict[str, Any]]:
    types = []
    for row in sorted(live.resource_types, key=lambda t: t["name"]):
        schema = row.get("schema") if row.get("schema") is not None else {}
        if not isinstance(schema, dict) or schema.get("type", "object") != "object":
            result.skip("resource type", row["name"], "its schema is not a JSON Schema of type object")
            continue
        if row.get("format_extension") or row.get("is_fileset"):
            result.notes.append(f"resource type {row['name']}: format_extension/is_fileset are not modelled; "
                                "Windmill keeps them as they are")
        types.append({**_entry(name=row["name"], description=row.get("description")), "schema": schema})
    return types


def _placement(path: str, folders: dict[str, Any]) -> str | None:
    """Why an item at ``path`` cannot be declared, or None."""
    if validate_item_path(path) is not None:
        return "its path is not one the config accepts"
    folder = folder_of(path)
    if folder is None:
        return "outside a folder (u/… or g/…): every variable and resource of a stack lives in a folder"
    if folder not in folders:
        return f"its folder {folder} is not imported"
    return None


def _variables(
    live: LiveWorkspace, folders: dict[str, Any], previous: Previous, result: Conversion
) -> dict[str, dict[str, Any]]:
    resource_paths = {r["path"] for r in live.resources}
    kept: list[dict[str, Any]] = []
    for row in sorted(live.variables, key=lambda v: v["path"]):
        path = row["path"]
        reason = previous.managed_elsewhere.get(path) or _placement(path, folders)
        if reason is None and (row.get("is_oauth") or row.get("account") is not None):
            reason = "the token of an OAuth account, refreshed by Windmill"
        if reason is None and path in resource_paths:
            reason = "shares its path with a resource (a linked pair Windmill deletes together)"
        if reason is None and not row.get("is_secret") and row.get("value") and credential_name(path):
            reason = ("a plain (not secret) variable whose name says it holds a credential; its value would land "
                      "in the stack file. Make it a secret in Windmill, then import again")
        if reason:
            result.skip("variable", path, reason)
            continue
        kept.append(row)
    names = secret_names([r["path"] for r in kept if r.get("is_secret")], previous.secret_names)
    variables: dict[str, dict[str, Any]] = {}
    for row in kept:
        path = row["path"]
        if row.get("is_secret"):
            result.secrets.append(SecretNeed(names[path], path))
            variables[path] = _entry(path=path, secret=names[path], description=row.get("description"))
        else:
            variables[path] = {"path": path, "value": row.get("value") or "",
                               **_entry(description=row.get("description"))}
    return variables


def _resources(
    live: LiveWorkspace, folders: dict[str, Any], types: set[str], variables: dict[str, Any], result: Conversion
) -> list[dict[str, Any]]:
    variable_paths = {v["path"] for v in live.variables}
    candidates: dict[str, dict[str, Any]] = {}
    for row in sorted(live.resources, key=lambda r: r["path"]):
        path, kind = row["path"], row.get("resource_type") or ""
        reason = _placement(path, folders)
        if reason is None and path in variable_paths:
            reason = "shares its path with a variable (a linked pair Windmill deletes together)"
        if reason is None and not isinstance(row.get("value"), dict):
            reason = "its value is not a JSON object"
        if reason is None and kind.startswith("c_") and kind not in types:
            reason = f"its type {kind} is not a custom type of this workspace"
        if reason is None and (plain := _plain_credential(row["value"])):
            reason = (f"its value holds {plain} in plain text, which would land in the stack file; move it into "
                      f"a secret variable, reference it as $var:<path>, then import again")
        if reason:
            result.skip("resource", path, reason)
            continue
        candidates[path] = row
    # A resource may reference only what the workspace declares; dropping one may strand another.
    while True:
        stranded = {path: target for path, row in candidates.items() if (target := _unresolved(
            row["value"], variables, candidates)) is not None}
        if not stranded:
            break
        for path, target in stranded.items():
            result.skip("resource", path, f"references {target}, which is not imported")
            del candidates[path]
    return [{"path": p, "type": r["resource_type"], **_entry(description=r.get("description")), "value": r["value"]}
            for p, r in candidates.items()]


def _unresolved(value: Any, variables: dict[str, Any], resources: dict[str, Any]) -> str | None:
    for _, kind, target in references(value, ""):
        if target not in (variables if kind == "var" else resources):
            return f"${kind}:{target}"
    return None


def credential_name(name: str) -> bool:
    """Whether a path or key names a credential (``db_password``, ``apiKey``, ``f/x/slack_webhook`` …)."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]
    pairs = set(itertools.pairwise(words))
    joined = {"".join(pair) for pair in pairs}
    return bool(set(words) & CREDENTIAL_WORDS or joined & CREDENTIAL_WORDS or pairs & CREDENTIAL_PAIRS)


def _plain_credential(value: Any, where: str = "") -> str | None:
    """The first key of a resource value that names a credential and holds a literal, not a reference."""
    if isinstance(value, dict):
        for key, item in value.items():
            location = f"{where}.{key}" if where else str(key)
            if isinstance(item, str) and item and not item.startswith(("$var:", "$res:")) and credential_name(key):
                return location
            found = _plain_credential(item, location)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _plain_credential(item, f"{where}[{index}]")
            if found:
                return found
    return None


def secret_names(paths: list[str], previous: dict[str, str]) -> dict[str, str]:
    """A ``secrets.<name>`` per secret variable: the name the stack already uses for that path, else
    the variable's own name, made unique with its folder (and a number) when two would collide."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in paths:
        name = previous.get(path)
        if name and re.fullmatch(SECRET_NAME, name) and name not in taken:
            names[path] = name
            taken.add(name)
    for path in sorted(p for p in paths if p not in names):
        parts = [_identifier(part) for part in path.split("/")[1:]]
        candidates = [parts[-1], "_".join(parts)]
        name = next((c for c in candidates if c not in taken), None)
        number = 2
        while name is None:
            name = f"{candidates[-1]}_{number}" if f"{candidates[-1]}_{number}" not in taken else None
            number += 1
        names[path] = name
        taken.add(name)
    return names


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text, flags=re.ASCII)
    return name if re.fullmatch(SECRET_NAME, name) else f"_{name}"
