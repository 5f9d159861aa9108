"""What the policies read: plain property values, Windmill resource kinds, workspace roles, and a
stack view with the dependencies between resources.

Property values arrive wrapped by ``pulumi_policy``: dicts and lists are proxies that raise
``UnknownValueError`` when a policy touches a value the engine does not know yet (a preview of a
resource whose input comes from another resource being created). A policy that trips over one is
reported as "can't run during preview", which would hide every other finding of that policy, so
``plain`` unwraps the proxies once and turns each unknown into the ``UNKNOWN`` marker; every rule
then decides explicitly what an unknown value means for it (usually: nothing to judge yet; the
same rule runs again at ``pulumi up`` with the value known).

Secret values arrive unwrapped too (``pulumi_policy`` strips the secret marker before a policy sees
them), so a policy may hold plaintext credentials: no message built here or in the rule modules
ever contains a property value, only keys, paths, names and kinds.

Every Windmill resource of this project is a Pulumi dynamic resource served by the same
``pulumi-python`` provider, so the provider says nothing about what a resource is. ``windmill_kind``
decides, in this order: the resource's own ``windmill_kind`` property (an input and output every
Windmill resource declares), else the type token's name (``pulumi-python:dynamic/windmill:<Name>``),
else the shape of its inputs (``workspace_id`` means a workspace, ``label`` a token, and so on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)
from pulumi_policy.secret import Secret

PLATFORM_WORKSPACE = "homeops-platform"
# homeops-<concern>: the document's prefixes (platform/*, financial/*, media/*, ...) as workspace ids, optionally
# with -<suffix> parts (homeops-financial-v2 while a workspace is moved), the same ids the program's own guard
# lets a stack manage (components/config/guards.py owned_workspace_ids): the concern is the first part.
CONCERN_WORKSPACE = re.compile(r"homeops-([a-z][a-z0-9]{0,29})(?:-[A-Za-z0-9_]+)*")

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"  # noqa: S105 - a type token
GITHUB_SECRETS = frozenset({
    "github:index/actionsSecret:ActionsSecret",
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    "github:index/actionsOrganizationSecret:ActionsOrganizationSecret",
})
GITHUB_VARIABLES = frozenset({
    "github:index/actionsVariable:ActionsVariable",
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
    "github:index/actionsOrganizationVariable:ActionsOrganizationVariable",
})

KINDS = ("workspace", "folder", "group", "member", "variable", "resource", "resource_type", "token",
         "readiness_gate")
_TYPE_NAMES = {
    "Workspace": "workspace", "Folder": "folder", "Group": "group", "Member": "member",
    "Variable": "variable", "Resource": "resource", "ResourceType": "resource_type", "Token": "token",
    "ReadinessGate": "readiness_gate",
}
# Kinds that live inside a workspace, and where their path or name is.
WORKSPACE_ITEMS = ("folder", "group", "member", "variable", "resource", "resource_type")


class _Unknown:
    """A value the engine does not know yet (only during a preview)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
_UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE,
})


def _raw(container: Any) -> Any:
    """The container a pulumi_policy proxy wraps (proxies hand it out under ``__target``)."""
    try:
        return container["__target"]
    except (KeyError, TypeError, IndexError):
        return container


def plain(value: Any) -> Any:
    """``value`` as plain dicts, lists and scalars, with ``UNKNOWN`` for unknown values."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        raw = _raw(value)
        return {key: plain(raw[key]) for key in raw}
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        raw = _raw(value)
        return [plain(raw[index]) for index in range(len(raw))]
    return value


def known(value: Any) -> bool:
    """True when ``value`` holds no unknown at any depth."""
    if value is UNKNOWN:
        return False
    if isinstance(value, Mapping):
        return all(known(v) for v in value.values())
    if isinstance(value, list):
        return all(known(v) for v in value)
    return True


def text(value: Any) -> str | None:
    """A known string, else None."""
    return value if isinstance(value, str) else None


def strings(value: Any) -> list[str]:
    """The known strings of a list (unknown or other entries left out)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# ------------------------------------------------------------------------------------------------
# Windmill resources
# ------------------------------------------------------------------------------------------------


def windmill_kind(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """What a Windmill dynamic resource is, or None for anything else (see the module docstring)."""
    if not resource_type.startswith(DYNAMIC_TYPE_PREFIX):
        return None
    declared = props.get("windmill_kind")
    if isinstance(declared, str) and declared in KINDS:
        return declared
    type_name = resource_type.rsplit(":", 1)[-1]
    if resource_type.startswith(f"{DYNAMIC_TYPE_PREFIX}/windmill:") and type_name in _TYPE_NAMES:
        return _TYPE_NAMES[type_name]
    return kind_from_shape(props)


def kind_from_shape(props: Mapping[str, Any]) -> str | None:
    """Recognise a Windmill resource by its inputs alone (no ``windmill_kind``, generic type token)."""
    keys = set(props)
    if "workspace_id" in keys:
        return "workspace"
    if "label" in keys and keys & {"scopes", "expiration", "token_prefix", "windmill_label"}:
        return "token"
    if "url" in keys and keys & {"timeout_seconds", "interval_seconds", "expected_version"}:
        return "readiness_gate"
    if "workspace" not in keys:
        return "token" if "label" in keys else None
    if "path" in keys:
        return "resource" if "resource_type" in keys else "variable"
    if "email" in keys:
        return "member"
    if "name" in keys:
        if "schema" in keys:
            return "resource_type"
        if "members" in keys:
            return "group"
        return "folder"
    return None


def workspace_role(workspace: Any) -> str | None:
    """``platform``, ``domain`` or None (unknown, or not named by the document's prefixes)."""
    match = CONCERN_WORKSPACE.fullmatch(workspace) if isinstance(workspace, str) else None
    if match is None:
        return None
    return "platform" if match.group(1) == "platform" else "domain"


def domain_of(workspace: Any) -> str | None:
    """``financial`` for ``homeops-financial``; None for the platform and anything else."""
    if workspace_role(workspace) != "domain":
        return None
    match = CONCERN_WORKSPACE.fullmatch(workspace)
    return match.group(1) if match else None


class _Resource(Protocol):
    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str


@dataclass
class Item:
    """One resource of the stack with plain props, its Windmill kind and its dependencies."""

    resource_type: str
    props: dict[str, Any]
    urn: str
    name: str
    protect: bool
    kind: str | None
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)

    @property
    def workspace(self) -> Any:
        """The workspace a Windmill object lives in (or is limited to, for a token)."""
        if self.kind == "workspace":
            return self.props.get("workspace_id")
        return self.props.get("workspace")

    @property
    def label(self) -> str:
        """How messages name the object: its path, name, email or label, else the Pulumi name."""
        for key in ("path", "name", "email", "label", "workspace_id"):
            value = self.props.get(key)
            if isinstance(value, str):
                return value
        return self.name

    def depends_on(self, prop: str, other: Item) -> bool:
        return other.urn in self.property_dependencies.get(prop, [])


def item(resource: _Resource, protect: bool = False) -> Item:
    """An ``Item`` from a ``ResourceValidationArgs`` or a ``PolicyResource``."""
    props = plain(resource.props)
    return Item(resource.resource_type, props, resource.urn, resource.name, protect,
                windmill_kind(resource.resource_type, props))


class Stack:
    """Every resource of one stack, with lookups the stack policies share."""

    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.items: list[Item] = []
        for resource in resources:
            entry = item(resource, protect=bool(getattr(resource.opts, "protect", False)))
            entry.property_dependencies = {
                key: [dep.urn for dep in deps] for key, deps in (resource.property_dependencies or {}).items()
            }
            entry.dependencies = [dep.urn for dep in resource.dependencies or []]
            self.items.append(entry)
        self.by_urn = {entry.urn: entry for entry in self.items}

    def of_kind(self, kind: str) -> list[Item]:
        return [entry for entry in self.items if entry.kind == kind]

    def of_type(self, *resource_types: str) -> list[Item]:
        return [entry for entry in self.items if entry.resource_type in resource_types]

    @property
    def own_workspaces(self) -> set[str]:
        """The workspaces this stack declares (its ``Workspace`` resources with a known id)."""
        return {ws for ws in (entry.workspace for entry in self.of_kind("workspace")) if isinstance(ws, str)}

    def folders_of(self, workspace: str) -> set[str] | None:
        """Names of the folders this stack declares in ``workspace``; None when it declares that
        workspace's folders nowhere (another stack owns it) or a folder name is still unknown."""
        folders = [entry for entry in self.of_kind("folder") if entry.workspace == workspace]
        if workspace not in self.own_workspaces and not folders:
            return None
        names = [entry.props.get("name") for entry in folders]
        if any(not isinstance(name, str) for name in names):
            return None
        return set(names)

    def holders(self, token: Item) -> list[Item]:
        """The Windmill variables whose value is ``token``'s value."""
        return [entry for entry in self.of_kind("variable") if entry.depends_on("value", token)]

    def github_secrets_holding(self, token: Item) -> list[Item]:
        return [entry for entry in self.of_type(*GITHUB_SECRETS)
                if entry.depends_on("plaintextValue", token) or entry.depends_on("encryptedValue", token)]

    def dependencies(self, entry: Item, prop: str) -> list[Item]:
        return [self.by_urn[urn] for urn in entry.property_dependencies.get(prop, []) if urn in self.by_urn]


def shown(value: Any) -> str:
    """A name or path for a message: the value when it is a known string, else a placeholder."""
    return value if isinstance(value, str) else "(not known yet)"


def item_name(path: str) -> str:
    """The last segment of a Windmill path (``f/atom/fmp_api_key`` -> ``fmp_api_key``)."""
    return path.rsplit("/", 1)[-1]
