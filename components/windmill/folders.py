"""Windmill folders (windmill-api.md §4.3).

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

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure

from .base import WORKSPACE_FIELD, Connection, Field, WindmillProvider, WindmillResource, pattern, split_id
from .client import UnauthorizedError, WindmillClient

PRINCIPAL = r"[ug]/[\w.@+-]+"
PRINCIPAL_RULE = "must be u/<username> or g/<group>"


def _principals(value: Any) -> str | None:
    bad = [v for v in value if not isinstance(v, str) or pattern(PRINCIPAL, PRINCIPAL_RULE)(v) is not None]
    return f"{PRINCIPAL_RULE}; got {bad!r}" if bad else None


def _perms(value: Any) -> str | None:
    for key, write in value.items():
        if pattern(PRINCIPAL, PRINCIPAL_RULE)(key) is not None:
            return f"keys {PRINCIPAL_RULE}; got {key!r}"
        if not isinstance(write, bool):
            return f"values must be true (write) or false (read); {key!r} has {write!r}"
    return None


class FolderProvider(WindmillProvider):
    """Dynamic provider for a Windmill folder."""

    kind = "folder"
    fields = (
        WORKSPACE_FIELD,
        Field(
            "name",
            str,
            required=True,
            replace_on_change=True,
            validate=pattern(r"[a-zA-Z_0-9]+", "may contain only letters, digits and '_' (no hyphens)"),
        ),
        Field("summary", str, default=""),
        Field("owners", list, default=[], validate=_principals, normalize=lambda v: sorted(set(v))),
        Field("extra_perms", dict, default={}, validate=_perms),
    )

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
                raise UnauthorizedError(
                    error.method, error.path, error.status,
                    f"folder {name!r} no longer exists in workspace {ws!r}",
                    hint="It was deleted outside Pulumi: run `pulumi refresh`, then `pulumi up` re-creates it",
                ) from None
            raise
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/w/{state['workspace']}/folders/delete/{state['name']}")


def _acl(inputs: dict[str, Any]) -> dict[str, Any]:
    """The complete owners and extra_perms to send: owners always get write (§4.3)."""
    owners = sorted(set(inputs.get("owners") or []))
    perms = {**(inputs.get("extra_perms") or {}), **dict.fromkeys(owners, True)}
    return {"owners": owners, "extra_perms": perms}


@dataclass(frozen=True)
class FolderArgs:
    """Inputs of a Windmill folder. ``owners`` and ``extra_perms`` use ``u/<user>``/``g/<group>``."""

    workspace: pulumi.Input[str]
    name: pulumi.Input[str]
    summary: pulumi.Input[str] = ""
    owners: pulumi.Input[list[str]] | None = None
    extra_perms: pulumi.Input[dict[str, bool]] | None = None


class Folder(WindmillResource, module="windmill", name="Folder"):
    """A folder in a Windmill workspace."""

    workspace: pulumi.Output[str]
    name: pulumi.Output[str]
    owners: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        args: FolderArgs,
        opts: pulumi.ResourceOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        props = {
            "workspace": args.workspace,
            "name": args.name,
            "summary": args.summary,
            "owners": args.owners if args.owners is not None else [],
            "extra_perms": args.extra_perms if args.extra_perms is not None else {},
        }
        super().__init__(FolderProvider(), resource_name, props, opts, connection)
