"""Read a live Windmill workspace: who may import it, and everything it holds, by kind.

Only documented routes of the Windmill API (checked against the windmill-api 1.819.0 contract:
``users/whoami``, ``workspaces/list``, ``workspaces/get_as_superadmin``, ``folders/list``,
``groups/list``/``get``, ``users/list``, ``resources/type/list``, ``variables/list``,
``resources/list``/``get``, ``schedules/list``/``get``, ``workspaces/get_settings``,
``variables/list_contextual``, and the lists of scripts, flows, apps and the eleven trigger kinds).
Nothing here writes, and no secret is read: ``secret_value`` is called only when the operator asks
for values to be copied into the stack's encrypted config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.windmill.client import WindmillClient, quote_path
from components.windmill.errors import ApiError, NotFoundError, UnauthorizedError
from components.windmill.rules import validate_workspace_id

PER_PAGE = 1000
TRIGGER_KINDS = ("http", "websocket", "kafka", "nats", "postgres", "mqtt", "amqp", "sqs", "gcp", "azure", "email")
SYNCED = "reaches Windmill through the GitHub sync workflow (wmill sync push), not through a stack"
# (kind, list route under /w/<id>/, why the project does not model it)
UNMODELLED: tuple[tuple[str, str, str], ...] = (
    ("script", "scripts/list", SYNCED),
    ("flow", "flows/list", SYNCED),
    ("app", "apps/list", SYNCED),
    ("raw app", "raw_apps/list", SYNCED),
    *((f"{kind} trigger", f"{kind}_triggers/list", "triggers are not modelled by this project")
      for kind in TRIGGER_KINDS),
)


class ImportRefused(Exception):
    """The workspace cannot be imported with this token; the message says why and what to do."""


@dataclass(frozen=True)
class Unmodelled:
    """An object the project cannot declare: listed in the report, never dropped silently."""

    kind: str
    name: str
    reason: str


@dataclass
class LiveWorkspace:
    """Everything one workspace holds, as Windmill answers (secret values never included)."""

    id: str
    name: str
    color: str | None
    members: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    folders: list[dict[str, Any]] = field(default_factory=list)
    resource_types: list[dict[str, Any]] = field(default_factory=list)
    variables: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, str] = field(default_factory=dict)
    unmodelled: list[Unmodelled] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def pages(client: WindmillClient, path: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Every item of a paginated list route (a route that ignores paging answers once)."""
    items: list[Any] = []
    previous: list[Any] | None = None
    page = 1
    while True:
        batch = client.get_json(path, {**(params or {}), "page": page, "per_page": PER_PAGE})
        if not isinstance(batch, list) or batch == previous:
            return items  # a route that ignores paging answers the same page again
        items.extend(batch)
        if len(batch) < PER_PAGE:
            return items
        previous, page = batch, page + 1


def check_access(client: WindmillClient, ws: str) -> dict[str, Any]:
    """The workspace as Windmill describes it, after refusing what cannot be imported: ``admins``,
    an invalid or unknown id, an archived workspace, a token that is not a workspace admin's or a
    superadmin's."""
    if ws == "admins":
        raise ImportRefused(
            "'admins' is Windmill's instance-administration workspace (hub resource types, instance scripts), "
            "not a HomeOps workspace; no stack manages it. Import homeops-platform or a domain workspace instead"
        )
    problem = validate_workspace_id(ws)
    if problem:
        raise ImportRefused(f"workspace id {ws!r}: {problem}")
    is_admin, is_super_admin = _caller(client, ws)
    if not (is_admin or is_super_admin):
        raise ImportRefused(
            f"the token's user is not an admin of {ws!r}: a developer or operator sees only what row-level "
            "security lets them see, so the import would silently miss objects. Use a token of a workspace "
            "admin or of a superadmin"
        )
    found = _workspace(client, ws, is_super_admin)
    if found.get("deleted"):
        raise ImportRefused(
            f"workspace {ws!r} is archived. Unarchive it first (Instance settings > Workspaces, or POST "
            f"/api/workspaces/unarchive/{ws} as a superadmin) if it should be managed again"
        )
    return found


def _caller(client: WindmillClient, ws: str) -> tuple[bool, bool]:
    try:
        me = client.get_json(f"/w/{ws}/users/whoami")
    except UnauthorizedError:
        raise ImportRefused(
            f"the token is not accepted in workspace {ws!r}: its user is neither a member nor a superadmin, "
            "or the token is limited to another workspace"
        ) from None
    except NotFoundError:  # a superadmin who is not a member may have no row to describe
        me = client.get_json("/users/whoami")
        return bool(me.get("super_admin")), bool(me.get("super_admin"))
    return bool(me.get("is_admin")), bool(me.get("is_super_admin"))


def _workspace(client: WindmillClient, ws: str, is_super_admin: bool) -> dict[str, Any]:
    if is_super_admin:
        found = client.get_or_none(f"/w/{ws}/workspaces/get_as_superadmin")
        if found is None:
            raise ImportRefused(f"workspace {ws!r} does not exist on this instance")
        return dict(found)
    try:
        mine = client.get_json("/workspaces/list")
    except UnauthorizedError:  # a token limited to the workspace cannot list; whoami already answered
        return {"id": ws, "name": client.request("GET", f"/w/{ws}/workspaces/get_workspace_name").text}
    for item in mine:
        if item.get("id") == ws:
            return dict(item)
    # whoami answered, so the user is a member: Windmill lists only workspaces that are not archived.
    return {"id": ws, "deleted": True}


def read_workspace(client: WindmillClient, ws: str, described: dict[str, Any]) -> LiveWorkspace:
    """Everything the workspace holds; lists this token cannot read become notes."""
    live = LiveWorkspace(id=ws, name=str(described.get("name") or ws), color=described.get("color"))
    base = f"/w/{ws}"
    live.members = list(client.get_json(f"{base}/users/list"))
    live.folders = pages(client, f"{base}/folders/list")
    live.groups = [client.get_json(f"{base}/groups/get/{g['name']}") for g in pages(client, f"{base}/groups/list")]
    live.resource_types = [t for t in client.get_json(f"{base}/resources/type/list") if t.get("workspace_id") == ws]
    live.variables = pages(client, f"{base}/variables/list")
    live.resources = [client.get_json(f"{base}/resources/get/{quote_path(r['path'])}")
                      for r in pages(client, f"{base}/resources/list")]
    live.schedules = [client.get_json(f"{base}/schedules/get/{quote_path(s['path'])}")
                      for s in pages(client, f"{base}/schedules/list")]
    live.settings = dict(client.get_json(f"{base}/workspaces/get_settings"))
    if live.color is None:
        live.color = live.settings.get("color")
    live.env_vars = {v["name"]: v["value"] for v in client.get_json(f"{base}/variables/list_contextual")
                     if v.get("is_custom")}
    _read_unmodelled(client, live)
    return live


def _read_unmodelled(client: WindmillClient, live: LiveWorkspace) -> None:
    for kind, route, reason in UNMODELLED:
        try:
            rows = pages(client, f"/w/{live.id}/{route}")
        except NotFoundError:
            live.notes.append(f"{kind}s: not listed, this server has no {route} route (HTTP 404)")
            continue
        except ApiError as error:
            live.notes.append(f"{kind}s: could not be listed ({error.status or 'no answer'}: {error.message})")
            continue
        for row in rows:
            name = row.get("path") or row.get("summary") or row.get("id") or "?"
            live.unmodelled.append(Unmodelled(kind, str(name), reason))


def secret_value(client: WindmillClient, ws: str, path: str) -> str:
    """The plaintext of one secret variable (Windmill writes a ``variables.decrypt_secret`` audit
    entry). Only for copying into the stack's encrypted config; never printed or stored."""
    return str(client.get_json(f"/w/{ws}/variables/get_value/{quote_path(path)}"))
