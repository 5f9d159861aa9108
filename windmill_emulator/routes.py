"""Every emulated route, and how one request reaches its handler.

``ROUTER`` holds the routes of every API module (one module per area, as Windmill's source groups
them); ``dispatch`` does to a request what axum's router and extractors and Windmill's error type do:
404/405 with empty bodies, authentication and token scopes, the JSON body (415/400/422), the
handler, and the plain-text error answers.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import (
    acls,
    cli_support,
    export,
    flows,
    folders,
    groups,
    instance_config,
    instance_groups,
    jobs,
    members,
    misc,
    resource_types,
    resources,
    schedules,
    scripts,
    settings,
    tokens,
    users,
    variables,
    workspaces,
)
from .auth import authenticate, extract_token
from .framework import ApiError, Ctx, DbError, Response, Router, error_response
from .json_body import JSON_CONTENT_TYPE_MSG, has_json_content_type, parse_json_body
from .store import Store

if TYPE_CHECKING:
    from .server import EmulatorConfig


# One module per API area, each adding its routes in this order (the first route that matches answers).
API_MODULES = (misc, users, tokens, members, workspaces, groups, folders, variables, resources, resource_types,
               schedules, settings, acls, scripts, flows, export, cli_support, instance_config, instance_groups,
               jobs)  # fmt: skip


def build_router() -> Router:
    """Every emulated endpoint."""
    router = Router()
    for module in API_MODULES:
        module.register(router)
    return router


ROUTER = build_router()


def dispatch(
    store: Store, config: EmulatorConfig, method: str, raw_path: str, query: dict[str, str], headers: Any, body: bytes
) -> Response:
    """The answer to one request (the HTTP layer has already read it and applied any fault)."""
    matched = ROUTER.match(method, raw_path)
    if isinstance(matched, int):
        # axum: unknown path 404, known path with another method 405, both with empty bodies.
        return Response(status=matched, body=b"", content_type=None)
    route, params = matched
    try:
        with store.lock:
            token = extract_token(headers, query)
            authed = None
            if route.auth != "none":
                ws = params.get("workspace") if route.auth == "workspace" else None
                authed = authenticate(store, config, token, ws)
                # A token with scopes opens only the routes they name (scopes.rs check_route_access).
                jobs.check_route_scopes(authed, method, unquote(raw_path))
            parsed: Any = None
            if route.body is not None:
                if not has_json_content_type(headers):
                    # docs/windmill-api.md §9.1: axum answers 415 without Content-Type: application/json.
                    raise ApiError(415, JSON_CONTENT_TYPE_MSG)
                parsed = parse_json_body(body, route.body)
            ctx = Ctx(
                store=store,
                config=config,
                method=method,
                path=unquote(raw_path),
                query=query,
                headers=headers,
                params=params,
                body=parsed,
                authed=authed,
                token=token,
            )
            return route.handler(ctx)
    except DbError as exc:
        return error_response(exc.to_api_error())
    except ApiError as exc:
        return error_response(exc)
    except Exception as exc:  # an emulator bug: answer like the server's catch-all 500
        traceback.print_exc()
        return error_response(ApiError(500, f"Internal: emulator error: {exc!r}"))
