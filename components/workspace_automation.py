"""``WorkspaceAutomation``: the schedules of one workspace and the settings its stack declares.

Schedules run scripts and flows that the sync workflow deploys, so each one is declared with
``enabled`` as configured and the provider holds it disabled until its target exists
(``components/windmill/schedules.py``: ``waiting_for_target``; ``pulumi up --refresh`` after the
sync enables it). The settings resource is declared only when the stack declares a setting (or,
on a domain with ``platformLink.alerts``, the error handler is its alert forwarder), so a stack
that declares none leaves Windmill's settings alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from .config.workspace import WindmillWorkspaceArgs
from .windmill.base import Connection
from .windmill.schedules import Schedule, ScheduleArgs
from .windmill.workspace_settings import WorkspaceSettings, WorkspaceSettingsArgs
from .workspace import WindmillWorkspace


class WorkspaceAutomation(pulumi.ComponentResource):
    """A workspace's schedules and declared settings, parented here.

    ``error_handler`` (the provider's form, ``{path, extra_args, …}``) replaces a declared one: the
    domain's alert forwarder. ``after`` are resources the settings wait for (the forwarder script).
    Outputs: ``schedule_paths``.
    """

    schedule_paths: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: WindmillWorkspaceArgs,
        *,
        workspace: WindmillWorkspace,
        connection: Connection,
        edition: str,
        error_handler: Mapping[str, Any] | None = None,
        after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homeops:windmill:WorkspaceAutomation", name, None, opts)
        self._name, self._args, self._connection = name, args, connection
        adopt = True if args.adopt else None  # workspace.adopt extends to its schedules and settings
        self.schedules = {
            spec.path: Schedule(
                f"{name}-schedule-{spec.path}",
                ScheduleArgs(workspace=args.id, **spec.provider_inputs(), adopt=adopt),
                # Created in the schedule's folder (its path); waits for the workspace and that folder.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[
                    workspace.workspace, *(f for n, f in workspace.folders.items() if spec.path.startswith(f"f/{n}/"))
                ]),
                connection=connection,
            )
            for spec in args.schedules
        }
        inputs = args.settings.provider_inputs()
        if error_handler is not None:
            inputs["error_handler"] = dict(error_handler)
        self.settings = (
            WorkspaceSettings(
                f"{name}-settings", WorkspaceSettingsArgs(workspace=args.id, edition=edition, **inputs, adopt=adopt),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[workspace.workspace, *after]),
                connection=connection,
            )
            if inputs else None
        )
        self.schedule_paths = pulumi.Output.from_input([spec.path for spec in args.schedules])
        self.register_outputs({"schedule_paths": self.schedule_paths})
