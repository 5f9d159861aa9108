"""Instance groups: groups of instance users by email, across every workspace (``/api/groups/…``).

Identity: ``name``, already in the form Windmill stores (it lowercases names and turns spaces into
``_``). ``summary`` changes with one call; a ``members`` change adds and removes only the difference
(one call per email). Windmill's create is an ``INSERT … ON CONFLICT DO NOTHING`` (groups.rs), so it
would silently take over a group of the same name: the provider looks first, and an existing group
fails the create unless ``adopt`` (then its summary and members become the declared ones).
Instance groups do not count toward the Community Edition's limit of three (workspace) groups.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .errors import InstanceObjectExistsError, NotFoundError
from .schema import Declaration, Field, args_class

INSTANCE_GROUP = Declaration(
    kind="instance_group",
    type_name="InstanceGroup",
    label="instance group",
    summary=(
        "A group of instance users (by email) across workspaces. `summary` changes with one call; a `members` "
        "change adds and removes only the difference. An existing group fails the create unless `adopt`. Not "
        "counted by the Community Edition's group limit."
    ),
    inputs=(
        Field("name", str, "group name as Windmill stores it (lowercase)", required=True, replace_on_change=True,
              validate=rules.validate_instance_group_name),
        Field("summary", str, "shown in the Windmill UI", default=""),
        Field("members", list, "emails of instance users (order does not matter)", default=[],
              validate=rules.each(rules.validate_email, rules.EMAIL_RULE), normalize=lambda v: sorted(set(v))),
        Field("adopt", bool, "manage a group that already exists instead of failing", default=False),
    ),
)


class InstanceGroupProvider(WindmillProvider):
    """Dynamic provider for one instance group."""

    declaration = INSTANCE_GROUP

    def object_id(self, outputs: dict[str, Any]) -> str:
        return str(outputs["name"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"name": id_}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        name = inputs["name"]
        existing = _get(client, name)
        if existing is not None:
            if not inputs.get("adopt"):
                raise InstanceObjectExistsError(
                    f"Windmill instance group {name!r} already exists and is not managed by this stack. Set "
                    "adopt: true on it to take it over (its summary and members become the declared ones)."
                )
            return self.update_object(client, existing, inputs, {"summary", "members"})
        # ON CONFLICT DO NOTHING: repeating it after a lost answer is harmless.
        client.post("/groups/create", {"name": name, "summary": inputs.get("summary", "")})
        return self.update_object(client, {"members": []}, inputs, {"members"})

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        live = _get(client, state.get("name") or id_)
        if live is None:
            return None
        return {**live, "adopt": state.get("adopt", False)}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        name = news["name"]
        try:
            if "summary" in changed:
                client.post(f"/groups/update/{name}", {"new_summary": news.get("summary", "")})
            if "members" in changed:
                before, after = set(olds.get("members") or []), set(news.get("members") or [])
                for email in sorted(after - before):
                    client.post(f"/groups/adduser/{name}", {"email": email})
                for email in sorted(before - after):
                    client.post(f"/groups/removeuser/{name}", {"email": email})
        except NotFoundError as error:
            error.add_note(f"instance group {name!r} was deleted outside Pulumi: run `pulumi refresh`, then "
                           "`pulumi up` creates it again")
            raise
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/groups/delete/{state['name']}")  # 200 even when already gone


def _get(client: WindmillClient, name: str) -> dict[str, Any] | None:
    row = client.get_or_none(f"/groups/get/{name}")
    if row is None:
        return None
    return {"name": row.get("name") or name, "summary": row.get("summary") or "",
            "members": sorted(row.get("emails") or [])}


InstanceGroupArgs = args_class(INSTANCE_GROUP, __name__)


class InstanceGroup(WindmillResource, provider=InstanceGroupProvider):
    """An instance group and its members (emails)."""
