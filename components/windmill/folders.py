"""Windmill folders (docs/windmill-api.md §4.3).

Identity: ``workspace`` and ``name`` (letters, digits and ``_`` only: Windmill refuses hyphens).
``summary``, ``owners`` and ``extra_perms`` update in place, in one call: Windmill replaces the whole
``owners`` and ``extra_perms`` values on update, so the provider always sends the complete
desired value.

Windmill adds the creating user to ``owners`` and forces every owner to ``true`` (write) in
``extra_perms``. Neither is drift: ``read`` leaves out the creator when it was not asked for and
the write flags that ownership implies, so a freshly created folder shows no diff. Deleting a
folder removes only the folder itself; the scripts, flows and variables under ``f/<name>/`` stay.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient
from .errors import UnauthorizedError, deleted_outside_pulumi
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class


def _perms(value: Any) -> str | None:
    for key, write in value.items():
        if rules.validate_principal(key) is not None:
            return f"keys {rules.PRINCIPAL_RULE}; got {key!r}"
        if not isinstance(write, bool):
            return f"values must be true (write) or false (read); {key!r} has {write!r}"
    return None


FOLDER = Declaration(
    kind="folder",
    type_name="Folder",
    label="folder",
    summary=(
        "A folder of a workspace. Everything but the identity changes with one call: Windmill replaces "
        "`owners`/`extra_perms` whole, so the full value is sent; owners always get write. Windmill adds "
        "the creating user as owner: not drift. Deleting a folder keeps the items under `f/<name>/`."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("name", str, "folder name: letters, digits and `_` (no hyphens)", required=True,
              replace_on_change=True, validate=rules.validate_folder_name),
        Field("summary", str, "shown in the Windmill UI", default=""),
        Field("owners", list, "owners, `u/<user>` or `g/<group>` (order does not matter)", default=[],
              validate=rules.each(rules.validate_principal, rules.PRINCIPAL_RULE),
              normalize=lambda v: sorted(set(v))),
        Field("extra_perms", dict, "more principals: `{principal: true (write) | false (read)}`", default={},
              validate=_perms),
        ADOPT_INPUT,
    ),
    outputs=(ADOPTED_OUTPUT,),
)


class FolderProvider(WindmillProvider):
    """Dynamic provider for a Windmill folder."""

    declaration = FOLDER

    def object_id(self, inputs: dict[str, Any]) -> str:
        return f"{inputs['workspace']}/{inputs['name']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, name = split_id(id_)
        return {"workspace": workspace, "name": name}

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        perms, owners = inputs.get("extra_perms") or {}, inputs.get("owners") or []
        if isinstance(perms, dict) and isinstance(owners, list):
            readonly = [o for o in owners if perms.get(o) is False]
            if readonly:
                return [CheckFailure("extra_perms", f"owners must have write access; {readonly!r} set to false")]
        return []

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws, name = inputs["workspace"], inputs["name"]
        client.create(
            f"/w/{ws}/folders/create",
            {"name": name, "summary": inputs.get("summary", ""), **_acl(inputs)},
            exists=lambda: client.exists(f"/w/{ws}/folders/exists/{name}"),
        )
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, name = state["workspace"], state["name"]
        live = client.get_or_none(f"/w/{ws}/folders/get/{name}")
        if live is None:
            return None
        wanted_owners = set(state.get("owners") or [])
        wanted_perms: dict[str, bool] = state.get("extra_perms") or {}
        creator = f"u/{live.get('created_by')}" if live.get("created_by") else None
        owners = [
            o for o in live.get("owners") or [] if o in wanted_owners or o != creator
        ]
        perms = {}
        for principal, write in (live.get("extra_perms") or {}).items():
            if principal in wanted_perms:
                perms[principal] = write
            elif principal == creator and principal not in wanted_owners:
                continue  # Windmill added the creator; not drift
            elif principal in owners and write is True:
                continue  # implied by ownership
            else:
                perms[principal] = write
        return {
            "workspace": ws,
            "name": name,
            "summary": live.get("summary") or "",
            "owners": sorted(set(owners)),
            "extra_perms": perms,
        }

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        ws, name = news["workspace"], news["name"]
        try:
            client.post(f"/w/{ws}/folders/update/{name}", {"summary": news.get("summary", ""), **_acl(news)})
        except UnauthorizedError as error:
            # Windmill answers 401 "not an owner" for a folder that does not exist (§4.3).
            if not client.exists(f"/w/{ws}/folders/exists/{name}"):
                raise deleted_outside_pulumi(error, "folder", name, ws) from None
            raise
        return {}

    def adoption_update(
        self, client: WindmillClient, live: dict[str, Any], inputs: dict[str, Any], differing: set[str]
    ) -> dict[str, Any]:
        # The update replaces owners whole. The creator's ownership is not drift (read leaves it
        # out), so taking the folder over must not remove it either: send it along when they have it.
        raw = client.get_or_none(f"/w/{inputs['workspace']}/folders/get/{inputs['name']}") or {}
        creator = f"u/{raw['created_by']}" if raw.get("created_by") else None
        owners = list(inputs.get("owners") or [])
        if creator and creator in (raw.get("owners") or []) and creator not in owners:
            owners.append(creator)
        return self.update_object(client, live, {**inputs, "owners": owners}, differing)

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/w/{state['workspace']}/folders/delete/{state['name']}")


def _acl(inputs: dict[str, Any]) -> dict[str, Any]:
    """The complete owners and extra_perms to send: owners always get write (§4.3)."""
    owners = sorted(set(inputs.get("owners") or []))
    perms = {**(inputs.get("extra_perms") or {}), **dict.fromkeys(owners, True)}
    return {"owners": owners, "extra_perms": perms}


FolderArgs = args_class(FOLDER, __name__)


class Folder(WindmillResource, provider=FolderProvider):
    """A folder in a Windmill workspace."""
