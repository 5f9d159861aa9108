"""Windmill groups (windmill-api.md §4.2).

Identity: ``workspace`` and ``name``. ``summary`` and ``members`` (workspace usernames) change in
place: membership changes add and remove only the users that differ. Windmill accepts any username
when adding but only lists members of the workspace, so ``members`` must name workspace members
(``Member.username``); the WindmillWorkspace component checks this at preview.

Windmill makes the creating user an owner and a member of a new group. The provider leaves that
membership alone: ``read`` does not count an owner's membership as drift unless ``members`` asks
for it, so the group shows no diff right after creation. The built-in ``all`` group cannot be
managed (Windmill refuses to remove users from it or delete it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .base import WORKSPACE_FIELD, Connection, Field, WindmillProvider, WindmillResource, pattern, split_id
from .client import WindmillClient

USERNAME = r"[\w.@+-]+"


def _group_name(value: Any) -> str | None:
    if value == "all":
        return "'all' is Windmill's built-in group of every member and cannot be managed"
    return pattern(r"[\w-]+", "may contain only letters, digits, '_' and '-'")(value)


def _usernames(value: Any) -> str | None:
    check = pattern(USERNAME, "")
    bad = [v for v in value if not isinstance(v, str) or check(v) is not None]
    return f"must be workspace usernames (not emails or u/ paths); got {bad!r}" if bad else None


class GroupProvider(WindmillProvider):
    """Dynamic provider for a Windmill group and its membership."""

    kind = "group"
    fields = (
        WORKSPACE_FIELD,
        Field("name", str, required=True, replace_on_change=True, validate=_group_name),
        Field("summary", str, default=""),
        Field("members", list, default=[], validate=_usernames, normalize=lambda v: sorted(set(v))),
    )

    def object_id(self, inputs: dict[str, Any]) -> str:
        return f"{inputs['workspace']}/{inputs['name']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, name = split_id(id_)
        return {"workspace": workspace, "name": name}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws, name = inputs["workspace"], inputs["name"]
        client.create(
            f"/w/{ws}/groups/create",
            {"name": name, "summary": inputs.get("summary", "")},
            exists=lambda: client.get_or_none(f"/w/{ws}/groups/get/{name}") is not None,
        )
        try:
            for username in sorted(set(inputs.get("members") or [])):
                client.post(f"/w/{ws}/groups/adduser/{name}", {"username": username})  # idempotent (§9.3)
        except Exception as error:
            raise self.rolled_back(client, inputs, error) from None
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, name = state["workspace"], state["name"]
        live = client.get_or_none(f"/w/{ws}/groups/get/{name}")
        if live is None:
            return None
        wanted = set(state.get("members") or [])
        owners = {p[2:] for p, write in (live.get("extra_perms") or {}).items() if p.startswith("u/") and write}
        members = sorted({m for m in live.get("members") or [] if m in wanted or m not in owners})
        return {"workspace": ws, "name": name, "summary": live.get("summary") or "", "members": members}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        ws, name = news["workspace"], news["name"]
        if "summary" in changed:
            client.post(f"/w/{ws}/groups/update/{name}", {"summary": news.get("summary", "")})
        if "members" in changed:
            before, after = set(olds.get("members") or []), set(news.get("members") or [])
            for username in sorted(after - before):
                client.post(f"/w/{ws}/groups/adduser/{name}", {"username": username})
            for username in sorted(before - after):
                client.post(f"/w/{ws}/groups/removeuser/{name}", {"username": username})
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/w/{state['workspace']}/groups/delete/{state['name']}")  # a 404 means already gone


@dataclass(frozen=True)
class GroupArgs:
    """Inputs of a Windmill group; ``members`` are workspace usernames (see ``Member.username``)."""

    workspace: pulumi.Input[str]
    name: pulumi.Input[str]
    summary: pulumi.Input[str] = ""
    members: pulumi.Input[list[pulumi.Input[str]]] | None = None


class Group(WindmillResource, module="windmill", name="Group"):
    """A group in a Windmill workspace, with its members."""

    workspace: pulumi.Output[str]
    name: pulumi.Output[str]
    members: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        args: GroupArgs,
        opts: pulumi.ResourceOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        props = {
            "workspace": args.workspace,
            "name": args.name,
            "summary": args.summary,
            "members": args.members if args.members is not None else [],
        }
        super().__init__(GroupProvider(), resource_name, props, opts, connection)
