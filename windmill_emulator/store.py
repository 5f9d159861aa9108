"""In-memory state of the emulated Windmill instance (what Postgres holds on a real server).

Besides plain tables this module models the database-side behaviour the API shows through:
path/name CHECK constraints and VARCHAR limits (400 ``SqlErr``), row-level security on items
under ``u/``, ``g/`` and ``f/`` paths, and instance usernames.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .crypto import rd_string
from .framework import DbError, now

if TYPE_CHECKING:
    from .runnables import FlowRow, ScriptVersion

DEFAULT_ADMIN_EMAIL = "admin@windmill.dev"
DEFAULT_ADMIN_PASSWORD = "changeme"
SUPERADMIN_SECRET_EMAIL = "superadmin_secret@windmill.dev"

# docs/windmill-api.md §5 / §15 item 14: item paths (variable, resource, schedule, script, flow).
PATH_RE = re.compile(r"^[ufg](/[\w-]+){2,}$")
# docs/windmill-api.md §3: workspace.id CHECK proper_id.
WORKSPACE_ID_RE = re.compile(r"^\w+(-\w+)*$")
# docs/windmill-api.md §4.2 / §6: group_ and resource_type name CHECK.
NAME_RE = re.compile(r"^[\w-]+$")


@dataclass
class InstanceUser:
    """A row of the ``password`` table: an instance-level user."""

    email: str
    password: str | None
    super_admin: bool
    username: str
    name: str | None = None
    company: str | None = None
    devops: bool = False
    login_type: str = "password"
    verified: bool = True
    first_time_user: bool = False
    # GlobalUserUpdate.disabled / GlobalUserInfo.disabled (windmill-api 1.819.0 contract).
    disabled: bool = False


@dataclass
class Token:
    """A row of the ``token`` table."""

    token: str
    email: str
    label: str | None
    super_admin: bool
    workspace_id: str | None = None
    expiration: datetime | None = None
    scopes: list[str] | None = None
    created_at: datetime = field(default_factory=now)
    last_used_at: datetime = field(default_factory=now)


@dataclass
class Workspace:
    """A workspace with its settings row and encryption key."""

    id: str
    name: str
    owner: str
    key: str
    deleted: bool = False
    premium: bool = False
    parent_workspace_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Member:
    """A ``usr`` row: membership of an email in a workspace."""

    workspace_id: str
    email: str
    username: str
    is_admin: bool
    operator: bool = False
    disabled: bool = False
    created_at: datetime = field(default_factory=now)


@dataclass
class Group:
    """A ``group_`` row plus its ``usr_to_group`` members."""

    workspace_id: str
    name: str
    summary: str | None
    extra_perms: dict[str, Any] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)


@dataclass
class Folder:
    """A ``folder`` row."""

    workspace_id: str
    name: str
    display_name: str
    owners: list[str]
    extra_perms: Any
    summary: str | None
    created_by: str | None
    edited_at: datetime = field(default_factory=now)


@dataclass
class Variable:
    """A ``variable`` row; ``value`` is the ciphertext for secrets."""

    workspace_id: str
    path: str
    value: str
    is_secret: bool
    description: str
    extra_perms: dict[str, Any] = field(default_factory=dict)
    account: int | None = None
    is_oauth: bool = False
    expires_at: datetime | None = None


@dataclass
class Resource:
    """A ``resource`` row."""

    workspace_id: str
    path: str
    value: Any
    description: str | None
    resource_type: str
    created_by: str | None
    extra_perms: dict[str, Any] = field(default_factory=dict)
    edited_at: datetime = field(default_factory=now)


@dataclass
class ResourceType:
    """A ``resource_type`` row."""

    workspace_id: str
    name: str
    schema: Any
    description: str | None
    created_by: str | None
    format_extension: str | None = None
    is_fileset: bool = False
    edited_at: datetime = field(default_factory=now)


@dataclass
class Invite:
    """A ``workspace_invite`` row."""

    workspace_id: str
    email: str
    is_admin: bool
    operator: bool


@dataclass
class InstanceGroup:
    """An ``instance_group`` row plus its ``email_to_igroup`` members."""

    name: str
    summary: str | None
    emails: list[str] = field(default_factory=list)
    instance_role: str | None = None


@dataclass
class Authed:
    """Who is calling (Windmill's ``ApiAuthed``)."""

    email: str
    username: str
    is_admin: bool
    is_super_admin: bool
    operator: bool = False
    groups: list[str] = field(default_factory=list)
    token: Token | None = None
    member: Member | None = None


class Store:
    """All tables of the emulated instance, guarded by one re-entrant lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, InstanceUser] = {}
        self.pending_usernames: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.workspaces: dict[str, Workspace] = {}
        self.members: dict[str, dict[str, Member]] = {}
        self.groups: dict[str, dict[str, Group]] = {}
        self.folders: dict[str, dict[str, Folder]] = {}
        self.variables: dict[str, dict[str, Variable]] = {}
        self.resources: dict[str, dict[str, Resource]] = {}
        self.resource_types: dict[str, dict[str, ResourceType]] = {}
        self.schedules: dict[str, dict[str, dict[str, Any]]] = {}
        self.scripts: dict[str, list[ScriptVersion]] = {}  # every deployed version, oldest first
        self.flows: dict[str, dict[str, FlowRow]] = {}
        self.invites: dict[str, dict[str, Invite]] = {}
        self.global_settings: dict[str, Any] = {}
        self.instance_groups: dict[str, InstanceGroup] = {}
        self.configs: dict[str, Any] = {}  # the ``config`` table (``worker__<group>`` rows)
        self.audit: list[dict[str, Any]] = []
        self.scheduled_jobs: list[dict[str, Any]] = []

    # ---------------------------------------------------------------- tables per workspace

    def ensure_ws_tables(self, ws: str) -> None:
        """Create the per-workspace dicts (tables are keyed by workspace_id)."""
        for table in (
            self.members,
            self.groups,
            self.folders,
            self.variables,
            self.resources,
            self.resource_types,
            self.schedules,
            self.invites,
        ):
            table.setdefault(ws, {})

    def drop_ws_rows(self, ws: str) -> None:
        """Delete every row that belongs to a workspace (workspace delete)."""
        for table in (
            self.members,
            self.groups,
            self.folders,
            self.variables,
            self.resources,
            self.resource_types,
            self.schedules,
            self.invites,
            self.scripts,
            self.flows,
        ):
            table.pop(ws, None)
        for tok in [t for t, row in self.tokens.items() if row.workspace_id == ws]:
            del self.tokens[tok]

    def ws_members(self, ws: str) -> dict[str, Member]:
        return self.members.get(ws, {})

    def ws_groups(self, ws: str) -> dict[str, Group]:
        return self.groups.get(ws, {})

    def ws_folders(self, ws: str) -> dict[str, Folder]:
        return self.folders.get(ws, {})

    def ws_variables(self, ws: str) -> dict[str, Variable]:
        return self.variables.get(ws, {})

    def ws_resources(self, ws: str) -> dict[str, Resource]:
        return self.resources.get(ws, {})

    def ws_resource_types(self, ws: str) -> dict[str, ResourceType]:
        return self.resource_types.get(ws, {})

    def ws_schedules(self, ws: str) -> dict[str, dict[str, Any]]:
        return self.schedules.get(ws, {})

    def member_by_email(self, ws: str, email: str) -> Member | None:
        for m in self.ws_members(ws).values():
            if m.email == email:
                return m
        return None

    def groups_of(self, ws: str, username: str) -> list[str]:
        """Names of the groups ``username`` belongs to (``usr_to_group``), sorted."""
        return sorted(g.name for g in self.ws_groups(ws).values() if username in g.members)

    # ---------------------------------------------------------------- usernames

    def taken_usernames(self) -> set[str]:
        taken = {u.username for u in self.users.values()}
        taken |= set(self.pending_usernames.values())
        for members in self.members.values():
            taken |= set(members)
        return taken

    def generate_username(self, email: str) -> str:
        """docs/windmill-api.md §3: email local part without non-[A-Za-z0-9_] chars, then 2, 3… on collision."""
        base = re.sub(r"[^A-Za-z0-9_]", "", email.split("@", 1)[0]) or "user"
        taken = self.taken_usernames()
        if base not in taken:
            return base
        n = 2
        while f"{base}{n}" in taken:
            n += 1
        return f"{base}{n}"

    def instance_username(self, email: str) -> str:
        """``get_instance_username_or_create_pending``: reuse or reserve the instance-wide username."""
        user = self.users.get(email)
        if user is not None:
            return user.username
        if email in self.pending_usernames:
            return self.pending_usernames[email]
        username = self.generate_username(email)
        self.pending_usernames[email] = username
        return username

    def is_super_admin_email(self, email: str, superadmin_secret: str | None) -> bool:
        """``require_super_admin`` looks the email up in the DB (the virtual superadmin counts)."""
        if superadmin_secret is not None and email == SUPERADMIN_SECRET_EMAIL:
            return True
        user = self.users.get(email)
        return bool(user and user.super_admin)

    # ---------------------------------------------------------------- audit

    def audit_log(self, authed: Authed | None, operation: str, action: str, ws: str, resource: str | None) -> None:
        """Append an audit entry (Windmill's ``audit_log``)."""
        self.audit.append(
            {
                "timestamp": now(),
                "workspace_id": ws,
                "username": authed.username if authed else "anonymous",
                "email": authed.email if authed else None,
                "operation": operation,
                "action_kind": action,
                "resource": resource,
            }
        )

    # ---------------------------------------------------------------- permissions (RLS)

    def principals(self, authed: Authed) -> set[str]:
        """``u/<username>`` plus ``g/<group>`` for every group of the caller."""
        return {f"u/{authed.username}"} | {f"g/{g}" for g in authed.groups}

    def folder_visible(self, authed: Authed, folder: Folder) -> bool:
        """Folder SELECT policy: admins, owners, and principals named in extra_perms."""
        if authed.is_admin:
            return True
        mine = self.principals(authed)
        perms = folder.extra_perms if isinstance(folder.extra_perms, dict) else {}
        return bool(mine & set(folder.owners)) or bool(mine & set(perms))

    def folder_owner(self, authed: Authed, folder: Folder) -> bool:
        """Admins and principals listed in ``owners``."""
        return authed.is_admin or bool(self.principals(authed) & set(folder.owners))

    def folder_writable(self, authed: Authed, folder: Folder) -> bool:
        """Principals with ``true`` in the folder's extra_perms (owners are always forced true)."""
        if self.folder_owner(authed, folder):
            return True
        perms = folder.extra_perms if isinstance(folder.extra_perms, dict) else {}
        return any(perms.get(p) is True for p in self.principals(authed))

    def can_read(self, authed: Authed, ws: str, path: str, extra_perms: dict[str, Any]) -> bool:
        """Row-level security for SELECT on an item at ``path`` (docs/windmill-api.md §5)."""
        if authed.is_admin:
            return True
        mine = self.principals(authed)
        if mine & set(extra_perms):
            return True
        parts = path.split("/")
        if len(parts) < 2:
            return False
        if parts[0] == "u":
            return parts[1] == authed.username
        if parts[0] == "g":
            return parts[1] in authed.groups
        if parts[0] == "f":
            folder = self.ws_folders(ws).get(parts[1])
            return folder is not None and self.folder_visible(authed, folder)
        return False

    def can_write(self, authed: Authed, ws: str, path: str, extra_perms: dict[str, Any]) -> bool:
        """Row-level security for INSERT/UPDATE/DELETE on an item at ``path`` (docs/windmill-api.md §5)."""
        if authed.is_admin:
            return True
        mine = self.principals(authed)
        if any(extra_perms.get(p) is True for p in mine):
            return True
        parts = path.split("/")
        if len(parts) < 2:
            return False
        if parts[0] == "u":
            return parts[1] == authed.username
        if parts[0] == "g":
            return parts[1] in authed.groups
        if parts[0] == "f":
            folder = self.ws_folders(ws).get(parts[1])
            return folder is not None and self.folder_writable(authed, folder)
        return False

    # ---------------------------------------------------------------- DB constraints

    def check_item_row(
        self,
        authed: Authed,
        ws: str,
        table: str,
        path: str,
        location: str,
        *,
        extra_perms: dict[str, Any] | None = None,
    ) -> None:
        """Constraints Postgres applies when a variable/resource/schedule row is written.

        Order as in Postgres' ExecInsert: VARCHAR length (coercion), RLS WITH CHECK, CHECK
        constraints, then the workspace foreign key.
        """
        if len(path) > 255:
            raise DbError("value too long for type character varying(255)", location=location)
        if not self.can_write(authed, ws, path, extra_perms or {}):
            # docs/windmill-api.md §5: RLS violations surface as 400 SqlErr.
            raise DbError(f'new row violates row-level security policy for table "{table}"', location=location)
        if not PATH_RE.match(path):
            # docs/windmill-api.md §5: path CHECK proper_id.
            raise DbError(f'new row for relation "{table}" violates check constraint "proper_id"', location=location)
        self.check_ws_fk(ws, table, location)

    def check_ws_fk(self, ws: str, table: str, location: str) -> None:
        """The ``<table>_workspace_id_fkey`` foreign key (a superadmin can address any workspace id)."""
        if ws not in self.workspaces:
            raise DbError(
                f'insert or update on table "{table}" violates foreign key constraint "{table}_workspace_id_fkey"',
                location=location,
            )

    def new_workspace_key(self) -> str:
        """docs/windmill-api.md §3: a random 64-character encryption key per workspace."""
        return rd_string(64)
