"""The workspace export, ``GET /api/w/{id}/workspaces/tarball`` (where every ``wmill sync`` starts).

Modelled on windmill-labs/windmill ``backend/windmill-api/src/workspaces_export.rs`` @
017a82c697ff96eae6d69307ac3b925670718ab7 (``tarball_workspace``, ``to_string_without_metadata``,
``ScriptMetadata``): a tar (default) or zip (``archive_type=zip``, what wmill 1.819 asks for
first) of the workspace in Windmill's export layout, read with the caller's row-level security:

* ``f/<name>/folder.meta.json`` for every folder;
* ``<path>.<ext>`` and ``<path>.script.json`` for every deployed script;
* ``<path>.flow.json``, ``<path>.resource.json``, ``<name>.resource-type.json``,
  ``<path>.variable.json`` (secrets encrypted unless ``plain_secret``), each kind dropped by its
  ``skip_*`` flag;
* with ``include_*``: ``<path>.schedule.json``, ``users/<email>.user.json``,
  ``groups/<name>.group.json``, ``settings.json``, ``encryption_key.json``.

Every JSON file is pretty-printed with the row's identity and audit keys removed. The emulator has
no apps, triggers, workspace dependencies or data-table migrations, so none are exported.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from typing import Any

from .flows import ws_flows
from .framework import Ctx, Response, Router, bad_request, not_authorized, query_bool, require_admin_error
from .members import role_of
from .runnables import FlowRow, ScriptVersion, script_extension
from .schedules import schedule_json
from .scripts import deployed_scripts
from .store import Store
from .variables import decrypt_value

# to_string_without_metadata: keys removed from every exported row.
_METADATA_KEYS = (
    "workspace_id", "path", "name", "versions", "id", "created_at", "updated_at", "created_by",
    "updated_by", "edited_at", "edited_by", "permissioned_as", "archived", "error", "last_server_ping",
    "server_id", "raw_app",
)  # fmt: skip
_SCRIPT_OPTIONAL = (
    "envs", "cache_ttl", "dedicated_worker", "priority", "tag", "timeout", "delete_after_secs",
    "restart_unless_cancelled", "visible_to_runner_only", "codebase", "has_preprocessor",
    "on_behalf_of_email", "modules", "concurrency_key", "concurrent_limit", "concurrency_time_window_s",
    "debounce_key", "debounce_delay_s", "debounce_args_to_accumulate", "max_total_debouncing_time",
    "max_total_debounces_amount", "labels",
)  # fmt: skip


def _without_metadata(row: dict[str, Any], extra_perms: str, ignore: tuple[str, ...] = ()) -> str:
    """``to_string_without_metadata``; ``extra_perms`` is ``drop``, ``keep`` or ``keep_if_non_empty``."""
    out = {k: v for k, v in row.items() if k not in _METADATA_KEYS and k not in ignore}
    if isinstance(out.get("policy"), dict):
        out["policy"] = {k: v for k, v in out["policy"].items() if k not in ("on_behalf_of", "on_behalf_of_email")}
    if "extra_perms" in out:
        empty = not out["extra_perms"]
        if extra_perms == "drop" or (extra_perms == "keep_if_non_empty" and empty):
            del out["extra_perms"]
    if out.get("default_permissioned_as") == []:
        del out["default_permissioned_as"]
    return json.dumps(out, indent=2, ensure_ascii=False)


def script_metadata(s: ScriptVersion, preserve_extra_perms: bool) -> str:
    """``<path>.script.json``: the ``ScriptMetadata`` struct (optional fields skipped when None)."""
    meta: dict[str, Any] = {
        "summary": s.summary,
        "description": s.description,
        "schema": s.schema,
        "lock": s.lock,
        "kind": s.kind,
    }
    fields = {**s.settings, "tag": s.tag}
    for key in _SCRIPT_OPTIONAL:
        if fields.get(key) is not None:
            meta[key] = fields[key]
    if s.ws_error_handler_muted:
        meta["ws_error_handler_muted"] = True
    if preserve_extra_perms and s.extra_perms:
        meta["extra_perms"] = s.extra_perms
    return json.dumps(meta, indent=2, ensure_ascii=False)


def _flow_row(f: FlowRow) -> dict[str, Any]:
    """The ``Flow`` row the export selects (newest version, no lock_error_logs/version_id)."""
    row: dict[str, Any] = {
        "summary": f.summary,
        "description": f.description,
        "value": f.latest.value,
        "archived": f.archived,
        "schema": f.latest.schema,
        "extra_perms": f.extra_perms,
    }
    optional = {"draft_only": f.draft_only, "dedicated_worker": f.dedicated_worker, "tag": f.tag}
    row.update({k: v for k, v in optional.items() if v is not None})
    if f.ws_error_handler_muted:
        row["ws_error_handler_muted"] = True
    if f.timeout is not None:
        row["timeout"] = f.timeout
    if f.visible_to_runner_only:
        row["visible_to_runner_only"] = True
    if f.on_behalf_of_email is not None:
        row["on_behalf_of_email"] = f.on_behalf_of_email
    return row


class _Archive:
    """The entries of the tar or zip, written with the entry headers Windmill's writer uses."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.entries: list[tuple[str, bytes]] = []

    def add(self, name: str, content: str) -> None:
        self.entries.append((name, content.encode()))

    def finish(self) -> bytes:
        buffer = io.BytesIO()
        if self.kind == "zip":
            # async_zip: Deflate, a zero (1980-01-01) modification date, unix mode 0777.
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
                for name, data in self.entries:
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3
                    info.external_attr = 0o100777 << 16
                    zipped.writestr(info, data)
        else:
            # tokio_tar: GNU headers, mtime 0, uid/gid 0, mode 0777.
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for name, data in self.entries:
                    header = tarfile.TarInfo(name)
                    header.size, header.mtime, header.mode = len(data), 0, 0o777
                    tar.addfile(header, io.BytesIO(data))
        return buffer.getvalue()


def _flags(ctx: Ctx) -> dict[str, bool]:
    """The ``ArchiveQueryParams`` booleans (absent = false; a bad value is axum's 400)."""
    names = (
        "plain_secret", "plain_secrets", "skip_secrets", "skip_variables", "skip_resources",
        "skip_resource_types", "include_schedules", "include_triggers", "include_users", "include_groups",
        "include_settings", "include_key", "include_workspace_dependencies", "preserve_extra_perms",
    )  # fmt: skip
    return {name: query_bool(ctx.query, name) or False for name in names}


def _write_code(ctx: Ctx, archive: _Archive, flags: dict[str, bool]) -> None:
    """Folders, scripts and flows: always exported (the CLI filters them by its own skips)."""
    store, ws, user = ctx.store, ctx.ws, ctx.user
    default_ts = ctx.query.get("default_ts")
    for folder in store.ws_folders(ws).values():
        if store.folder_visible(user, folder):
            row = {"display_name": folder.display_name, "owners": folder.owners, "extra_perms": folder.extra_perms,
                   "summary": folder.summary}  # fmt: skip
            archive.add(f"f/{folder.name}/folder.meta.json", _without_metadata(row, "keep"))
    for s in deployed_scripts(store, ws):
        if store.can_read(user, ws, s.path, s.extra_perms):
            archive.add(f"{s.path}.{script_extension(s.language, default_ts)}", s.content)
            archive.add(f"{s.path}.script.json", script_metadata(s, flags["preserve_extra_perms"]))
    perms = "keep_if_non_empty" if flags["preserve_extra_perms"] else "drop"
    for f in ws_flows(store, ws).values():
        if not f.archived and store.can_read(user, ws, f.path, f.extra_perms):
            archive.add(f"{f.path}.flow.json", _without_metadata(_flow_row(f), perms))


def _write_data(ctx: Ctx, archive: _Archive, flags: dict[str, bool]) -> None:
    """Resources, resource types and variables, unless skipped."""
    store, ws, user = ctx.store, ctx.ws, ctx.user
    if not flags["skip_resources"]:
        for r in store.ws_resources(ws).values():
            if r.resource_type not in ("state", "cache") and store.can_read(user, ws, r.path, r.extra_perms):
                row = {"value": r.value, "description": r.description, "resource_type": r.resource_type}
                archive.add(f"{r.path}.resource.json", _without_metadata(row, "drop"))
    if not flags["skip_resource_types"]:
        for t in store.ws_resource_types(ws).values():
            row = {"schema": t.schema, "description": t.description, "format_extension": t.format_extension,
                   "is_fileset": t.is_fileset}  # fmt: skip
            archive.add(f"{t.name}.resource-type.json", _without_metadata(row, "drop"))
    if not flags["skip_variables"]:
        plain = flags["plain_secret"] or flags["plain_secrets"]
        for v in store.ws_variables(ws).values():
            if v.expires_at is not None or (v.is_secret and flags["skip_secrets"]):
                continue
            if not store.can_read(user, ws, v.path, v.extra_perms):
                continue
            value = decrypt_value(store, ws, v) if plain and v.is_secret else v.value
            row = {"value": value, "is_secret": v.is_secret, "description": v.description, "account": v.account,
                   "is_oauth": v.is_oauth, "expires_at": None}  # fmt: skip
            archive.add(f"{v.path}.variable.json", _without_metadata(row, "drop"))
        if plain and not flags["skip_secrets"]:
            # Exporting decrypted secrets is audited like a per-item secret read.
            store.audit_log(user, "variables.decrypt_secret", "Execute", ws, "workspace_tarball_export")


def _write_included(ctx: Ctx, archive: _Archive, flags: dict[str, bool]) -> None:
    """Schedules, users, groups, settings and the key, when asked for."""
    store, ws, user = ctx.store, ctx.ws, ctx.user
    if flags["include_schedules"]:
        for sched in store.ws_schedules(ws).values():
            if store.can_read(user, ws, sched["path"], sched["extra_perms"]):
                archive.add(f"{sched['path']}.schedule.json", _without_metadata(schedule_json(sched), "drop"))
    if flags["include_users"]:
        for m in store.ws_members(ws).values():
            row = {"username": m.username, "role": role_of(m), "disabled": m.disabled}
            archive.add(f"users/{m.email}.user.json", _without_metadata(row, "drop"))
    if flags["include_groups"]:
        for g in store.ws_groups(ws).values():
            if g.name == "all":
                continue
            admins = sorted(k for k, v in g.extra_perms.items() if v and k[2:] in g.members)
            row = {"summary": g.summary} if g.summary is not None else {}
            row |= {"members": [f"u/{m}" for m in g.members if f"u/{m}" not in admins], "admins": admins}
            archive.add(f"groups/{g.name}.group.json", _without_metadata(row, "keep"))
    if flags["include_settings"]:
        archive.add("settings.json", _settings_v2(store, ws, user.is_admin))
    if flags["include_key"]:
        if not user.is_admin:
            raise require_admin_error(user.username)
        archive.add("encryption_key.json", json.dumps(store.workspaces[ws].key))


def _settings_v2(store: Store, ws: str, is_admin: bool) -> str:
    """``SimplifiedSettings`` (v2): the handlers and Slack OAuth keys always, the rest when set."""
    w = store.workspaces[ws]
    settings = w.settings
    out: dict[str, Any] = {}
    for key in ("auto_invite", "webhook"):
        if settings.get(key) is not None:
            out[key] = settings[key]
    out["error_handler"] = settings.get("error_handler")
    out["success_handler"] = settings.get("success_handler")
    for key in ("ai_config", "large_file_storage", "git_sync", "default_app", "default_scripts"):
        if settings.get(key) is not None:
            out[key] = settings[key]
    out["name"] = w.name
    for key in ("mute_critical_alerts", "color", "operator_settings", "datatable", "slack_team_id", "slack_name",
                "slack_command_script"):  # fmt: skip
        if settings.get(key) is not None:
            out[key] = settings[key]
    out["slack_oauth_client_id"] = settings.get("slack_oauth_client_id")
    out["slack_oauth_client_secret"] = settings.get("slack_oauth_client_secret") if is_admin else None
    return json.dumps(out, indent=2, ensure_ascii=False)


def _require_variables_read(ctx: Ctx, flags: dict[str, bool]) -> None:
    """The route needs only ``workspaces:read``; exporting *decrypted* secrets also needs
    ``variables:read`` of a scoped token (``tarball_workspace`` calls ``check_scopes``, 401
    ``Not authorized: Required scope: variables:read``; workspaces_export.rs @ 017a82c6)."""
    if not (flags["plain_secret"] or flags["plain_secrets"]) or flags["skip_secrets"] or flags["skip_variables"]:
        return
    token = ctx.user.token
    scopes = [s for s in (token.scopes or []) if not s.startswith("if_jobs:filter_tags:")] if token else []
    if scopes and not any(s in ("variables:read", "variables:write") for s in scopes):
        raise not_authorized("Required scope: variables:read")


def tarball(ctx: Ctx) -> Response:
    """GET /api/w/{id}/workspaces/tarball?archive_type=tar|zip&skip_*=…&include_*=…."""
    _require_variables_read(ctx, _flags(ctx))
    kind = ctx.query.get("archive_type", "tar")
    if kind not in ("tar", "zip"):
        raise bad_request(f"Invalid Archive Type {kind}")
    flags = _flags(ctx)
    archive = _Archive(kind)
    _write_code(ctx, archive, flags)
    _write_data(ctx, archive, flags)
    _write_included(ctx, archive, flags)
    name = f"windmill-{ctx.ws}.{kind}"
    # The server labels zip archives application/x-tar as well.
    return Response(
        status=200,
        body=archive.finish(),
        content_type="application/x-tar",
        headers=[("Content-Disposition", f'attachment; filename="{name}"')],
    )


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("GET", "/api/w/{workspace}/workspaces/tarball", tarball)
