"""Windmill groups (docs/windmill-api.md §4.2).

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

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class

GROUP = Declaration(
    kind="group",
    type_name="Group",
    label="group",
    summary=(
        "A group of a workspace and its members. `summary` changes with one call; a `members` change adds "
        "and removes only the difference. The creating user becomes owner and member: not drift. `all` "
        "cannot be managed."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("name", str, "group name: letters, digits, `_` and `-`; not `all`", required=True,
              replace_on_change=True, validate=rules.validate_group_name),
        Field("summary", str, "shown in the Windmill UI", default=""),
        Field("members", list, "workspace usernames (a `Member`'s `username`; order does not matter)", default=[],
              validate=rules.each(rules.validate_username, "must be workspace usernames (not emails or u/ paths)"),
              normalize=lambda v: sorted(set(v))),
        ADOPT_INPUT,
    ),
    outputs=(ADOPTED_OUTPUT,),
)


class GroupProvider(WindmillProvider):
    """Dynamic provider for a Windmill group and its membership."""

    declaration = GROUP

    def created_as_sent(self, client: WindmillClient, inputs: dict[str, Any]) -> bool:
        # The create request sends the name and summary; members are added one call each afterwards,
        # so the first attempt's group has none of them yet (create_object adds them next).
        live = self.live_for_adoption(client, inputs)
        return live is not None and not self.adoption_differences(inputs, live) - {"members"}

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


GroupArgs = args_class(GROUP, __name__)


class Group(WindmillResource, provider=GroupProvider):
    """A group in a Windmill workspace, with its members."""
