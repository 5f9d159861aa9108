"""Rows of the ``script``, ``flow`` and ``flow_version`` tables, and what scripts and flows share.

Modelled on Windmill's own types (windmill-labs/windmill):

* ``backend/windmill-types/src/scripts.rs`` @ f854c447356a93f29f64c94324143c3d6a1810c2: ``Script``,
  ``NewScript``, ``ScriptHash`` (an i64 shown as 16 hex digits), ``ScriptLang``, ``ScriptKind``;
* ``backend/windmill-types/src/flows.rs`` @ e700979a561c59c2f44f4f4218fc70ddb2f8c7bc: ``Flow``,
  ``FlowWithStarred``, ``ListableFlow``, ``NewFlow``;
* ``backend/windmill-api/src/workspaces_export.rs`` @ 017a82c697ff96eae6d69307ac3b925670718ab7:
  the file extension each language gets in a workspace export.

Every deployed version of a script is its own row (keyed by hash); a flow is one row with a list
of versions. The emulator runs no workers, so the dependency jobs a deploy queues never run and
``lock`` stays what the client sent (Windmill's server fills it in later).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .framework import Ctx, not_authorized, now

# ScriptLang, in the enum's order (serde lowercase names).
LANGUAGES = (
    "nativets", "deno", "python3", "go", "bash", "powershell", "postgresql", "bun", "bunnative", "mysql",
    "bigquery", "snowflake", "graphql", "mssql", "oracledb", "duckdb", "php", "rust", "ansible", "csharp",
    "nu", "java", "ruby",
)  # fmt: skip
SCRIPT_KINDS = ("trigger", "failure", "script", "approval", "preprocessor")

# workspaces_export.rs: the extension of a script's content file in an export; ``deno`` and ``bun``
# swap with ``default_ts`` (bun by default in wmill.yaml).
_EXTENSIONS = {
    "python3": "py", "go": "go", "bash": "sh", "powershell": "ps1", "postgresql": "pg.sql",
    "mysql": "my.sql", "bigquery": "bq.sql", "snowflake": "sf.sql", "mssql": "ms.sql",
    "duckdb": "duckdb.sql", "graphql": "gql", "nativets": "fetch.ts", "php": "php", "rust": "rs",
    "ansible": "playbook.yml", "csharp": "cs", "nu": "nu", "oracledb": "odb.sql", "java": "java",
    "ruby": "rb",
}  # fmt: skip

# Optional ``NewScript`` fields stored as sent and returned by ``GET scripts/get/p`` when set
# (``Script`` skips them when None); the runnable settings are flattened into the object.
SCRIPT_SETTINGS = (
    "envs", "dedicated_worker", "priority", "cache_ttl", "cache_ignore_s3_path", "timeout",
    "delete_after_use", "delete_after_secs", "restart_unless_cancelled", "visible_to_runner_only",
    "no_main_func", "codebase", "has_preprocessor", "on_behalf_of_email", "assets", "modules", "labels",
    "concurrency_key", "concurrent_limit", "concurrency_time_window_s", "debounce_key", "debounce_delay_s",
    "debounce_args_to_accumulate", "max_total_debouncing_time", "max_total_debounces_amount",
)  # fmt: skip


def script_extension(language: str, default_ts: str | None) -> str:
    """The export file extension of a script (``f/x/y.<ext>``)."""
    bun_default = default_ts == "bun"
    if language == "deno":
        return "deno.ts" if bun_default else "ts"
    if language in ("bun", "bunnative"):
        return "ts" if bun_default else "bun.ts"
    return _EXTENSIONS[language]


def hash_hex(value: int) -> str:
    """``ScriptHash`` as serialized: the i64 as 16 lower-case hex digits."""
    return f"{value & 0xFFFFFFFFFFFFFFFF:016x}"


def parse_hash(text_: str) -> int | None:
    """The i64 of a hex hash, None when it is not one (``to_i64``)."""
    try:
        raw = int(text_, 16)
    except ValueError:
        return None
    if raw >= 1 << 64:
        return None
    return raw - (1 << 64) if raw >= 1 << 63 else raw


def hash_new_script(body: dict[str, Any]) -> int:
    """A stable i64 for a ``NewScript`` (Windmill hashes the whole struct, parent hash included)."""
    payload = {k: v for k, v in body.items() if k != "__keys__"}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass
class ScriptVersion:
    """One ``script`` row: a deployed version of the script at ``path``."""

    workspace_id: str
    hash: int
    path: str
    parent_hashes: list[int] | None
    summary: str
    description: str
    content: str
    created_by: str
    schema: Any
    language: str
    kind: str
    lock: str | None
    tag: str | None = None
    is_template: bool = False
    draft_only: bool | None = None
    ws_error_handler_muted: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    extra_perms: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    deleted: bool = False
    created_at: datetime = field(default_factory=now)


@dataclass
class FlowVersion:
    """One ``flow_version`` row."""

    id: int
    path: str
    value: Any
    schema: Any
    created_by: str
    created_at: datetime = field(default_factory=now)


@dataclass
class FlowRow:
    """A ``flow`` row and its versions (the last one is the deployed flow)."""

    workspace_id: str
    path: str
    summary: str
    description: str
    versions: list[FlowVersion]
    tag: str | None = None
    draft_only: bool | None = None
    dedicated_worker: bool | None = None
    timeout: int | None = None
    visible_to_runner_only: bool = False
    on_behalf_of_email: str | None = None
    ws_error_handler_muted: bool = False
    extra_perms: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    lock_error_logs: str = ""

    @property
    def latest(self) -> FlowVersion:
        return self.versions[-1]


def require_owner_of_path(ctx: Ctx, path: str) -> None:
    """``require_owner_of_path``: admins, ``u/<me>/…``, groups I belong to, folders I own."""
    a, store = ctx.user, ctx.store
    if a.is_admin:
        return
    parts = path.split("/")
    if len(parts) >= 2:
        kind, name = parts[0], parts[1]
        if kind == "u" and name == a.username:
            return
        if kind == "g" and name in a.groups:
            return
        folder = store.ws_folders(ctx.ws).get(name) if kind == "f" else None
        if folder is not None and store.folder_owner(a, folder):
            return
    raise not_authorized(f"You are not owner of the path {path}")
