"""The list calls ``wmill`` makes around a sync that the emulator answers from empty tables.

The emulator has no job runner, no triggers and no workspace-specific items, so these lists are
always empty; serving them (instead of 404) keeps the CLI on the path it takes against a real
server with nothing of that kind:

* ``GET …/workspaces/list_ws_specific``: ``[{item_kind, path}]`` of resources and variables marked
  workspace-specific (windmill-labs/windmill ``backend/windmill-api-workspaces/src/workspaces.rs`` @
  c9db8c90dc3a5ae463c3cc067964c85002a1f901, route ``/list_ws_specific``); wmill 1.819 merges it
  into its ``specificItems`` before every push and pull;
* ``GET …/jobs/list``, ``…/jobs/queue/list``, ``…/jobs/completed/list``: after a push wmill
  1.819 lists the ``dependencies`` jobs created since it started, to report locks still being
  computed or failed (``checkServerLockJobs``). A deploy here queues no job, as if every worker
  had finished at once with the lock the client sent;
* ``GET …/<kind>_triggers/list`` for the eleven trigger kinds ``wmill trigger list`` asks for;
* ``GET …/shared_ui/get``: the shared UI folder ``wmill sync pull`` mirrors into ``ui/``; with no
  ``workspace_shared_ui`` row Windmill's ``get_shared_ui`` answers no files at version 0 (response
  shape checked against windmill-client 1.818.0).
"""

from __future__ import annotations

from .framework import Ctx, Response, Router, iso, json_response, now, paginate, query_bool

TRIGGER_KINDS = ("http", "websocket", "kafka", "nats", "postgres", "mqtt", "amqp", "sqs", "gcp", "azure", "email")


def empty_list(ctx: Ctx) -> Response:
    """An empty page, after the query checks the real extractors make (bad booleans/integers are 400)."""
    paginate(ctx.query)
    for flag in ("success", "running", "is_flow", "is_skipped", "all_workspaces", "include_args"):
        query_bool(ctx.query, flag)
    return json_response([])


def shared_ui(ctx: Ctx) -> Response:
    """The empty shared UI folder."""
    return json_response({"files": {}, "version": 0, "edited_at": iso(now()), "edited_by": ""})


def register(router: Router) -> None:
    """Add this module's routes."""
    w = "/api/w/{workspace}"
    router.add("GET", f"{w}/workspaces/list_ws_specific", empty_list)
    for path in ("jobs/list", "jobs/queue/list", "jobs/completed/list"):
        router.add("GET", f"{w}/{path}", empty_list)
    router.add("GET", f"{w}/shared_ui/get", shared_ui)
    for kind in TRIGGER_KINDS:
        router.add("GET", f"{w}/{kind}_triggers/list", empty_list)
