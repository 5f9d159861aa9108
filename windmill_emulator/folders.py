"""Folders (docs/windmill-api.md §4.3)."""

from __future__ import annotations

import re
from typing import Any

from .framework import (
    Ctx,
    Response,
    Router,
    Struct,
    bad_request,
    iso,
    json_response,
    not_authorized,
    not_found_at_name,
    now,
    opt,
    page_slice,
    req,
    text,
)
from .store import Folder, Store

# docs/windmill-api.md §4.3 / §15 item 14: ``^[a-zA-Z_0-9]+$``, no hyphens.
VALID_FOLDER_NAME = re.compile(r"^[a-zA-Z_0-9]+$")
VALID_OWNER = re.compile(r"^[A-Za-z0-9_/-]*$")


def folder_json(f: Folder) -> dict[str, Any]:
    """``{workspace_id,name,display_name,owners,extra_perms,summary,created_by,edited_at}`` (§4.3)."""
    return {
        "workspace_id": f.workspace_id,
        "name": f.name,
        "display_name": f.display_name,
        "owners": list(f.owners),
        "extra_perms": f.extra_perms,
        "summary": f.summary,
        "created_by": f.created_by,
        "edited_at": iso(f.edited_at),
    }


def _visible(ctx: Ctx) -> list[Folder]:
    return sorted(
        (f for f in ctx.store.ws_folders(ctx.ws).values() if ctx.store.folder_visible(ctx.user, f)),
        key=lambda f: f.name,
    )


def create(ctx: Ctx) -> Response:
    """POST /api/w/{id}/folders/create: 200 ``Created folder X`` (§4.3, §15 item 2)."""
    store, ws, b = ctx.store, ctx.ws, ctx.body
    name = b["name"]
    if not VALID_FOLDER_NAME.match(name):
        raise bad_request("Folder name can only contain alphanumeric characters, underscores")
    existing = store.ws_folders(ws).get(name)
    if existing is not None and store.folder_visible(ctx.user, existing):
        raise bad_request(f"Folder {name} already exists")
    owner = f"u/{ctx.user.username}"
    owners = list(b["owners"]) if b["owners"] is not None else [owner]
    # docs/windmill-api.md §4.3: the caller is always appended to owners…
    if owner not in owners:
        owners.append(owner)
    extra_perms = b["extra_perms"] if b["extra_perms"] is not None else {}
    if not isinstance(extra_perms, dict):
        raise bad_request("extra_perms must be an object")
    # …and every owner is forced to ``true`` in extra_perms.
    extra_perms = dict(extra_perms)
    for o in owners:
        extra_perms[o] = True
    if existing is not None:
        raise bad_request(
            f"Folder '{name}' already exists in workspace '{ws}' but you do not have permission to read to it"
        )
    store.check_ws_fk(ws, "folder", "folders.rs:210:14")
    store.folders[ws][name] = Folder(
        workspace_id=ws,
        name=name,
        display_name=b["display_name"] if b["display_name"] is not None else name,
        owners=owners,
        extra_perms=extra_perms,
        summary=b["summary"],
        created_by=ctx.user.username,
    )
    store.audit_log(ctx.user, "folder.create", "Create", ws, name)
    return text(f"Created folder {name}")


def get(ctx: Ctx) -> Response:
    """GET …/folders/get/{name}: 404 ``Folder not found at name X`` (§4.3)."""
    f = ctx.store.ws_folders(ctx.ws).get(ctx.params["name"])
    if f is None or not ctx.store.folder_visible(ctx.user, f):
        raise not_found_at_name("Folder", ctx.params["name"])
    return json_response(folder_json(f))


def exists(ctx: Ctx) -> Response:
    """GET …/folders/exists/{name}: JSON bool, no permission check (§4.3)."""
    return json_response(ctx.params["name"] in ctx.store.ws_folders(ctx.ws))


def list_folders(ctx: Ctx) -> Response:
    """GET …/folders/list, ordered by name."""
    return json_response(page_slice([folder_json(f) for f in _visible(ctx)], ctx.query))


def list_names(ctx: Ctx) -> Response:
    """GET …/folders/listnames."""
    return json_response(page_slice([f.name for f in _visible(ctx)], ctx.query))


def update(ctx: Ctx) -> Response:
    """POST …/folders/update/{name} (docs/windmill-api.md §4.3, §9.2).

    The UPDATE runs under RLS, so a caller who is not an owner, and anyone updating a folder
    that does not exist, gets 401 ``You are not an owner of X and hence cannot modify it``.
    ``owners`` and ``extra_perms`` replace the whole value; a non-admin who omits themself
    from ``owners`` is re-added.
    """
    store, name, b = ctx.store, ctx.params["name"], ctx.body
    owners: list[str] | None = list(b["owners"]) if b["owners"] is not None else None
    extra_perms: Any = b["extra_perms"]
    if not ctx.user.is_admin:
        me = f"u/{ctx.user.username}"
        if owners is not None and me not in owners and not any(f"g/{g}" in owners for g in ctx.user.groups):
            owners.append(me)
            if extra_perms is None:
                extra_perms = {}
            if isinstance(extra_perms, dict):
                extra_perms = {**extra_perms, me: True}
    if extra_perms is not None and not isinstance(extra_perms, dict):
        raise bad_request(f"extra_perms must be an object, received {extra_perms}")
    f = store.ws_folders(ctx.ws).get(name)
    if f is None or not store.folder_owner(ctx.user, f):
        raise not_authorized(f"You are not an owner of {name} and hence cannot modify it")
    new_owners = owners if owners is not None else f.owners
    new_perms = extra_perms if extra_perms is not None else f.extra_perms
    if isinstance(new_perms, dict):
        for o in new_owners:
            if new_perms.get(o) is not True:
                raise bad_request(
                    f"Owner {o} would not have permission to write to folder and that is an invalid state"
                )
    if b["display_name"] is not None:
        f.display_name = b["display_name"]
    if b["summary"] is not None:
        f.summary = b["summary"]
    f.owners = list(new_owners)
    f.extra_perms = new_perms
    f.edited_at = now()
    store.audit_log(ctx.user, "folder.update", "Update", ctx.ws, name)
    return text(f"Updated folder {name}")


def delete(ctx: Ctx) -> Response:
    """DELETE …/folders/delete/{name}: 404 when missing, 401 when not allowed (§4.3).

    docs/windmill-api.md §4.3: deleting a folder deletes only the folder row.
    """
    store, name = ctx.store, ctx.params["name"]
    f = store.ws_folders(ctx.ws).get(name)
    if f is None or not store.folder_visible(ctx.user, f):
        raise not_found_at_name("Folder", name)
    if not store.folder_owner(ctx.user, f):
        raise not_authorized(f"Not authorized to delete folder {name}")
    del store.folders[ctx.ws][name]
    store.audit_log(ctx.user, "folder.delete", "Delete", ctx.ws, name)
    return text(f"delete folder at name {name}")


def _owned_folder(ctx: Ctx) -> Folder:
    store, name = ctx.store, ctx.params["name"]
    f = store.ws_folders(ctx.ws).get(name)
    if f is None or not store.folder_visible(ctx.user, f):
        raise not_found_at_name("Folder", name)
    if not store.folder_owner(ctx.user, f):
        raise not_authorized(f"You are not owner of the folder {name}")
    return f


def add_owner(ctx: Ctx) -> Response:
    """POST …/folders/addowner/{name}: owner must match ``[A-Za-z0-9_/-]`` (§4.3)."""
    f = _owned_folder(ctx)
    owner = ctx.body["owner"]
    if not VALID_OWNER.match(owner):
        raise bad_request("Invalid owner: must contain only alphanumeric characters, underscores, hyphens, or slashes")
    if owner not in f.owners:
        f.owners.append(owner)
    if isinstance(f.extra_perms, dict):
        f.extra_perms[owner] = True
    ctx.store.audit_log(ctx.user, "folder.add_owner", "Update", ctx.ws, f.name)
    return text(f"Added {owner} to folder {f.name}")


def remove_owner(ctx: Ctx) -> Response:
    """POST …/folders/removeowner/{name}: ``write`` sets the remaining extra_perms flag (§4.3)."""
    f = _owned_folder(ctx)
    owner, write = ctx.body["owner"], ctx.body["write"]
    if not VALID_OWNER.match(owner):
        raise bad_request("Invalid owner: must contain only alphanumeric characters, underscores, hyphens, or slashes")
    was_owner = owner in f.owners
    if was_owner:
        f.owners.remove(owner)
    if not was_owner and write is None:
        return text(f"Owner {owner} is already not a member of folder {f.name}")
    if write is not None:
        perms = f.extra_perms if isinstance(f.extra_perms, dict) else {}
        old = perms.get(owner)
        perms[owner] = write
        f.extra_perms = perms
        if not was_owner and (old is None or old == write):
            return text(
                f"Owner {owner} is already not a member of folder {f.name} and write permission was already "
                f"{'true' if write else 'false'}"
            )
    ctx.store.audit_log(ctx.user, "folder.remove_owner", "Update", ctx.ws, f.name)
    return text(f"Removed {owner} to folder {f.name}")


def usage(ctx: Ctx) -> Response:
    """GET …/folders/getusage/{name}: item counts under ``f/<name>`` (§4.3)."""
    store, name = ctx.store, ctx.params["name"]
    prefix = f"f/{name}"

    def count(items: dict[str, Any]) -> int:
        return sum(1 for p in items if p.startswith(prefix))

    return json_response(
        {
            "scripts": 0,
            "flows": 0,
            "schedules": count(store.ws_schedules(ctx.ws)),
            "apps": 0,
            "resources": count(store.ws_resources(ctx.ws)),
            "variables": count(store.ws_variables(ctx.ws)),
        }
    )


def auto_create_app_folder(store: Store, ws: str, path: str, username: str) -> None:
    """docs/windmill-api.md §4.3: resources under f/app_themes|app_custom|app_groups create that folder."""
    names = {"app_themes": "App Themes", "app_custom": "App Custom Components", "app_groups": "App Groups"}
    for name, display in names.items():
        if path.startswith(f"f/{name}/") and name not in store.ws_folders(ws) and ws in store.workspaces:
            store.folders[ws][name] = Folder(ws, name, display, [], {"g/all": False}, None, username)


def register(router: Router) -> None:
    """Add this module's routes."""
    f = "/api/w/{workspace}/folders"
    router.add("GET", f"{f}/list", list_folders)
    router.add("GET", f"{f}/listnames", list_names)
    router.add(
        "POST",
        f"{f}/create",
        create,
        body=Struct(
            "NewFolder",
            {
                "name": req("string"),
                "summary": opt("string"),
                "display_name": opt("string"),
                "owners": opt("strings"),
                "extra_perms": opt("any"),
            },
        ),
    )
    router.add("GET", f"{f}/get/{{name}}", get)
    router.add("GET", f"{f}/exists/{{name}}", exists)
    router.add(
        "POST",
        f"{f}/update/{{name}}",
        update,
        body=Struct(
            "UpdateFolder",
            {
                "summary": opt("string"),
                "display_name": opt("string"),
                "owners": opt("strings"),
                "extra_perms": opt("any"),
            },
        ),
    )
    router.add("GET", f"{f}/getusage/{{name}}", usage)
    router.add("DELETE", f"{f}/delete/{{name}}", delete)
    router.add(
        "POST",
        f"{f}/addowner/{{name}}",
        add_owner,
        body=Struct("Owner", {"owner": req("string"), "write": opt("bool")}),
    )
    router.add(
        "POST",
        f"{f}/removeowner/{{name}}",
        remove_owner,
        body=Struct("Owner", {"owner": req("string"), "write": opt("bool")}),
    )
