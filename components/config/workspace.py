"""``workspace``: the typed Args of one workspace and everything it holds, and their parser.

The parser applies the conventions of the HomeOps architecture document (docs/architecture.md) at load time:

* every variable and resource lives under one of the workspace's own folders (``f/<folder>/…``);
* a resource value may only reference (``$var:`` / ``$res:``) variables and resources declared in
  the same workspace, and secret values come from this stack's own ``secrets`` config;
* group members are members declared in the same workspace (by email);
* a variable and a resource never share a path (Windmill deletes both when either is deleted).

Every problem is recorded with its key (``homeops-windmill:workspace.variables[2].secret: …``)
and all of them are reported together, before any resource is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import ConfigError, Problems, collected, config_set_command
from .rules import (
    DELETION_MODES,
    MAX_VARIABLE_VALUE_LENGTH,
    MAX_WORKSPACE_NAME_LENGTH,
    MEMBER_ROLES,
    check_color,
    check_email,
    check_folder_name,
    check_group_name,
    check_item_path,
    check_principal,
    check_resource_type_name,
    check_workspace_id,
    folder_of,
    references,
)
from .schedules import ScheduleSpec, parse_schedule
from .schema import key as config_key
from .values import Section, check_bool
from .workspace_settings import WorkspaceSettingsSpec, parse_settings

T = TypeVar("T")

SECRET_NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # noqa: S105 - a name pattern, not a secret
_WORKSPACE_KEYS = (
    "id", "name", "color", "deletionMode", "adopt", "folders", "members", "groups", "resourceTypes",
    "variables", "resources", "schedules", "settings",
)


@dataclass(frozen=True)
class FolderSpec:
    """A folder: ``owners``/``extra_perms`` use ``u/<user>`` and ``g/<group>``."""

    name: str
    summary: str = ""
    owners: tuple[str, ...] = ()
    extra_perms: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberSpec:
    """A workspace member by email, with role admin, developer or operator."""

    email: str
    role: str = "developer"
    adopt: bool = False


@dataclass(frozen=True)
class GroupSpec:
    """A group; ``members`` are emails of members declared in the same workspace."""

    name: str
    summary: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceTypeSpec:
    """A custom resource type (Windmill's convention: a ``c_`` prefix)."""

    name: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class VariableSpec:
    """A variable: a secret (``secret`` names an entry of the stack's ``secrets`` config) or a
    plain ``value``."""

    path: str
    description: str = ""
    secret: str | None = None
    value: str | None = None

    @property
    def is_secret(self) -> bool:
        return self.secret is not None


@dataclass(frozen=True)
class ResourceSpec:
    """A resource; secret parts reference this workspace's secret variables with ``$var:``."""

    path: str
    resource_type: str
    value: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class WindmillWorkspaceArgs:
    """Everything one workspace declares. Build it with ``from_config`` to get the checks."""

    id: str
    name: str
    color: str | None = None
    deletion_mode: str = "archive"
    adopt: bool = False
    folders: tuple[FolderSpec, ...] = ()
    members: tuple[MemberSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    resource_types: tuple[ResourceTypeSpec, ...] = ()
    variables: tuple[VariableSpec, ...] = ()
    resources: tuple[ResourceSpec, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()
    settings: WorkspaceSettingsSpec = field(default_factory=WorkspaceSettingsSpec)

    @staticmethod
    def from_config(
        data: Any,
        *,
        secret_names: set[str],
        default_id: str | None = None,
        key: str = config_key("workspace"),
        secrets_key: str = config_key("secrets"),
        problems: Problems | None = None,
        section: Callable[[Any, str], Section] = Section,
    ) -> WindmillWorkspaceArgs | None:
        """Parse and check the ``workspace`` config object.

        Problems go to ``problems`` (the result is then None when there were any); without one,
        they are raised together as ConfigErrors. ``section`` names the fields in messages: a
        workspace file passes ``workspace_file.FileSection`` (``<file>: variables[3].path``).
        """
        if problems is None:
            return collected(lambda found: WindmillWorkspaceArgs.from_config(
                data, secret_names=secret_names, default_id=default_id, key=key, secrets_key=secrets_key,
                problems=found, section=section,
            ))
        with problems.scope() as found:
            root = found.check(lambda: section(data, key))
            if root is None:
                return None
            parsed = _WorkspaceParser(root, found, secrets_key, secret_names, default_id).parse()
            return None if found else parsed


class _WorkspaceParser:
    """Reads one workspace config, recording every problem in ``problems``."""

    def __init__(
        self, root: Section, problems: Problems, secrets_key: str, secret_names: set[str], default_id: str | None
    ) -> None:
        self.root = root
        self.problems = problems
        self.secrets_key = secrets_key
        self.secret_names = secret_names
        self.default_id = default_id

    def parse(self) -> WindmillWorkspaceArgs:
        root, check = self.root, self.problems.check
        check(lambda: root.reject_unknown(_WORKSPACE_KEYS))
        ws_id = check(self._workspace_id)
        folders = self._list("folders", _folder, identity=lambda f: f.name)
        members = self._list("members", _member, identity=lambda m: m.email)
        emails = {m.email for m in members}
        groups = self._list("groups", lambda s: self._group(s, emails), identity=lambda g: g.name)
        types = self._list("resourceTypes", _resource_type, identity=lambda t: t.name)
        folder_names = {f.name for f in folders}
        variables = self._list("variables", lambda s: self._variable(s, folder_names), identity=lambda v: v.path)
        type_names = {t.name for t in types}
        resources = self._list(
            "resources", lambda s: self._resource(s, folder_names, type_names), identity=lambda r: r.path
        )
        self._check_paths_and_references(variables, resources)
        schedules = self._list("schedules", lambda s: parse_schedule(s, folder_names), identity=lambda x: x.path)
        settings = check(lambda: parse_settings(root.section("settings"), folder_names, ws_id), WorkspaceSettingsSpec())
        return WindmillWorkspaceArgs(
            id=ws_id,
            name=check(lambda: root.str("name", ws_id or "", max_length=MAX_WORKSPACE_NAME_LENGTH)) or ws_id,
            color=check(lambda: root.parse("color", check_color, None)),
            deletion_mode=check(lambda: root.str("deletionMode", "archive", choices=DELETION_MODES), "archive"),
            adopt=bool(check(lambda: root.bool("adopt", False))),
            folders=folders, members=members, groups=groups, resource_types=types,
            variables=variables, resources=resources, schedules=schedules, settings=settings,
        )

    def _workspace_id(self) -> str:
        value = self.root.str("id", self.default_id)
        if value is None:
            raise ConfigError(self.root.key("id"), "is required")
        return check_workspace_id(self.root.key("id"), value)

    def _list(self, name: str, parse: Callable[[Section], T], identity: Callable[[T], Any]) -> tuple[T, ...]:
        """Every valid item of a list; an item declared twice is a problem at its second place."""
        items: list[T] = []
        seen: dict[Any, str] = {}
        for section in self.problems.check(lambda: self.root.sections(name), []):
            item = self.problems.check(lambda s=section: parse(s))
            if item is None:
                continue
            ident = identity(item)
            if ident in seen:
                self.problems.add(section.path, f"{ident!r} is declared twice (also at {seen[ident]})")
                continue
            seen[ident] = section.path
            items.append(item)
        return tuple(items)

    def _declared_paths(self, name: str) -> set[str]:
        return _raw_paths(self.root.data.get(name))

    def _group(self, s: Section, member_emails: set[str]) -> GroupSpec:
        s.reject_unknown(["name", "summary", "members"])
        name = s.parse("name", check_group_name)
        members = s.list("members", [])
        for i, email in enumerate(members):
            if email not in member_emails:
                raise ConfigError(
                    f"{s.key('members')}[{i}]",
                    f"{email!r} is not declared in {self.root.key('members')}; declare the member first",
                )
        return GroupSpec(name=name, summary=s.str("summary", ""), members=tuple(members))

    def _variable(self, s: Section, folders: set[str]) -> VariableSpec:
        s.reject_unknown(["path", "description", "secret", "value"])
        path = _path_in_folders(s, folders)
        secret = s.str("secret", None, pattern=SECRET_NAME, pattern_help="must name an entry of secrets")
        value = s.str("value", None, max_length=MAX_VARIABLE_VALUE_LENGTH)
        if (secret is None) == (value is None):
            raise ConfigError(s.path, "set exactly one of 'secret' (a name in secrets) or 'value' (plain text)")
        if secret is not None and secret not in self.secret_names:
            raise ConfigError(
                s.key("secret"),
                f"{self.secrets_key}.{secret} is not set; run: "
                + config_set_command(self.secrets_key.split(":", 1)[1] + f".{secret}"),
            )
        return VariableSpec(path=path, description=s.str("description", ""), secret=secret, value=value)

    def _resource(self, s: Section, folders: set[str], types: set[str]) -> ResourceSpec:
        s.reject_unknown(["path", "type", "value", "description"])
        path = _path_in_folders(s, folders)
        resource_type = s.parse("type", check_resource_type_name)
        if resource_type.startswith("c_") and resource_type not in types:
            raise ConfigError(
                s.key("type"), f"custom type {resource_type!r} is not declared in {self.root.key('resourceTypes')}"
            )
        return ResourceSpec(
            path=path, resource_type=resource_type, value=s.mapping("value", {}),
            description=s.str("description", ""),
        )

    def _check_paths_and_references(
        self, variables: tuple[VariableSpec, ...], resources: tuple[ResourceSpec, ...]
    ) -> None:
        variable_paths = {v.path for v in variables}
        resource_paths = {r.path for r in resources}
        # References count every *declared* path, so an entry with its own problem (say, its secret
        # not set yet) is reported once, at its root cause, not again at each resource that uses it.
        declared_variables = variable_paths | self._declared_paths("variables")
        declared_resources = resource_paths | self._declared_paths("resources")
        for index, resource in enumerate(resources):
            where = f"{self.root.key('resources')}[{index}]"
            if resource.path in variable_paths:
                self.problems.add(
                    f"{where}.path",
                    f"{resource.path!r} is also a variable's path; Windmill deletes both when either is "
                    f"deleted, so give them different paths",
                )
            for location, kind, target in references(resource.value, f"{where}.value"):
                known = declared_variables if kind == "var" else declared_resources
                if target not in known:
                    self.problems.add(
                        location,
                        f"${kind}:{target} does not name a {'variable' if kind == 'var' else 'resource'} "
                        f"declared in this workspace; workspaces share no resources",
                    )


def _raw_paths(items: Any) -> set[str]:
    """The ``path`` of every mapping in a raw config list, valid or not."""
    if not isinstance(items, list):
        return set()
    return {str(item["path"]) for item in items if isinstance(item, dict) and "path" in item}


def _folder(s: Section) -> FolderSpec:
    s.reject_unknown(["name", "summary", "owners", "extraPerms"])
    owners = s.list("owners", [])
    for i, owner in enumerate(owners):
        check_principal(f"{s.key('owners')}[{i}]", owner)
    perms = s.mapping("extraPerms", {})
    for principal, write in perms.items():
        check_principal(f"{s.key('extraPerms')}.{principal}", principal)
        perms[principal] = _write_permission(f"{s.key('extraPerms')}.{principal}", write)
    return FolderSpec(
        name=s.parse("name", check_folder_name),
        summary=s.str("summary", ""),
        owners=tuple(owners),
        extra_perms=perms,
    )


def _write_permission(key: str, value: Any) -> bool:
    try:
        return check_bool(key, value)
    except ConfigError:
        raise ConfigError(key, "must be true (write) or false (read)") from None


def _member(s: Section) -> MemberSpec:
    s.reject_unknown(["email", "role", "adopt"])
    return MemberSpec(
        email=s.parse("email", check_email),
        role=s.str("role", "developer", choices=MEMBER_ROLES),
        adopt=s.bool("adopt", False),
    )


def _resource_type(s: Section) -> ResourceTypeSpec:
    s.reject_unknown(["name", "schema", "description"])
    schema = s.mapping("schema", {})
    if schema.get("type", "object") != "object":
        raise ConfigError(s.key("schema.type"), "must be 'object': a resource value is an object")
    return ResourceTypeSpec(
        name=s.parse("name", check_resource_type_name),
        schema=schema,
        description=s.str("description", ""),
    )


def _path_in_folders(s: Section, folders: set[str]) -> str:
    path = s.parse("path", check_item_path)
    if folder_of(path) not in folders:
        raise ConfigError(
            s.key("path"),
            f"must be under one of this workspace's folders (f/<folder>/…, folders: "
            f"{', '.join(sorted(folders)) or 'none declared'}); got {path!r}",
        )
    return path
