"""``workspace.schedules``: the schedules of a workspace, checked before anything is declared.

::

    schedules:
      - path: f/monitoring/weekly_report_schedule
        schedule: "0 0 8 * * MON"          # six fields, seconds first
        timezone: Europe/Paris             # IANA (default UTC)
        flow: f/monitoring/weekly_report   # or script: …; in this workspace's own folders
        args: {}
        enabled: true
        summary: Weekly platform report
        description: ""
        onFailure: {script: f/monitoring/notify, extraArgs: {}, times: 1, exact: false}
        onRecovery: {script: …, extraArgs: {}, times: 1}     # Enterprise only
        onSuccess: {script: …, extraArgs: {}}                # Enterprise only
        retry: {constant: {attempts: 2, seconds: 60}}
        noOverlap: true
        tag: ""
        mutedWorkspaceErrorHandler: false

Refused at load time, naming the key, before any request: a cron expression that is not six
fields with seconds first (a five-field one is the usual mistake), a time zone that is not IANA, a
schedule, target or handler outside the workspace's own folders, a path declared twice. The
Enterprise-only parts are refused on a ``ce`` instance by ``edition_problems``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.windmill import cron

from .errors import ConfigError, Problems
from .rules import check_item_path
from .values import Section
from .workspace_settings import HandlerRef, check_own_folder, parse_handler

_SCHEDULE_KEYS = ("path", "schedule", "timezone", "script", "flow", "args", "enabled", "summary", "description",
                  "onFailure", "onRecovery", "onSuccess", "retry", "noOverlap", "tag", "mutedWorkspaceErrorHandler")
RETRY_KEYS = ("constant", "exponential", "retry_if")


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule; ``target`` is the script or flow it runs."""

    path: str
    schedule: str
    target: HandlerRef
    timezone: str = "UTC"
    args: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    summary: str = ""
    description: str = ""
    on_failure: HandlerRef | None = None
    on_failure_times: int = 1
    on_failure_exact: bool = False
    on_recovery: HandlerRef | None = None
    on_recovery_times: int = 1
    on_success: HandlerRef | None = None
    retry: Mapping[str, Any] | None = None
    no_overlap: bool = False
    tag: str = ""
    muted_workspace_error_handler: bool = False

    def provider_inputs(self) -> dict[str, Any]:
        """The ``Schedule`` resource's inputs (without workspace and connection)."""
        inputs: dict[str, Any] = {
            "path": self.path, "schedule": self.schedule, "timezone": self.timezone,
            "script_path": self.target.path, "is_flow": self.target.kind == "flow", "args": dict(self.args),
            "enabled": self.enabled, "summary": self.summary, "description": self.description,
            "on_failure_times": self.on_failure_times, "on_failure_exact": self.on_failure_exact,
            "on_recovery_times": self.on_recovery_times, "no_overlap": self.no_overlap, "tag": self.tag,
            "ws_error_handler_muted": self.muted_workspace_error_handler,
        }
        for name in ("on_failure", "on_recovery", "on_success"):
            handler: HandlerRef | None = getattr(self, name)
            if handler is not None:
                inputs[name] = handler.windmill_path
                inputs[f"{name}_extra_args"] = dict(handler.extra_args)
        if self.retry is not None:
            inputs["retry"] = dict(self.retry)
        return inputs


def parse_schedule(s: Section, folders: set[str]) -> ScheduleSpec:
    """Read one ``workspace.schedules[i]`` entry (problems raise ConfigError)."""
    s.reject_unknown(_SCHEDULE_KEYS)
    path = s.parse("path", check_item_path)
    check_own_folder(s.key("path"), path, folders)
    expression = s.str("schedule")
    problem = cron.validate_cron(expression)
    if problem:
        raise ConfigError(s.key("schedule"), f"{problem}; got {expression!r}")
    timezone = s.str("timezone", "UTC")
    problem = cron.validate_timezone(timezone)
    if problem:
        raise ConfigError(s.key("timezone"), problem)
    target_keys = {k: s.data[k] for k in ("script", "flow") if s.data.get(k) is not None}
    target = parse_handler(Section(target_keys, s.path), folders)
    on_failure = on_recovery = on_success = None
    failure_times, failure_exact, recovery_times = 1, False, 1
    if s.data.get("onFailure") is not None:
        section = s.section("onFailure")
        on_failure = parse_handler(section, folders, ("times", "exact"))
        failure_times, failure_exact = section.int("times", 1, minimum=1), section.bool("exact", False)
    if s.data.get("onRecovery") is not None:
        section = s.section("onRecovery")
        on_recovery = parse_handler(section, folders, ("times",))
        recovery_times = section.int("times", 1, minimum=1)
    if s.data.get("onSuccess") is not None:
        on_success = parse_handler(s.section("onSuccess"), folders)
    retry = s.mapping("retry") if s.data.get("retry") is not None else None
    if retry is not None and set(retry) - set(RETRY_KEYS):
        raise ConfigError(s.key("retry"), f"may only have {', '.join(RETRY_KEYS)} (Windmill's retry object)")
    return ScheduleSpec(
        path=path, schedule=expression, target=target, timezone=timezone, args=s.mapping("args", {}),
        enabled=s.bool("enabled", True), summary=s.str("summary", ""), description=s.str("description", ""),
        on_failure=on_failure, on_failure_times=failure_times, on_failure_exact=failure_exact,
        on_recovery=on_recovery, on_recovery_times=recovery_times, on_success=on_success, retry=retry,
        no_overlap=s.bool("noOverlap", False), tag=s.str("tag", ""),
        muted_workspace_error_handler=s.bool("mutedWorkspaceErrorHandler", False),
    )


def edition_problems(schedules_key: str, schedules: tuple[ScheduleSpec, ...], edition: str, problems: Problems) -> None:
    """Refuse what Windmill CE refuses for schedules (400 at create), naming the key."""
    if edition != "ce":
        return
    ee_only = "is only available on Windmill Enterprise Edition (this instance is ce)"
    for index, spec in enumerate(schedules):
        where = f"{schedules_key}[{index}]"
        if spec.on_recovery is not None:
            problems.add(f"{where}.onRecovery", ee_only)
        if spec.on_success is not None:
            problems.add(f"{where}.onSuccess", ee_only)
        if spec.on_failure is not None and spec.on_failure_times > 1:
            problems.add(f"{where}.onFailure.times", "more than 1 is only available on Windmill Enterprise Edition "
                         "(this instance is ce)")
