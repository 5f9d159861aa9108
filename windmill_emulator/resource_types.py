"""Resource types (docs/windmill-api.md §6): the hub's types seeded into ``admins`` and readable from
every workspace, and each workspace's own types under ``/api/w/{workspace}/resources/type/``.

Windmill serves these routes from the same source file as resources (``resources.rs``), whose error
locations they share (``LOC``).
"""

from __future__ import annotations

from typing import Any

from .framework import (
    ApiError,
    Ctx,
    DbError,
    Response,
    Router,
    Struct,
    bad_request,
    iso,
    json_response,
    not_found_at_name,
    now,
    opt,
    req,
    text,
)
from .resources import LOC
from .store import NAME_RE, ResourceType, Store

# docs/windmill-api.md §6: hub resource types are synced into ``admins`` and readable everywhere.
HUB_RESOURCE_TYPES: dict[str, dict[str, Any]] = {
    "postgresql": {
        "description": "Postgres connection",
        "schema": {
            "type": "object",
            "required": ["host", "dbname", "user"],
            "properties": {
                "host": {"type": "string"},
                "port": {"type": "integer"},
                "user": {"type": "string"},
                "dbname": {"type": "string"},
                "sslmode": {"type": "string"},
                "password": {"type": "string"},
            },
        },
    },
    "mysql": {
        "description": "MySQL connection",
        "schema": {
            "type": "object",
            "required": ["host", "user", "database"],
            "properties": {
                "host": {"type": "string"},
                "port": {"type": "number"},
                "user": {"type": "string"},
                "database": {"type": "string"},
                "password": {"type": "string"},
            },
        },
    },
    "s3": {
        "description": "S3 compatible object storage",
        "schema": {
            "type": "object",
            "required": ["bucket", "region"],
            "properties": {
                "bucket": {"type": "string"},
                "region": {"type": "string"},
                "endPoint": {"type": "string"},
                "useSSL": {"type": "boolean"},
                "pathStyle": {"type": "boolean"},
                "accessKeyId": {"type": "string"},
                "secretAccessKey": {"type": "string"},
            },
        },
    },
    "slack": {
        "description": "Slack bot token",
        "schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
    },
    "smtp": {
        "description": "SMTP server",
        "schema": {
            "type": "object",
            "required": ["host", "port"],
            "properties": {
                "host": {"type": "string"},
                "port": {"type": "integer"},
                "user": {"type": "string"},
                "password": {"type": "string"},
            },
        },
    },
    "github": {
        "description": "GitHub token",
        "schema": {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
    },
    "git_repository": {
        "description": "A git repository (used by git sync)",
        "schema": {
            "type": "object",
            "required": ["url"],
            "properties": {"url": {"type": "string"}, "branch": {"type": "string"}, "folder": {"type": "string"}},
        },
    },
    "openai": {
        "description": "OpenAI API key",
        "schema": {
            "type": "object",
            "required": ["api_key"],
            "properties": {"api_key": {"type": "string"}, "organization_id": {"type": "string"}},
        },
    },
    "http": {
        "description": "An HTTP endpoint with optional headers",
        "schema": {
            "type": "object",
            "properties": {"baseUrl": {"type": "string"}, "headers": {"type": "object"}},
        },
    },
}


def seed_hub_types(store: Store) -> None:
    """Put the hub resource types into the ``admins`` workspace."""
    for name, spec in HUB_RESOURCE_TYPES.items():
        store.resource_types["admins"][name] = ResourceType(
            workspace_id="admins",
            name=name,
            schema=spec["schema"],
            description=spec["description"],
            created_by="admin",
        )


CREATE_TYPE = Struct(
    "CreateResourceType",
    {
        "name": req("string"),
        "schema": opt("any"),
        "description": opt("string"),
        "format_extension": opt("string"),
        "is_fileset": opt("bool"),
    },
)
EDIT_TYPE = Struct("EditResourceType", {"schema": opt("any"), "description": opt("string"), "is_fileset": opt("bool")})


def type_json(t: ResourceType) -> dict[str, Any]:
    """The ``ResourceType`` row."""
    return {
        "workspace_id": t.workspace_id,
        "name": t.name,
        "schema": t.schema,
        "description": t.description,
        "created_by": t.created_by,
        "edited_at": iso(t.edited_at),
        "format_extension": t.format_extension,
        "is_fileset": t.is_fileset,
    }


def _types_visible(store: Store, ws: str) -> list[ResourceType]:
    """docs/windmill-api.md §6: reads include the ``admins`` workspace's types (both rows when shadowed)."""
    rows = list(store.ws_resource_types(ws).values())
    if ws != "admins":
        rows += list(store.ws_resource_types("admins").values())
    return sorted(rows, key=lambda t: t.name)


def create_type(ctx: Ctx) -> Response:
    """POST …/resources/type/create: 201; conflicts checked only in the own workspace (§6)."""
    store, ws, b = ctx.store, ctx.ws, ctx.body
    name = b["name"]
    if name in store.ws_resource_types(ws):
        raise bad_request(f"Resource type {name} already exists")
    if b["is_fileset"] and b["format_extension"] is not None:
        raise bad_request("A fileset resource type cannot have a format_extension")
    if len(name) > 50:
        raise DbError("value too long for type character varying(50)", location=LOC)
    if not NAME_RE.match(name):
        # docs/windmill-api.md §6: DB check ``^[\w-]+$`` on the name.
        raise DbError('new row for relation "resource_type" violates check constraint "proper_name"', location=LOC)
    store.check_ws_fk(ws, "resource_type", LOC)
    store.resource_types[ws][name] = ResourceType(
        workspace_id=ws,
        name=name,
        schema=b["schema"],
        description=b["description"],
        created_by=ctx.user.username,
        format_extension=b["format_extension"],
        is_fileset=bool(b["is_fileset"]),
    )
    store.audit_log(ctx.user, "resource_types.create", "Create", ws, name)
    return text(f"resource_type {name} created", status=201)


def get_type(ctx: Ctx) -> Response:
    """GET …/resources/type/get/{name}: own workspace first, then ``admins`` (§6)."""
    name = ctx.params["name"]
    t = ctx.store.ws_resource_types(ctx.ws).get(name) or ctx.store.ws_resource_types("admins").get(name)
    if t is None:
        raise not_found_at_name("ResourceType", name)
    return json_response(type_json(t))


def exists_type(ctx: Ctx) -> Response:
    """GET …/resources/type/exists/{name}: includes hub types (§6)."""
    name = ctx.params["name"]
    found = name in ctx.store.ws_resource_types(ctx.ws) or name in ctx.store.ws_resource_types("admins")
    return json_response(found)


def list_types(ctx: Ctx) -> Response:
    """GET …/resources/type/list: own and ``admins`` types ordered by name (§6)."""
    return json_response([type_json(t) for t in _types_visible(ctx.store, ctx.ws)])


def list_type_names(ctx: Ctx) -> Response:
    """GET …/resources/type/listnames."""
    return json_response([t.name for t in _types_visible(ctx.store, ctx.ws)])


def update_type(ctx: Ctx) -> Response:
    """POST …/resources/type/update/{name}: 200 even when the type does not exist (§6, §9.2)."""
    name = ctx.params["name"]
    t = ctx.store.ws_resource_types(ctx.ws).get(name)
    if t is not None:
        if ctx.body["schema"] is not None:
            t.schema = ctx.body["schema"]
        if ctx.body["description"] is not None:
            t.description = ctx.body["description"]
        if ctx.body["is_fileset"] is not None:
            t.is_fileset = ctx.body["is_fileset"]
        t.edited_at = now()
    ctx.store.audit_log(ctx.user, "resource_types.update", "Update", ctx.ws, name)
    return text(f"resource_type {name} updated")


def delete_type(ctx: Ctx) -> Response:
    """DELETE …/resources/type/delete/{name}: admin only; 404 when missing (§6)."""
    if not ctx.user.is_admin:
        raise ApiError(403, f"Require Admin privileges for {ctx.user.username}")
    name = ctx.params["name"]
    if name not in ctx.store.ws_resource_types(ctx.ws):
        raise not_found_at_name("ResourceType", name)
    del ctx.store.resource_types[ctx.ws][name]
    ctx.store.audit_log(ctx.user, "resource_types.delete", "Delete", ctx.ws, name)
    return text(f"resource_type {name} deleted")


def file_ext_map(ctx: Ctx) -> Response:
    """GET …/resources/file_resource_type_to_file_ext_map."""
    out = {
        t.name: {"format_extension": t.format_extension, "is_fileset": t.is_fileset}
        for t in _types_visible(ctx.store, ctx.ws)
        if t.format_extension is not None or t.is_fileset
    }
    return json_response(out)


def register(router: Router) -> None:
    """Add this module's routes."""
    r = "/api/w/{workspace}/resources"
    router.add("GET", f"{r}/type/list", list_types)
    router.add("GET", f"{r}/type/listnames", list_type_names)
    router.add("GET", f"{r}/type/get/{{name}}", get_type)
    router.add("GET", f"{r}/type/exists/{{name}}", exists_type)
    router.add("POST", f"{r}/type/update/{{name}}", update_type, body=EDIT_TYPE)
    router.add("DELETE", f"{r}/type/delete/{{name}}", delete_type)
    router.add("GET", f"{r}/file_resource_type_to_file_ext_map", file_ext_map)
    router.add("POST", f"{r}/type/create", create_type, body=CREATE_TYPE)
