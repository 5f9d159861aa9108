"""The configuration of one worker group (tags, init script, env, autoscaling…), stored by Windmill as
the ``config`` row ``worker__<name>`` that every worker of the group reads.

Written and read per group through ``/api/configs/update/worker__<name>`` and ``/api/configs/get/…``
(windmill-labs/windmill ``backend/windmill-api/src/configs.rs`` @ 0178d26271aa5eea7713ada75a4ad37ec01eb21e;
routes and bodies as in the ``windmill-api`` 1.819.0 contract), so other groups are never touched. The
Community Edition refuses these writes ("Worker groups configurable from UI available only in the
enterprise version"), so ``check`` refuses a worker group config on ``edition: ce`` before any
request. ``config`` takes the fields of Windmill's ``WorkerGroupConfig``
(``backend/windmill-common/src/instance_config.rs`` @ 006b0f1d344917cd12a423255fe6bc7df588f68c); an
unknown field is refused, so a typo is not silently ignored by the workers. Delete removes the row
(the group's workers fall back to their environment).
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .instance_api import EDITIONS
from .schema import Declaration, Field, args_class

PREFIX = "worker__"
CONFIG_FIELDS = frozenset({
    "worker_tags", "priority_tags", "dedicated_worker", "dedicated_workers", "init_bash", "periodic_script_bash",
    "periodic_script_interval_seconds", "additional_python_paths", "pip_local_dependencies", "env_vars_static",
    "env_vars_allowlist", "min_alive_workers_alert_threshold", "autoscaling", "native_mode",
})


def _config(value: Any) -> str | None:
    unknown = sorted(set(value) - CONFIG_FIELDS)
    return f"has unknown fields {unknown}; Windmill's worker group config knows {sorted(CONFIG_FIELDS)}" if unknown \
        else None


WORKER_GROUP_CONFIG = Declaration(
    kind="worker_group_config",
    type_name="WorkerGroupConfig",
    label="worker group config",
    summary=(
        "The config Windmill keeps for one worker group (`worker__<name>`): tags, init script, env, autoscaling. "
        "One call per change; other groups are never touched. Enterprise Edition only: refused on `edition: ce`. "
        "Delete removes it."
    ),
    inputs=(
        Field("name", str, "the worker group (the workers' `WORKER_GROUP`)", required=True, replace_on_change=True,
              validate=rules.validate_worker_group_name),
        Field("config", dict, "Windmill's `WorkerGroupConfig` fields, e.g. `worker_tags`, `init_bash`",
              default={}, validate=_config),
        Field("edition", str, "`ce` or `ee`: which Windmill edition runs", default="ce",
              validate=rules.one_of(EDITIONS)),
    ),
)


class WorkerGroupConfigProvider(WindmillProvider):
    """Dynamic provider for one worker group's config."""

    declaration = WORKER_GROUP_CONFIG

    def object_id(self, outputs: dict[str, Any]) -> str:
        return str(outputs["name"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"name": id_}

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        if inputs.get("edition", "ce") == "ce":
            return [CheckFailure("edition", f"worker group configs (here {inputs.get('name')!r}) are an Enterprise "
                                            "Edition feature: the Community Edition refuses them. Run the EE image "
                                            "with a license key (edition: ee), or remove the config")]
        return []

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        client.post(f"/configs/update/{PREFIX}{inputs['name']}", inputs.get("config") or {})  # an upsert
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        name = state.get("name") or id_
        live = client.get_json(f"/configs/get/{PREFIX}{name}")
        if live is None:
            return None
        return {"name": name, "config": live, "edition": state.get("edition", "ce")}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        if "config" in changed:
            self.create_object(client, news)
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/configs/update/{PREFIX}{state['name']}")  # 404 when already gone: a success


WorkerGroupConfigArgs = args_class(WORKER_GROUP_CONFIG, __name__)


class WorkerGroupConfig(WindmillResource, provider=WorkerGroupConfigProvider):
    """The Windmill config of one worker group (Enterprise Edition)."""
