"""Windmill schedules: a cron expression that runs a script or flow of the same workspace.

Modelled on windmill-labs/windmill ``backend/windmill-api-schedule/src/lib.rs`` @
47a2f0e2daeeb9de126d39ce19382a197f64febf and ``backend/windmill-queue/src/schedule.rs`` @
21ea1be748c2c0e3c106380c6e3a3da84dd59fe0, checked against the windmill-api 1.819.0 contract
(``NewSchedule``, ``EditSchedule``, ``setenabled``):

* ``create`` stores ``enabled`` as sent (false when omitted) and, when it is enabled, pushes the
  first job in the same transaction; pushing looks the target up (``get_latest_hash_for_path`` /
  the flow's latest version) and answers 404 when the script or flow is not deployed, so nothing
  is stored. The time zone, too, is only checked then.
* ``update`` replaces every optional field (omitted means NULL/false), so the provider always sends
  the whole object; ``script_path``, ``is_flow`` and ``enabled`` are not part of it: a new target
  **replaces** the schedule, and ``enabled`` goes through ``setenabled`` (which pushes the first
  job, or clears the queued one).

**Ordering with the sync workflow.** Scripts and flows reach Windmill through ``wmill sync push``,
which may run after ``pulumi up``. An enabled schedule whose target is not deployed yet is
therefore created *disabled* (output ``waiting_for_target`` true) instead of failing the apply.
``pulumi refresh`` reads it as disabled, so the next preview shows ``enabled: false => true`` and
``pulumi up`` enables it; the usual sequence after the first sync is ``pulumi up --refresh``.
Until then the schedule runs nothing. ``wmill.yaml`` keeps ``includeSchedules: false``, so a sync
never deletes a schedule.

``next_fire_times`` (three ISO 8601 times in the schedule's zone) is computed by ``check``, so a
preview shows when the schedule will run; it is not compared by ``diff``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckResult, DiffResult

from . import cron, rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient, quote_path
from .errors import NotFoundError, ServerError, deleted_outside_pulumi
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class
from .values import is_unknown

HANDLER_PATTERN = r"(script|flow)/([ufg]/[\w-]+(/[\w-]+)+|hub/\S+)"
HANDLER_RULE = "must be script/<path> or flow/<path>, e.g. script/f/ops/alert (what Windmill stores)"
RETRY_KEYS = frozenset({"constant", "exponential", "retry_if"})
SHOWN_FIRE_TIMES = 3


def _retry(value: Any) -> str | None:
    unknown = sorted(set(value) - RETRY_KEYS)
    if unknown:
        return f"may only have {', '.join(sorted(RETRY_KEYS))} (Windmill's Retry); got {', '.join(unknown)}"
    return None


def _at_least_one(value: Any) -> str | None:
    return None if value >= 1 else f"must be 1 or more, got {value!r}"


def _handler(prefix: str, what: str) -> tuple[Field, ...]:
    return (
        Field(prefix, str, f"script or flow run {what}: `script/<path>` or `flow/<path>`",
              validate=rules.pattern(HANDLER_PATTERN, HANDLER_RULE)),
        Field(f"{prefix}_extra_args", dict, f"extra arguments of the {prefix} handler", default={}),
    )


SCHEDULE = Declaration(
    kind="schedule",
    type_name="Schedule",
    label="schedule",
    summary=(
        "A schedule of a workspace: a six-field cron expression (seconds first) in an IANA time zone that runs "
        "a script or flow. A new target (`script_path`, `is_flow`) replaces it; anything else is one update "
        "call carrying the whole object (Windmill clears what is omitted), plus `setenabled` when `enabled` "
        "changes. An enabled schedule whose target is not deployed yet is created disabled "
        "(`waiting_for_target`) and enabled by the first `pulumi up --refresh` after the sync. "
        "`next_fire_times` shows in the preview."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("path", str, "`f/<folder>/<name>` (or `u/…`, `g/…`)", required=True, replace_on_change=True,
              validate=rules.validate_item_path),
        Field("schedule", str, "cron expression with six fields, seconds first (`0 0 6 * * MON`)", required=True,
              validate=cron.validate_cron),
        Field("timezone", str, "IANA time zone the expression is read in", default="UTC",
              validate=cron.validate_timezone),
        Field("script_path", str, "the script or flow it runs, in the same workspace", required=True,
              replace_on_change=True, validate=rules.validate_item_path),
        Field("is_flow", bool, "whether `script_path` is a flow", default=False, replace_on_change=True),
        Field("args", dict, "arguments of each run", default={}),
        Field("enabled", bool, "whether it runs (see `waiting_for_target`)", default=True),
        Field("summary", str, "shown in the Windmill UI", default=""),
        Field("description", str, "shown in the Windmill UI", default=""),
        *_handler("on_failure", "when a run fails"),
        Field("on_failure_times", int, "consecutive failures before `on_failure` runs (more than 1: EE)",
              default=1, validate=_at_least_one),
        Field("on_failure_exact", bool, "run `on_failure` only at exactly that many failures", default=False),
        *_handler("on_recovery", "when a run succeeds after failures (EE)"),
        Field("on_recovery_times", int, "successes after failures before `on_recovery` runs", default=1,
              validate=_at_least_one),
        *_handler("on_success", "after each successful run (EE)"),
        Field("ws_error_handler_muted", bool, "keep the workspace error handler out of this schedule's failures",
              default=False),
        Field("retry", dict, "Windmill's retry object (`constant` / `exponential`)", validate=_retry),
        Field("no_overlap", bool, "skip a run while the previous one is still running", default=False),
        Field("tag", str, "worker tag the runs go to (empty: the target's own)", default=""),
        ADOPT_INPUT,
    ),
    outputs=(
        Field("next_fire_times", list, "the next three fire times in the schedule's zone (ISO 8601), computed "
              "at preview"),
        Field("waiting_for_target", bool, "true while the schedule is held disabled because its target is "
              "not deployed yet"),
        ADOPTED_OUTPUT,
    ),
)

_HANDLERS = ("on_failure", "on_recovery", "on_success")


class ScheduleProvider(WindmillProvider):
    """Dynamic provider for a Windmill schedule."""

    declaration = SCHEDULE

    def object_id(self, outputs: Mapping[str, Any]) -> str:
        return f"{outputs['workspace']}/{outputs['path']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, path = split_id(id_)
        return {"workspace": workspace, "path": path}

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new target at the same path replaces delete-first: Windmill allows one schedule per path."""
        result = super().diff(id_, olds, news)
        same_path = not {"workspace", "path"} & set(result.replaces or ())
        return DiffResult(changes=result.changes, replaces=result.replaces,
                          delete_before_replace=bool(result.replaces) and same_path)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        inputs = result.inputs
        expression, zone = inputs.get("schedule"), inputs.get("timezone")
        if not result.failures and not is_unknown(expression) and not is_unknown(zone):
            # Shown in the preview's details; diff never compares it (it moves with the clock).
            inputs["next_fire_times"] = cron.next_fire_times(expression, zone, SHOWN_FIRE_TIMES)
        return CheckResult(inputs, result.failures)

    # -- create ------------------------------------------------------------------------------

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        wanted = bool(inputs.get("enabled", True))
        waiting = False
        try:
            self._create(client, inputs, enabled=wanted)
        except NotFoundError:
            if not wanted:
                raise
            # Windmill found no deployed target to push the first job for, and stored nothing.
            waiting = True
            self._create(client, inputs, enabled=False)
        return {"waiting_for_target": waiting, "next_fire_times": self._fire_times(inputs)}

    def _create(self, client: WindmillClient, inputs: dict[str, Any], *, enabled: bool) -> None:
        ws, path = inputs["workspace"], inputs["path"]
        body = {"path": path, "script_path": inputs["script_path"], "is_flow": bool(inputs.get("is_flow")),
                "enabled": enabled, **_edit_body(inputs)}
        client.create(f"/w/{ws}/schedules/create", body,
                      exists=lambda: client.exists(f"/w/{ws}/schedules/exists/{quote_path(path)}"))

    # -- read --------------------------------------------------------------------------------

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, path = state["workspace"], state["path"]
        live = client.get_or_none(f"/w/{ws}/schedules/get/{quote_path(path)}")
        if live is None:
            return None
        read = {
            "workspace": ws, "path": path, "schedule": live["schedule"], "timezone": live["timezone"],
            "script_path": live["script_path"], "is_flow": bool(live["is_flow"]), "args": live.get("args") or {},
            "enabled": bool(live["enabled"]), "summary": live.get("summary") or "",
            "description": live.get("description") or "",
            "on_failure_times": live.get("on_failure_times") or 1,
            "on_failure_exact": bool(live.get("on_failure_exact")),
            "on_recovery_times": live.get("on_recovery_times") or 1,
            "ws_error_handler_muted": bool(live.get("ws_error_handler_muted")),
            "retry": live.get("retry"), "no_overlap": bool(live.get("no_flow_overlap")), "tag": live.get("tag") or "",
            "waiting_for_target": bool(state.get("waiting_for_target")) and not live["enabled"],
            # Kept as the last write computed them: recomputing would make every refresh a change.
            "next_fire_times": state.get("next_fire_times"),
        }
        for handler in _HANDLERS:
            read[handler] = live.get(handler)
            read[f"{handler}_extra_args"] = live.get(f"{handler}_extra_args") or {}
        return {k: v for k, v in read.items() if v is not None}

    # -- update ------------------------------------------------------------------------------

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        ws, path = news["workspace"], news["path"]
        if changed - {"enabled"}:
            try:
                client.post(f"/w/{ws}/schedules/update/{quote_path(path)}", _edit_body(news))
            except NotFoundError as error:
                raise self._target_missing(error, news) from None
            except ServerError as error:
                if "no rows" in error.message:  # Windmill's answer for a schedule that is gone
                    raise deleted_outside_pulumi(error, "schedule", path, ws) from None
                raise
        waiting = bool(olds.get("waiting_for_target"))
        if "enabled" in changed or waiting:
            waiting = self._set_enabled(client, news, bool(news.get("enabled", True)))
        return {"waiting_for_target": waiting, "next_fire_times": self._fire_times(news)}

    def _set_enabled(self, client: WindmillClient, inputs: dict[str, Any], enabled: bool) -> bool:
        """Enable or disable; returns whether the schedule is still waiting for its target."""
        ws, path = inputs["workspace"], inputs["path"]
        try:
            client.post(f"/w/{ws}/schedules/setenabled/{quote_path(path)}", {"enabled": enabled})
        except NotFoundError as error:
            live = client.get_or_none(f"/w/{ws}/schedules/get/{quote_path(path)}")
            if live is None:
                raise deleted_outside_pulumi(error, "schedule", path, ws) from None
            if not enabled:
                raise
            return True  # the target is still not deployed: stays disabled until the next up --refresh
        return False

    def _target_missing(self, error: NotFoundError, inputs: dict[str, Any]) -> NotFoundError:
        kind = "flow" if inputs.get("is_flow") else "script"
        error.add_note(
            f"Schedule {inputs['path']!r} runs the {kind} {inputs['script_path']!r}, which is not deployed in "
            f"workspace {inputs['workspace']!r} (or the schedule is gone). Scripts and flows arrive through the "
            f"sync workflow: run it, then `pulumi up --refresh`"
        )
        return error

    # -- delete ------------------------------------------------------------------------------

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/w/{state['workspace']}/schedules/delete/{quote_path(state['path'])}")

    @staticmethod
    def _fire_times(inputs: Mapping[str, Any]) -> list[str]:
        return cron.next_fire_times(inputs["schedule"], inputs.get("timezone", "UTC"), SHOWN_FIRE_TIMES)


def _edit_body(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Windmill's ``EditSchedule``, complete: update clears every field it is not sent."""
    body: dict[str, Any] = {
        "schedule": inputs["schedule"], "timezone": inputs.get("timezone", "UTC"), "cron_version": "v2",
        "args": dict(inputs.get("args") or {}), "summary": inputs.get("summary") or None,
        "description": inputs.get("description") or None, "no_flow_overlap": bool(inputs.get("no_overlap")),
        "ws_error_handler_muted": bool(inputs.get("ws_error_handler_muted")), "retry": inputs.get("retry"),
        "tag": inputs.get("tag") or None, "paused_until": None, "dynamic_skip": None,
    }
    for handler in _HANDLERS:
        # A handler's settings are sent only with the handler: Windmill CE refuses them otherwise.
        path = inputs.get(handler)
        body[handler] = path
        body[f"{handler}_extra_args"] = dict(inputs.get(f"{handler}_extra_args") or {}) if path else None
    body["on_failure_times"] = inputs.get("on_failure_times", 1) if body["on_failure"] else None
    body["on_failure_exact"] = bool(inputs.get("on_failure_exact")) if body["on_failure"] else None
    body["on_recovery_times"] = inputs.get("on_recovery_times", 1) if body["on_recovery"] else None
    return body


ScheduleArgs = args_class(SCHEDULE, __name__)


class Schedule(WindmillResource, provider=ScheduleProvider):
    """A schedule in a Windmill workspace; ``next_fire_times`` shows when it runs next."""
