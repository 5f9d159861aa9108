"""``WindmillWorkspace``: one HomeOps workspace and everything it holds.

The same component builds the platform workspace and every domain workspace; only its
configuration differs. It applies the conventions of the HomeOps architecture document:

* every variable and resource lives under one of the workspace's own folders (``f/<folder>/…``),
  so platform items sit under platform folders and domain items under the domain's folders;
* no resource is shared across workspaces: a resource value may only reference (``$var:`` /
  ``$res:``) variables and resources declared in the same workspace, and secret values come from
  this stack's own ``secrets`` config;
* group members are members declared in the same workspace (by email), so a group never names a
  user the workspace does not know.

Config errors name the config key (``homeops-windmill:workspace.variables[2].secret: …``) and are
raised before any resource is declared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .config.errors import ConfigError, ConfigErrors
from .config.values import Section, check_str
from .windmill.base import ITEM_PATH_RULE, WORKSPACE_ID_RULE, Connection, validate_workspace_id
from .windmill.folders import Folder, FolderArgs
from .windmill.groups import Group, GroupArgs
from .windmill.members import ROLES, Member, MemberArgs
from .windmill.resource_types import ResourceType, ResourceTypeArgs
from .windmill.resources import Resource, ResourceArgs, references
from .windmill.tokens import Token, TokenArgs
from .windmill.variables import MAX_VALUE_LENGTH, Variable, VariableArgs
from .windmill.workspaces import DELETION_MODES, Workspace, WorkspaceArgs

PROJECT = "homeops-windmill"
FOLDER_NAME = r"[a-zA-Z_0-9]+"
SECRET_NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # noqa: S105 - a name pattern, not a secret


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

    @staticmethod
    def from_config(
        data: Any,
        *,
        secret_names: set[str],
        default_id: str | None = None,
        key: str = f"{PROJECT}:workspace",
        secrets_key: str = f"{PROJECT}:secrets",
    ) -> WindmillWorkspaceArgs:
        """Parse and check the ``workspace`` config object; raise ConfigErrors naming each key."""
        return _WorkspaceParser(data, key, secrets_key, secret_names, default_id).parse()


class _WorkspaceParser:
    """Collects every problem of a workspace config instead of stopping at the first."""

    def __init__(
        self, data: Any, key: str, secrets_key: str, secret_names: set[str], default_id: str | None
    ) -> None:
        self.errors: list[ConfigError] = []
        self.key = key
        self.secrets_key = secrets_key
        self.secret_names = secret_names
        self.default_id = default_id
        try:
            self.root = Section(data if data is not None else {}, key)
        except ConfigError as error:
            raise ConfigErrors([error]) from None

    def guard(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as error:
            self.errors.append(error)
        except ConfigErrors as many:
            self.errors.extend(many.errors)
        return None

    def parse(self) -> WindmillWorkspaceArgs:
        root = self.root
        self.guard(
            root.reject_unknown,
            ["id", "name", "color", "deletionMode", "adopt", "folders", "members", "groups",
             "resourceTypes", "variables", "resources"],
        )
        ws_id = self.guard(self._workspace_id)
        name = self.guard(root.str, "name", ws_id or "", max_length=50)
        color = self.guard(root.str, "color", None, pattern=r"#[0-9a-fA-F]{6}", pattern_help="must be #rrggbb")
        deletion_mode = self.guard(root.str, "deletionMode", "archive", choices=DELETION_MODES)
        adopt = self.guard(root.bool, "adopt", False)
        folders = self._list("folders", self._folder, identity=lambda f: f.name)
        members = self._list("members", self._member, identity=lambda m: m.email)
        groups = self._list("groups", lambda s: self._group(s, {m.email for m in members}), identity=lambda g: g.name)
        types = self._list("resourceTypes", self._resource_type, identity=lambda t: t.name)
        folder_names = {f.name for f in folders}
        variables = self._list("variables", lambda s: self._variable(s, folder_names), identity=lambda v: v.path)
        resources = self._list(
            "resources", lambda s: self._resource(s, folder_names, {t.name for t in types}),
            identity=lambda r: r.path,
        )
        self._check_paths_andreferences(variables, resources)
        if self.errors:
            raise ConfigErrors(self.errors)
        return WindmillWorkspaceArgs(
            id=ws_id, name=name or ws_id, color=color, deletion_mode=deletion_mode or "archive",
            adopt=bool(adopt), folders=folders, members=members, groups=groups, resource_types=types,
            variables=variables, resources=resources,
        )

    def _workspace_id(self) -> str:
        value = self.root.str("id", self.default_id)
        if value is None:
            raise ConfigError(self.root.key("id"), "is required")
        problem = validate_workspace_id(value)
        if problem:
            raise ConfigError(self.root.key("id"), problem if value in ("global", "admins", "starter")
                              else f"{WORKSPACE_ID_RULE}; got {value!r}")
        return value

    def _list(self, name: str, parse: Any, identity: Any) -> tuple[Any, ...]:
        sections = self.guard(self.root.sections, name) or []
        items: list[Any] = []
        seen: dict[Any, str] = {}
        for section in sections:
            item = self.guard(parse, section)
            if item is None:
                continue
            ident = identity(item)
            if ident in seen:
                self.errors.append(ConfigError(section.path, f"{ident!r} is declared twice (also at {seen[ident]})"))
                continue
            seen[ident] = section.path
            items.append(item)
        return tuple(items)

    def _folder(self, s: Section) -> FolderSpec:
        s.reject_unknown(["name", "summary", "owners", "extraPerms"])
        owners = s.list("owners", [])
        for i, owner in enumerate(owners):
            check_str(f"{s.key('owners')}[{i}]", owner, pattern=r"[ug]/[\w.@+-]+",
                      pattern_help="must be u/<username> or g/<group>")
        perms = s.mapping("extraPerms", {})
        for principal, write in perms.items():
            check_str(f"{s.key('extraPerms')}.{principal}", principal, pattern=r"[ug]/[\w.@+-]+",
                      pattern_help="keys must be u/<username> or g/<group>")
            if not isinstance(write, bool):
                raise ConfigError(f"{s.key('extraPerms')}.{principal}", "must be true (write) or false (read)")
        return FolderSpec(
            name=s.str("name", pattern=FOLDER_NAME, pattern_help="may contain only letters, digits and '_' "
                       "(Windmill refuses hyphens in folder names)"),
            summary=s.str("summary", ""),
            owners=tuple(owners),
            extra_perms=perms,
        )

    def _member(self, s: Section) -> MemberSpec:
        s.reject_unknown(["email", "role", "adopt"])
        return MemberSpec(
            email=s.str("email", pattern=r"[^A-Z\s@]+@[^A-Z\s@]+\.[^A-Z\s@]+",
                        pattern_help="must be a lowercase email address"),
            role=s.str("role", "developer", choices=ROLES),
            adopt=s.bool("adopt", False),
        )

    def _group(self, s: Section, member_emails: set[str]) -> GroupSpec:
        s.reject_unknown(["name", "summary", "members"])
        name = s.str("name", pattern=r"[\w-]+", pattern_help="may contain only letters, digits, '_' and '-'")
        if name == "all":
            raise ConfigError(s.key("name"), "'all' is Windmill's built-in group and cannot be managed")
        members = s.list("members", [])
        for i, email in enumerate(members):
            if email not in member_emails:
                raise ConfigError(
                    f"{s.key('members')}[{i}]",
                    f"{email!r} is not declared in {self.root.key('members')}; declare the member first",
                )
        return GroupSpec(name=name, summary=s.str("summary", ""), members=tuple(members))

    def _resource_type(self, s: Section) -> ResourceTypeSpec:
        s.reject_unknown(["name", "schema", "description"])
        schema = s.mapping("schema", {})
        if schema.get("type", "object") != "object":
            raise ConfigError(s.key("schema.type"), "must be 'object': a resource value is an object")
        return ResourceTypeSpec(
            name=s.str("name", pattern=r"[\w-]{1,50}", pattern_help="must be 1 to 50 letters, digits, '_' or '-'"),
            schema=schema,
            description=s.str("description", ""),
        )

    def _item_path(self, s: Section, folders: set[str]) -> str:
        path = s.str("path", pattern=r"[ufg](/[\w-]+){2,}", pattern_help=ITEM_PATH_RULE, max_length=255)
        parts = path.split("/")
        if parts[0] != "f" or parts[1] not in folders:
            raise ConfigError(
                s.key("path"),
                f"must be under one of this workspace's folders (f/<folder>/…, folders: "
                f"{', '.join(sorted(folders)) or 'none declared'}); got {path!r}",
            )
        return path

    def _variable(self, s: Section, folders: set[str]) -> VariableSpec:
        s.reject_unknown(["path", "description", "secret", "value"])
        path = self._item_path(s, folders)
        secret = s.str("secret", None, pattern=SECRET_NAME, pattern_help="must name an entry of secrets")
        value = s.str("value", None, max_length=MAX_VALUE_LENGTH)
        if (secret is None) == (value is None):
            raise ConfigError(s.path, "set exactly one of 'secret' (a name in secrets) or 'value' (plain text)")
        if secret is not None and secret not in self.secret_names:
            raise ConfigError(
                s.key("secret"),
                f"{self.secrets_key}.{secret} is not set; run: "
                f"pulumi config set --secret --path '{self.secrets_key.split(':', 1)[1]}.{secret}' <value>",
            )
        return VariableSpec(path=path, description=s.str("description", ""), secret=secret, value=value)

    def _resource(self, s: Section, folders: set[str], types: set[str]) -> ResourceSpec:
        s.reject_unknown(["path", "type", "value", "description"])
        path = self._item_path(s, folders)
        resource_type = s.str("type", pattern=r"[\w-]{1,50}", pattern_help="must be a resource type name")
        if resource_type.startswith("c_") and resource_type not in types:
            raise ConfigError(
                s.key("type"), f"custom type {resource_type!r} is not declared in {self.root.key('resourceTypes')}"
            )
        return ResourceSpec(
            path=path, resource_type=resource_type, value=s.mapping("value", {}),
            description=s.str("description", ""),
        )

    def _check_paths_andreferences(
        self, variables: tuple[VariableSpec, ...], resources: tuple[ResourceSpec, ...]
    ) -> None:
        variable_paths = {v.path for v in variables}
        resource_paths = {r.path for r in resources}
        for index, resource in enumerate(resources):
            where = f"{self.root.key('resources')}[{index}]"
            if resource.path in variable_paths:
                self.errors.append(ConfigError(
                    f"{where}.path",
                    f"{resource.path!r} is also a variable's path; Windmill deletes both when either is "
                    f"deleted, so give them different paths",
                ))
            for location, kind, target in references(resource.value, f"{where}.value"):
                known = variable_paths if kind == "var" else resource_paths
                if target not in known:
                    self.errors.append(ConfigError(
                        location,
                        f"${kind}:{target} does not name a {'variable' if kind == 'var' else 'resource'} "
                        f"declared in this workspace; workspaces share no resources",
                    ))


class WindmillWorkspace(pulumi.ComponentResource):
    """A Windmill workspace with its folders, members, groups, resource types, variables and
    resources, all parented to this component.

    ``ready_after`` lists resources that must exist before the first API call (the platform
    stack's readiness gate). ``sync_token_label`` mints an API token limited to this workspace for
    its GitHub sync workflow (``sync_token``, a secret).

    Outputs: ``workspace_id``, ``url`` (the workspace in the Windmill UI), ``folder_paths``,
    ``variable_paths`` and ``resource_paths``. No registered output carries a secret value.
    """

    workspace_id: pulumi.Output[str]
    url: pulumi.Output[str]
    folder_paths: pulumi.Output[list[str]]
    variable_paths: pulumi.Output[list[str]]
    resource_paths: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: WindmillWorkspaceArgs,
        *,
        secrets: Mapping[str, pulumi.Input[str]],
        connection: Connection,
        base_url: pulumi.Input[str],
        ready_after: Sequence[pulumi.Resource] = (),
        sync_token_label: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homeops:windmill:WindmillWorkspace", name, None, opts)
        ws = args.id
        # The workspace is the root of everything below, so waiting for it waits for the instance.
        child = pulumi.ResourceOptions(parent=self, depends_on=list(ready_after))

        self.workspace = Workspace(
            f"{name}-workspace",
            WorkspaceArgs(workspace_id=ws, name=args.name, color=args.color,
                          deletion_mode=args.deletion_mode, adopt=args.adopt),
            opts=child, connection=connection,
        )
        inside = pulumi.ResourceOptions(parent=self, depends_on=[self.workspace])

        self.members = {
            m.email: Member(
                f"{name}-member-{m.email}", MemberArgs(workspace=ws, email=m.email, role=m.role, adopt=m.adopt),
                opts=inside, connection=connection,
            )
            for m in args.members
        }
        self.groups = {
            g.name: Group(
                f"{name}-group-{g.name}",
                GroupArgs(workspace=ws, name=g.name, summary=g.summary,
                          members=[self.members[email].username for email in g.members]),
                opts=inside, connection=connection,
            )
            for g in args.groups
        }
        self.folders = {
            f.name: Folder(
                f"{name}-folder-{f.name}",
                FolderArgs(workspace=ws, name=f.name, summary=f.summary, owners=list(f.owners),
                           extra_perms=dict(f.extra_perms)),
                # A folder owned by a group of this workspace waits for that group.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[
                    self.workspace,
                    *(self.groups[p[2:]] for p in (*f.owners, *f.extra_perms) if p[2:] in self.groups),
                ]),
                connection=connection,
            )
            for f in args.folders
        }
        self.resource_types = {
            t.name: ResourceType(
                f"{name}-type-{t.name}",
                ResourceTypeArgs(workspace=ws, name=t.name, schema=dict(t.schema), description=t.description),
                opts=inside, connection=connection,
            )
            for t in args.resource_types
        }
        self.variables: dict[str, Variable] = {}
        for v in args.variables:
            folder = self.folders[v.path.split("/")[1]]
            value: pulumi.Input[str] = secrets[v.secret] if v.secret is not None else (v.value or "")
            self.variables[v.path] = Variable(
                f"{name}-var-{v.path}",
                VariableArgs(workspace=ws, path=v.path, value=value, is_secret=v.is_secret,
                             description=v.description),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.workspace, folder]),
                connection=connection,
            )
        self.resources: dict[str, Resource] = {}
        for r in args.resources:
            needs: list[pulumi.Resource] = [self.workspace, self.folders[r.path.split("/")[1]]]
            if r.resource_type in self.resource_types:
                needs.append(self.resource_types[r.resource_type])
            needs.extend(self.variables[t] for _, k, t in references(r.value, "") if k == "var")
            self.resources[r.path] = Resource(
                f"{name}-resource-{r.path}",
                ResourceArgs(workspace=ws, path=r.path, resource_type=r.resource_type, value=dict(r.value),
                             description=r.description),
                opts=pulumi.ResourceOptions(parent=self, depends_on=needs),
                connection=connection,
            )
        # $res: references need no ordering: Windmill resolves them when a job reads the resource.

        self.sync_token: pulumi.Output[str] | None = None
        if sync_token_label is not None:
            token = Token(
                f"{name}-sync-token", TokenArgs(label=sync_token_label, workspace=ws),
                opts=inside, connection=connection,
            )
            self.sync_token = pulumi.Output.secret(token.token)
        self.workspace_id = self.workspace.workspace_id
        self.url = pulumi.Output.concat(pulumi.Output.from_input(base_url).apply(lambda u: u.rstrip("/")),
                                        "/?workspace=", ws)
        self.folder_paths = pulumi.Output.from_input([f"f/{f.name}" for f in args.folders])
        self.variable_paths = pulumi.Output.from_input([v.path for v in args.variables])
        self.resource_paths = pulumi.Output.from_input([r.path for r in args.resources])
        self.register_outputs({
            "workspace_id": self.workspace_id,
            "url": self.url,
            "folder_paths": self.folder_paths,
            "variable_paths": self.variable_paths,
            "resource_paths": self.resource_paths,
        })
