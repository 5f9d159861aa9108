"""HomeOps alert forwarder: the error handler of a domain workspace (a Windmill Python script).

Windmill runs a workspace's error handler inside that workspace, with the failed job's details
(``workspace_id``, ``job_id``, ``path``, ``is_flow``, ``started_at``, ``email``, ``schedule_path``
for a scheduled run, and the job's result, whose ``error`` is the failure) plus the handler's
extra arguments (windmill-labs/windmill ``backend/windmill-queue/src/jobs.rs``,
``push_error_handler``). A domain cannot run the platform's alert dispatcher with its own
identity, so this script reads the ``platformLink`` services token (a secret variable of this
workspace, limited to running the dispatcher) and starts the dispatcher flow in the platform
workspace with the same arguments the platform's own failures give it directly.

Every call is logged to the job log: who failed, which dispatcher is called with which token
variable (never the token), and the dispatcher's job id. When the dispatcher cannot be reached or
the token is refused (revoked, rotated), the log says so and the script fails, so the failure
stays visible in this workspace's runs instead of vanishing.

Pulumi deploys this file (``components/platform_link.py``); the sync's ``wmill.yaml`` excludes its
path, so a push never deletes it. Edit it here, not in Windmill.
"""

from typing import Optional

import wmill

LOG_PREFIX = "homeops-alert-forwarder:"


def main(
    workspace_id: str,
    job_id: str,
    path: str = "",
    is_flow: bool = False,
    started_at: str = "",
    email: str = "",
    schedule_path: str = "",
    error: Optional[dict] = None,  # noqa: UP045 - Windmill's Python parser reads Optional[...]
    failed_times: int = 0,
    dispatcher_path: str = "f/monitoring/alert_dispatcher",
    platform_workspace: str = "homeops-platform",
    token_variable: str = "",
) -> dict:
    failure = {
        "workspace_id": workspace_id,
        "job_id": job_id,
        "path": path,
        "is_flow": is_flow,
        "started_at": started_at,
        "email": email,
        "schedule_path": schedule_path,
        "error": error or {},
        "failed_times": failed_times,
        "forwarded_by": f"{workspace_id} error handler",
    }
    kind = "flow" if is_flow else "script"
    scheduled = f", schedule {schedule_path}" if schedule_path else ""
    print(f"{LOG_PREFIX} {workspace_id} {kind} {path or '?'} failed (job {job_id}{scheduled}): {_message(error)}")
    print(f"{LOG_PREFIX} calling {platform_workspace}/{dispatcher_path} with the token in {token_variable}")
    token = None
    try:
        token = wmill.get_variable(token_variable)
        platform = wmill.Windmill(token=token, workspace=platform_workspace)
        dispatched = platform.run_flow_async(dispatcher_path, args=failure)
    except Exception as exc:
        reason = _redacted(f"{type(exc).__name__}: {exc}", token)
        print(f"{LOG_PREFIX} FAILED to forward job {job_id} of {workspace_id} to {platform_workspace}/"
              f"{dispatcher_path}: {reason}. The services token in {token_variable} may be revoked, or the "
              f"platform unreachable; the failure itself is above.")
        raise RuntimeError(f"alert not forwarded to {platform_workspace}/{dispatcher_path}: {reason}") from None
    print(f"{LOG_PREFIX} forwarded to {platform_workspace}/{dispatcher_path} as job {dispatched}")
    return {"forwarded_to": f"{platform_workspace}/{dispatcher_path}", "dispatcher_job": dispatched,
            "failed_job": job_id, "workspace": workspace_id}


def _message(error: Optional[dict]) -> str:  # noqa: UP045 - see main
    if not error:
        return "no error details"
    return str(error.get("message") or error.get("name") or error)[:500]


def _redacted(text: str, token: Optional[str]) -> str:  # noqa: UP045 - see main
    return text.replace(token, "[secret]") if token else text
