"""Instance groups: ``/api/groups/…`` (the global routes; workspace groups are ``/api/w/{id}/groups/…``).

Modelled on windmill-labs/windmill ``backend/windmill-api-groups/src/groups.rs`` @
3e67f263cc9cf26732c78279ee62a5753c5e5cc7 (``global_service``), with the bodies of the ``windmill-api``
1.819.0 contract:

* ``POST /groups/create`` ``{name, summary?}``: superadmin; the name is normalized (spaces to ``_``,
  lowercase, ``convert_name``) and inserted ``ON CONFLICT DO NOTHING``, so creating an existing group
  succeeds and changes nothing; 200 ``Created group <name>``.
* ``POST /groups/update/{name}`` ``{new_summary, instance_role?}``: superadmin; 404 for an unknown group
  (``Not found: instance_group not found at name <name>``); the source answers ``Deleted group <name>``
  (sic).
* ``DELETE /groups/delete/{name}``: superadmin; removes the group and its memberships; 200 even when
  there was none.
* ``POST /groups/adduser/{name}`` / ``removeuser/{name}`` ``{email}``: superadmin; 404 ``IGroup not found
  at name <name>``; adding twice is a no-op.
* ``GET /groups/get/{name}`` and ``/groups/list``: ``{name, summary, emails}`` (emails omitted from the
  source's aggregation when the group has none: an empty list here, as the array_remove gives).

None of these count toward the Community Edition's group limit, which counts workspace groups
(``group_``) only.
"""

from __future__ import annotations

from typing import Any

from .auth import require_super_admin
from .framework import Ctx, Response, Router, Struct, json_response, not_found_at_name, opt, req, text
from .store import InstanceGroup


def convert_name(name: str) -> str:
    """``convert_name``: spaces become underscores, everything lowercase."""
    return name.replace(" ", "_").lower()


def group_json(group: InstanceGroup) -> dict[str, Any]:
    return {"name": group.name, "summary": group.summary, "emails": sorted(group.emails),
            "instance_role": group.instance_role}


def _group(ctx: Ctx, kind: str = "IGroup") -> InstanceGroup:
    group = ctx.store.instance_groups.get(ctx.params["name"])
    if group is None:
        raise not_found_at_name(kind, ctx.params["name"])
    return group


def list_groups(ctx: Ctx) -> Response:
    return json_response([group_json(g) for _, g in sorted(ctx.store.instance_groups.items())])


def get_group(ctx: Ctx) -> Response:
    return json_response(group_json(_group(ctx)))


def create_group(ctx: Ctx) -> Response:
    require_super_admin(ctx)
    name = convert_name(ctx.body["name"])
    if name not in ctx.store.instance_groups:
        ctx.store.instance_groups[name] = InstanceGroup(name=name, summary=ctx.body["summary"])
    ctx.store.audit_log(ctx.user, "igroup.create", "Create", "global", name)
    return text(f"Created group {name}")


def update_group(ctx: Ctx) -> Response:
    require_super_admin(ctx)
    group = _group(ctx, "instance_group")
    group.summary = ctx.body["new_summary"]
    group.instance_role = ctx.body["instance_role"] or None
    ctx.store.audit_log(ctx.user, "igroup.updated", "Update", "global", group.name)
    return text(f"Deleted group {group.name}")


def delete_group(ctx: Ctx) -> Response:
    require_super_admin(ctx)
    name = ctx.params["name"]
    ctx.store.instance_groups.pop(name, None)
    ctx.store.audit_log(ctx.user, "igroup.delete", "Delete", "global", name)
    return text(f"Deleted group {name}")


def add_user(ctx: Ctx) -> Response:
    require_super_admin(ctx)
    group, email = _group(ctx), ctx.body["email"]
    if email not in group.emails:
        group.emails.append(email)
    return text(f"Added {email} to igroup {group.name}")


def remove_user(ctx: Ctx) -> Response:
    require_super_admin(ctx)
    group, email = _group(ctx), ctx.body["email"]
    if email in group.emails:
        group.emails.remove(email)
    return text(f"Removed {email} from igroup {group.name}")


def register(router: Router) -> None:
    """Add this module's routes."""
    g = "/api/groups"
    email = Struct("Email", {"email": req("string")})
    router.add("GET", f"{g}/list", list_groups, auth="global")
    router.add("GET", f"{g}/get/{{name}}", get_group, auth="global")
    router.add("POST", f"{g}/create", create_group, auth="global",
               body=Struct("NewGroup", {"name": req("string"), "summary": opt("string")}))
    router.add("POST", f"{g}/update/{{name}}", update_group, auth="global",
               body=Struct("IGroupUpdate", {"new_summary": req("string"), "instance_role": opt("string")}))
    router.add("DELETE", f"{g}/delete/{{name}}", delete_group, auth="global")
    router.add("POST", f"{g}/adduser/{{name}}", add_user, auth="global", body=email)
    router.add("POST", f"{g}/removeuser/{{name}}", remove_user, auth="global", body=email)
