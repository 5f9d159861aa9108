"""Running a script or flow by path, and the scopes a restricted token carries.

Modelled on windmill-labs/windmill:

* ``backend/windmill-api-auth/src/scopes.rs`` @ 4e83a48e4e25d628a0060c85812886433e0b15e5
  (``check_route_access``): a token with scopes passes a route only when one scope's domain
  (``jobs``, ``variables``, …) and action match it; ``jobs/run/f/…`` and ``jobs/run/p/…`` need
  the ``run`` action with the kind ``flows`` / ``scripts``; ``write`` includes ``read``, ``run``
  includes ``read``; a scope without a kind allows every kind. Otherwise 401 ``Access denied.
  Required scope: <domain>:<action>[:<kind>]``. Tokens whose only scopes are
  ``if_jobs:filter_tags:…`` count as unrestricted.
* ``backend/windmill-api-auth/src/lib.rs`` @ d3d512adb5124cc2b01b584210c3583ebf4de74c
  (``check_scopes``): the run handlers then check the runnable's path against the scope's
  resources (exact, ``*``, or a ``prefix/*`` pattern): 401 ``Required scope: jobs:run:flows:<path>``.
* ``backend/windmill-common/src/lib.rs`` @ a3b6fa4eb3bbd3f43e59bf6439027a548b564dd2: the latest
  non-archived script, or the flow's latest version, else 404 ``script|flow not found at name <path>``.

Checked against the windmill-api 1.819.0 contract (``run_flow_by_path``, ``run_script_by_path``:
201 with the job's UUID as text). No worker runs: the job is recorded (``queued_jobs``) and stays
queued.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

from .flows import ws_flows
from .framework import ApiError, Ctx, JsonValue, Response, Router, not_authorized, not_found_at_name, now, text
from .scripts import ws_scripts
from .store import Authed, Store

SCRIPT_RUNS = ("jobs/run/p", "jobs/run/h", "jobs/run_wait_result/p", "jobs/run_wait_result/h",
               "jobs/run/preview_bundle", "jobs/run/preview", "jobs/run_and_stream/p", "jobs/run_and_stream/h")
FLOW_RUNS = ("jobs/run/f", "jobs/run_wait_result/f", "jobs/run/preview_flow", "jobs/restart/f", "jobs/flow/resume",
             "jobs/run_and_stream/f")
OTHER_RUNS = ("jobs/resume/", "jobs/run/batch_rerun_jobs", "jobs/run/workflow_as_code", "jobs/run/dependencies",
              "jobs/run/flow_dependencies", "apps_u/execute_component")
DOMAIN_ALIASES = {"jobs_u": "jobs", "apps_u": "apps", "srch": "indexer", "github_app": "git_sync"}
FILTER_TAGS = "if_jobs:filter_tags:"

_QUEUED: weakref.WeakKeyDictionary[Store, list[dict[str, Any]]] = weakref.WeakKeyDictionary()


def queued_jobs(store: Store) -> list[dict[str, Any]]:
    """Every job pushed through the run routes, oldest first."""
    return _QUEUED.setdefault(store, [])


def _restricting(scopes: list[str] | None) -> list[str]:
    return [s for s in scopes or () if not s.startswith(FILTER_TAGS)]


def _required(method: str, path: str) -> tuple[str, str, str | None]:
    """The (domain, action, kind) a route needs (``map_http_method_to_action`` and friends)."""
    parts = path.split("/")
    if len(parts) >= 5 and parts[1] == "api" and parts[2] == "w":
        suffix = "/".join(parts[4:])
        domain = parts[4]
    else:
        suffix = "/".join(parts[2:])
        domain = parts[2] if len(parts) > 2 else ""
    domain = DOMAIN_ALIASES.get(domain, domain)
    kind = None
    if suffix.startswith("jobs"):
        if any(suffix.startswith(p) for p in FLOW_RUNS):
            kind = "flows"
        elif any(suffix.startswith(p) for p in SCRIPT_RUNS):
            kind = "scripts"
    if any(p in suffix for p in (*SCRIPT_RUNS, *FLOW_RUNS, *OTHER_RUNS)):
        return domain, "run", kind
    return domain, "read" if method in ("GET", "HEAD", "OPTIONS") else "write", kind


def _grants(scope: str, domain: str, action: str, kind: str | None) -> bool:
    parts = scope.split(":")
    if len(parts) < 2 or DOMAIN_ALIASES.get(parts[0], parts[0]) != domain:
        return False
    has = "write" if parts[1] == "delete" else parts[1]
    if not (has == action or (has in ("write", "run") and action == "read")):
        return False
    if domain == "jobs" and action == "run":
        scope_kind = parts[2] if len(parts) >= 3 else None
        if scope_kind is not None and scope_kind != kind:
            return False
    return True


def check_route_scopes(authed: Authed | None, method: str, path: str) -> None:
    """401 when the caller's token has scopes and none of them opens this route."""
    scopes = _restricting(authed.token.scopes if authed is not None and authed.token is not None else None)
    if not scopes:
        return
    domain, action, kind = _required(method, path)
    if any(_grants(scope, domain, action, kind) for scope in scopes):
        return
    needed = f"{domain}:{action}:{kind}" if kind else f"{domain}:{action}"
    raise not_authorized(f"Access denied. Required scope: {needed}")


def _resource_matches(granted: str, wanted: str) -> bool:
    if granted in ("*", wanted):
        return True
    for pattern, other in ((granted, wanted), (wanted, granted)):
        if pattern.endswith("/*"):
            prefix = pattern[:-2]
            if other.startswith(prefix) and (len(other) == len(prefix) or other[len(prefix)] == "/"):
                return True
    return False


def check_run_scope(authed: Authed, kind: str, path: str) -> None:
    """``check_scopes(&authed, || format!("jobs:run:{kind}:{path}"))``."""
    scopes = _restricting(authed.token.scopes if authed.token is not None else None)
    if not scopes:
        return
    for scope in scopes:
        parts = scope.split(":")
        if parts[:2] != ["jobs", "run"]:
            continue
        if len(parts) == 2:
            return  # jobs:run: every kind, every path
        if parts[2] != kind:
            continue
        if len(parts) == 3 or any(_resource_matches(r, path) for r in parts[3].split(",")):
            return
    raise not_authorized(f"Required scope: jobs:run:{kind}:{path}")


def _push(ctx: Ctx, kind: str) -> Response:
    path = ctx.params["path"]
    check_run_scope(ctx.user, kind, path)
    if kind == "flows":
        row = ws_flows(ctx.store, ctx.ws).get(path)
        if row is None or row.archived or not ctx.store.can_read(ctx.user, ctx.ws, path, row.extra_perms):
            raise not_found_at_name("flow", path)
    else:
        versions = [s for s in ws_scripts(ctx.store, ctx.ws) if s.path == path and not s.archived]
        if not versions or not ctx.store.can_read(ctx.user, ctx.ws, path, versions[-1].extra_perms):
            raise not_found_at_name("script", path)
    if ctx.body is not None and not isinstance(ctx.body, dict):
        raise ApiError(400, "Bad request: args of scripts needs to be dict")
    job_id = str(uuid.uuid4())
    queued_jobs(ctx.store).append({
        "id": job_id, "workspace_id": ctx.ws, "runnable_path": path, "kind": "flow" if kind == "flows" else "script",
        "args": ctx.body or {}, "created_by": ctx.user.username, "email": ctx.user.email, "created_at": now(),
    })
    return text(job_id, status=201)


def run_flow_by_path(ctx: Ctx) -> Response:
    """POST /api/w/{id}/jobs/run/f/{path}: 201, the job id."""
    return _push(ctx, "flows")


def run_script_by_path(ctx: Ctx) -> Response:
    """POST /api/w/{id}/jobs/run/p/{path}: 201, the job id."""
    return _push(ctx, "scripts")


def register(router: Router) -> None:
    """Add this module's routes."""
    jobs = "/api/w/{workspace}/jobs/run"
    router.add("POST", f"{jobs}/f/{{path:path}}", run_flow_by_path, body=JsonValue("any"))
    router.add("POST", f"{jobs}/p/{{path:path}}", run_script_by_path, body=JsonValue("any"))
