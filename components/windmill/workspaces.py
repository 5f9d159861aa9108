"""Windmill workspaces (windmill-api.md §3).

Identity: ``workspace_id`` (a change replaces the workspace). ``name`` and ``color`` update in
place. ``deletion_mode`` decides what ``pulumi destroy`` does: ``archive`` (default) keeps every
script, flow, variable and job of the workspace and a later create unarchives it; ``delete``
removes the workspace and its data for good. ``adopt`` lets a create take over a workspace that
already exists instead of failing.

Creating, unarchiving and deleting need a superadmin token (CREATE_WORKSPACE_REQUIRE_SUPERADMIN
defaults to true); the Community Edition allows two workspaces besides ``admins``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import pulumi

from .base import (
    Connection,
    Field,
    WindmillProvider,
    WindmillResource,
    max_length,
    pattern,
    validate_workspace_id,
)
from .client import AlreadyExistsError, NotFoundError, UnauthorizedError, WindmillClient

DELETION_MODES = ("archive", "delete")


class WorkspaceExistsError(Exception):
    """A create found the workspace already there and ``adopt`` is off."""


class WorkspaceProvider(WindmillProvider):
    """Dynamic provider for a Windmill workspace."""

    kind = "workspace"
    fields = (
        Field("workspace_id", str, required=True, replace_on_change=True, validate=validate_workspace_id),
        Field("name", str, required=True, validate=max_length(50)),
        Field("color", str, validate=pattern(r"#[0-9a-fA-F]{6}", "must be a #rrggbb colour")),
        Field(
            "deletion_mode",
            str,
            default="archive",
            validate=lambda v: None if v in DELETION_MODES else f"must be 'archive' or 'delete', got {v!r}",
        ),
        Field("adopt", bool, default=False),
    )

    def object_id(self, inputs: dict[str, Any]) -> str:
        return str(inputs["workspace_id"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"workspace_id": id_}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws = inputs["workspace_id"]
        body: dict[str, Any] = {"id": ws, "name": inputs["name"]}
        if inputs.get("color"):
            body["color"] = inputs["color"]
        try:
            client.create(
                "/workspaces/create",
                body,
                exists=lambda: client.exists("/workspaces/exists", method="POST", body={"id": ws}),
            )
            return {}
        except AlreadyExistsError:
            existing = _get_workspace(client, ws)
        if existing is not None and existing.get("deleted"):
            # A workspace archived by an earlier destroy keeps its data; bring it back.
            client.post(f"/workspaces/unarchive/{ws}")
        elif not inputs.get("adopt"):
            raise WorkspaceExistsError(
                f"Windmill workspace {ws!r} already exists and is not managed by this stack. Set "
                f"adopt=true on it to take it over (its content is kept), or choose another id."
            ) from None
        current = {"name": existing.get("name"), "color": existing.get("color")} if existing else {}
        self._apply(client, ws, current, inputs, {"name", "color"})
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


@dataclass(frozen=True)
class WorkspaceArgs:
    """Inputs of a Windmill workspace (see the module docstring for semantics)."""

    workspace_id: pulumi.Input[str]
    name: pulumi.Input[str]
    color: pulumi.Input[str] | None = None
    deletion_mode: pulumi.Input[str] = "archive"
    adopt: pulumi.Input[bool] = False


class Workspace(WindmillResource, module="windmill", name="Workspace"):
    """A Windmill workspace, managed through the Windmill API."""

    workspace_id: pulumi.Output[str]
    name: pulumi.Output[str]
    color: pulumi.Output[str | None]
    deletion_mode: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: WorkspaceArgs,
        opts: pulumi.ResourceOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        props = {
            "workspace_id": args.workspace_id,
            "name": args.name,
            "color": args.color,
            "deletion_mode": args.deletion_mode,
            "adopt": args.adopt,
        }
        super().__init__(WorkspaceProvider(), resource_name, props, opts, connection)
