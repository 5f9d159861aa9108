"""Windmill workspaces (docs/windmill-api.md §3).

Identity: ``workspace_id`` (a change replaces the workspace). ``name`` and ``color`` update in
place. ``deletion_mode`` decides what ``pulumi destroy`` does: ``archive`` (default) keeps every
script, flow, variable and job of the workspace and a later create unarchives it; ``delete``
removes the workspace and its data for good. ``adopt`` lets a create take over a workspace that
already exists instead of failing (the workspace is looked up first; a differing name or colour is
then written, nothing else). Without it, an existing workspace is taken over only when the token's
own user created it and its name and colour are the declared ones: what a create whose answer was
lost leaves behind. Everything it holds is kept either way.

Creating, unarchiving and deleting need a superadmin token (CREATE_WORKSPACE_REQUIRE_SUPERADMIN
defaults to true); the Community Edition allows two workspaces besides ``admins``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .errors import (
    AlreadyExistsError,
    ApiError,
    BadRequestError,
    NotFoundError,
    UnauthorizedError,
    WorkspaceExistsError,
)
from .schema import ADOPTED_OUTPUT, Declaration, Field, args_class

WORKSPACE_LIMIT = "maximum number of workspaces"  # in Windmill's Community Edition refusal

WORKSPACE = Declaration(
    kind="workspace",
    type_name="Workspace",
    label="workspace",
    summary=(
        "A workspace. Needs a superadmin token. `deletion_mode: archive` (default) archives on delete: "
        "scripts, flows, variables and job history stay, schedules are disabled and workspace-scoped tokens "
        "deleted by Windmill; a later create **unarchives** it. `delete` drops it. An existing workspace "
        "fails the create unless `adopt` (or it is what a lost create answer of the same user left). An "
        "archived workspace reads as gone. `name` and `color` change with one call each; `deletion_mode` "
        "and `adopt` with none."
    ),
    inputs=(
        Field("workspace_id", str, "workspace id", required=True, replace_on_change=True,
              validate=rules.validate_workspace_id),
        Field("name", str, "display name (at most 50 characters)", required=True,
              validate=rules.validate_workspace_name),
        Field("color", str, "`#rrggbb` colour in the UI", validate=rules.validate_color),
        Field("deletion_mode", str, "what a delete does: `archive` (keeps all data) or `delete`",
              default="archive", validate=rules.validate_deletion_mode, local=True),
        Field("adopt", bool, "take over a workspace that already exists instead of failing", default=False,
              local=True),
    ),
    outputs=(ADOPTED_OUTPUT,),
)


class WorkspaceProvider(WindmillProvider):
    """Dynamic provider for a Windmill workspace."""

    declaration = WORKSPACE

    def object_id(self, inputs: dict[str, Any]) -> str:
        return str(inputs["workspace_id"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"workspace_id": id_}

    def create_or_adopt(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws = inputs["workspace_id"]
        if inputs.get("adopt"):
            live = self.live_for_adoption(client, inputs)
            if live is not None:
                return self.adopt_existing(client, inputs, live)
        try:
            return self.create_object(client, inputs)
        except (AlreadyExistsError, BadRequestError) as error:
            # Community Edition counts workspaces before it looks for the id, so at its limit an
            # existing id answers with the limit message (windmill-labs/windmill
            # backend/windmill-api-workspaces/src/workspaces.rs @ c9db8c90dc3a5ae463c3cc067964c85002a1f901,
            # create_workspace calls _check_nb_of_workspaces before check_w_id_conflict).
            existing = _get_workspace(client, ws)
            if not isinstance(error, AlreadyExistsError) and (existing is None or WORKSPACE_LIMIT not in error.message):
                raise
        if existing is not None and existing.get("deleted"):
            # A workspace archived by an earlier destroy keeps its data; bring it back.
            client.post(f"/workspaces/unarchive/{ws}")
            self._apply(client, ws, existing, inputs, {"name", "color"})
            return {}
        live = self.live_for_adoption(client, inputs)
        if live is not None and (inputs.get("adopt") or (
            not self.adoption_differences(inputs, live) and _created_by_caller(client, existing)
        )):
            return self.adopt_existing(client, inputs, live)
        raise WorkspaceExistsError(
            f"Windmill workspace {ws!r} already exists and is not managed by this stack. Set "
            f"adopt=true on it to take it over (its content is kept), or choose another id."
        ) from None

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws = inputs["workspace_id"]
        body: dict[str, Any] = {"id": ws, "name": inputs["name"]}
        if inputs.get("color"):
            body["color"] = inputs["color"]
        client.create(
            "/workspaces/create",
            body,
            exists=lambda: client.exists("/workspaces/exists", method="POST", body={"id": ws}),
        )
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws = state.get("workspace_id") or id_
        live = _get_workspace(client, ws)
        if live is None or live.get("deleted"):
            return None  # an archived workspace is gone as far as this stack is concerned
        out = {
            "workspace_id": ws,
            "name": live.get("name"),
            "deletion_mode": state.get("deletion_mode", "archive"),
            "adopt": state.get("adopt", False),
        }
        if live.get("color"):
            out["color"] = live["color"]
        return out

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        self._apply(client, news["workspace_id"], olds, news, changed)
        return {}

    def _apply(
        self, client: WindmillClient, ws: str, current: dict[str, Any], wanted: dict[str, Any], fields: set[str]
    ) -> None:
        if "name" in fields and current.get("name") != wanted["name"]:
            client.post(f"/w/{ws}/workspaces/change_workspace_name", {"new_name": wanted["name"]})
        if "color" in fields and current.get("color") != wanted.get("color"):
            client.post(f"/w/{ws}/workspaces/change_workspace_color", {"color": wanted.get("color")})

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        ws = state["workspace_id"]
        if state.get("deletion_mode") == "delete":
            client.delete(f"/workspaces/delete/{ws}")  # 200 even when it never existed (§3)
            return
        with contextlib.suppress(NotFoundError):  # already gone
            client.post(f"/w/{ws}/workspaces/archive")


def _created_by_caller(client: WindmillClient, workspace: dict[str, Any]) -> bool:
    """Whether the token's user created ``workspace`` (Windmill records the creator's email as owner)."""
    owner = workspace.get("owner")
    try:
        return bool(owner) and owner == client.get_json("/users/whoami").get("email")
    except ApiError:  # a token limited to one workspace cannot ask who it is
        return False


def _get_workspace(client: WindmillClient, ws: str) -> dict[str, Any] | None:
    """The workspace including archived ones; None when it does not exist."""
    try:
        return client.get_or_none(f"/w/{ws}/workspaces/get_as_superadmin")
    except UnauthorizedError:
        # Not a superadmin: the member list only shows non-archived workspaces (§3).
        for item in client.get_json("/workspaces/list"):
            if item.get("id") == ws:
                return dict(item)
        return None


WorkspaceArgs = args_class(WORKSPACE, __name__)


class Workspace(WindmillResource, provider=WorkspaceProvider):
    """A Windmill workspace, managed through the Windmill API."""
