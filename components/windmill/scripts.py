"""Windmill scripts deployed by Pulumi itself (not by the sync workflow).

Most scripts reach Windmill through ``wmill sync push``; this resource is for the few the program
owns, such as each domain's alert forwarder, whose content lives in this repository. Their paths
are excluded from the sync's scope (``wmill.yaml`` ``excludes``) so a push never deletes them.

Modelled on windmill-labs/windmill's script routes (``backend/windmill-api-scripts``) as the
emulator reproduces them (``windmill_emulator/scripts.py``, sources cited there) and checked
against the windmill-api 1.819.0 contract (``NewScript``, ``scripts/get/p``, ``scripts/archive/p``):

* every deploy is a new version with its own hash; an update deploys a version whose
  ``parent_hash`` is the deployed one, which archives it (the lineage stays in Windmill);
* delete **archives** every version (``scripts/archive/p``): history and past jobs stay
  readable, and an archived script reads as gone;
* the content, summary, description, language and schema are compared on refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient, quote_path
from .schema import WORKSPACE_INPUT, Declaration, Field, args_class

LANGUAGES = ("python3", "bun", "deno", "nativets", "bash", "go")

SCRIPT = Declaration(
    kind="script",
    type_name="Script",
    label="script",
    summary=(
        "A script of a workspace whose content Pulumi deploys (exclude its path from the sync). Every change is "
        "one new version whose parent is the deployed one; delete archives it, keeping its history. An archived "
        "script reads as gone."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("path", str, "`f/<folder>/<name>`", required=True, replace_on_change=True,
              validate=rules.validate_item_path),
        Field("content", str, "the source code", required=True),
        Field("language", str, "Windmill language, e.g. `python3`", default="python3",
              validate=rules.one_of(LANGUAGES)),
        Field("summary", str, "shown in the Windmill UI", default=""),
        Field("description", str, "shown in the Windmill UI", default=""),
        Field("schema", dict, "JSON Schema of the arguments (the form in the UI)", default={}),
    ),
    outputs=(Field("hash", str, "hash of the deployed version"),),
)


class ScriptProvider(WindmillProvider):
    """Dynamic provider for a Windmill script."""

    declaration = SCRIPT

    def object_id(self, outputs: Mapping[str, Any]) -> str:
        return f"{outputs['workspace']}/{outputs['path']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, path = split_id(id_)
        return {"workspace": workspace, "path": path}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"hash": self._deploy(client, inputs, parent=None)}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, path = state["workspace"], state["path"]
        live = client.get_or_none(f"/w/{ws}/scripts/get/p/{quote_path(path)}")
        if live is None or live.get("archived") or live.get("deleted"):
            return None
        return {
            "workspace": ws, "path": path, "content": live.get("content") or "",
            "language": live.get("language") or "", "summary": live.get("summary") or "",
            "description": live.get("description") or "", "schema": live.get("schema") or {},
            "hash": live.get("hash"),
        }

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        ws, path = news["workspace"], news["path"]
        live = client.get_or_none(f"/w/{ws}/scripts/get/p/{quote_path(path)}")
        parent = live.get("hash") if live and not live.get("archived") else None
        return {"hash": self._deploy(client, news, parent=parent)}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        # Archiving keeps every version and the jobs that ran them; already gone or archived is fine.
        path = f"/w/{state['workspace']}/scripts/archive/p/{quote_path(state['path'])}"
        if client.get_or_none(f"/w/{state['workspace']}/scripts/get/p/{quote_path(state['path'])}") is not None:
            client.post(path)

    def _deploy(self, client: WindmillClient, inputs: Mapping[str, Any], parent: str | None) -> str | None:
        ws, path = inputs["workspace"], inputs["path"]
        body: dict[str, Any] = {
            "path": path, "content": inputs["content"], "language": inputs.get("language", "python3"),
            "summary": inputs.get("summary", ""), "description": inputs.get("description", ""),
            "schema": dict(inputs.get("schema") or {}), "kind": "script",
        }
        if parent is not None:
            body["parent_hash"] = parent
        response = client.create(
            f"/w/{ws}/scripts/create", body, params={"skip_if_noop": "true"},
            exists=lambda: self._deployed_as_sent(client, ws, body),
        )
        if response is not None:
            return response.text.strip()
        live = client.get_or_none(f"/w/{ws}/scripts/get/p/{quote_path(path)}")
        return live.get("hash") if live else None

    @staticmethod
    def _deployed_as_sent(client: WindmillClient, ws: str, body: Mapping[str, Any]) -> bool:
        """Whether a deploy whose answer was lost landed: the deployed version holds what was sent."""
        live = client.get_or_none(f"/w/{ws}/scripts/get/p/{quote_path(body['path'])}")
        fields = ("content", "language", "summary", "description")
        return bool(live) and not live.get("archived") and all(live.get(f) == body[f] for f in fields)


ScriptArgs = args_class(SCRIPT, __name__)


class Script(WindmillResource, provider=ScriptProvider):
    """A script in a Windmill workspace, deployed from content in this repository."""
