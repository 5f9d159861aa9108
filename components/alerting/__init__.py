"""Shared alerting: every domain's failures reach the platform's alert dispatcher.

The platform workspace's error handler is the dispatcher flow itself (its ``workspace.settings``).
A domain workspace's error handler is ``forwarder.py``, a script deployed by the domain's
``PlatformLink`` (its content is this package's file, not synced), which runs the dispatcher in
the platform workspace with the ``platformLink`` services token. This module holds what the
program needs to deploy it: the content, the argument schema and the handler's extra arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORWARDER_FILE = Path(__file__).with_name("forwarder.py")
FORWARDER_SUMMARY = "Forwards this workspace's job failures to the platform's alert dispatcher (managed by Pulumi)"

# The form Windmill shows for the script: the error handler's arguments, then the extra ones.
FORWARDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["workspace_id", "job_id"],
    "properties": {
        "workspace_id": {"type": "string", "description": "workspace of the failed job"},
        "job_id": {"type": "string", "description": "the failed job"},
        "path": {"type": "string", "description": "script or flow that failed"},
        "is_flow": {"type": "boolean", "default": False},
        "started_at": {"type": "string"},
        "email": {"type": "string", "description": "who ran it"},
        "schedule_path": {"type": "string", "description": "the schedule, for a scheduled run"},
        "error": {"type": "object", "description": "the failure"},
        "failed_times": {"type": "integer", "default": 0},
        "dispatcher_path": {"type": "string", "description": "the platform's dispatcher flow"},
        "platform_workspace": {"type": "string"},
        "token_variable": {"type": "string", "description": "variable holding the platformLink services token"},
    },
}


def forwarder_content() -> str:
    """The script's source, exactly as committed."""
    return FORWARDER_FILE.read_text()


def forwarder_extra_args(dispatcher: str, platform_workspace: str, token_variable: str) -> dict[str, str]:
    """The error handler's extra arguments: where to forward, and with which token variable."""
    return {"dispatcher_path": dispatcher, "platform_workspace": platform_workspace, "token_variable": token_variable}
