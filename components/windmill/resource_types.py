"""Custom Windmill resource types (docs/windmill-api.md §6).

Identity: ``workspace`` and ``name``. ``schema`` (a JSON Schema object) and ``description``
update in place in one call.

Every workspace also sees the hub types kept in the ``admins`` workspace (``postgresql``, ``s3``,
``slack`` …), and a custom type may shadow one of them. The provider therefore only counts a type
as its own when Windmill reports it in the stack's workspace; a hub type of the same name does not
hide an out-of-band deletion. Windmill's UI convention for custom types is a ``c_`` prefix.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class


def _schema(value: Any) -> str | None:
    kind = value.get("type")
    if kind is not None and kind != "object":
        return f"must be a JSON Schema whose type is 'object' (a resource value is an object), got {kind!r}"
    properties = value.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return "properties must be an object mapping property names to JSON Schemas"
    return None


RESOURCE_TYPE = Declaration(
    kind="resource_type",
    type_name="ResourceType",
    label="resource type",
    summary=(
        "A custom resource type of a workspace (e.g. `c_alpaca`). `schema` and `description` change with "
        "one call. A hub type of the same name in `admins` is not mistaken for it."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("name", str, "type name, at most 50 of `[\\w-]` (convention: a `c_` prefix)", required=True,
              replace_on_change=True, validate=rules.validate_resource_type_name),
        Field("schema", dict, "JSON Schema of the values, type `object`", default={}, validate=_schema),
        Field("description", str, "shown in the Windmill UI", default=""),
        ADOPT_INPUT,
    ),
    outputs=(ADOPTED_OUTPUT,),
)


class ResourceTypeProvider(WindmillProvider):
    """Dynamic provider for a custom resource type of one workspace."""

    declaration = RESOURCE_TYPE

    def object_id(self, inputs: dict[str, Any]) -> str:
        return f"{inputs['workspace']}/{inputs['name']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, name = split_id(id_)
        return {"workspace": workspace, "name": name}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws = inputs["workspace"]
        client.create(
            f"/w/{ws}/resources/type/create",
            {"name": inputs["name"], "schema": inputs.get("schema", {}), "description": inputs.get("description", "")},
            exists=lambda: _own_type(client, ws, inputs["name"]) is not None,
        )
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, name = state["workspace"], state["name"]
        live = _own_type(client, ws, name)
        if live is None:
            return None
        return {
            "workspace": ws,
            "name": name,
            "schema": live.get("schema") or {},
            "description": live.get("description") or "",
        }

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        # Windmill answers 200 here even for a missing type (§6); refresh is what finds deletions.
        client.post(
            f"/w/{news['workspace']}/resources/type/update/{news['name']}",
            {"schema": news.get("schema", {}), "description": news.get("description", "")},
        )
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/w/{state['workspace']}/resources/type/delete/{state['name']}")  # a 404 means already gone


def _own_type(client: WindmillClient, ws: str, name: str) -> dict[str, Any] | None:
    live = client.get_or_none(f"/w/{ws}/resources/type/get/{name}")
    if live is None or live.get("workspace_id") not in (None, ws):
        return None  # missing, or only the hub type of the same name in `admins`
    return dict(live)


ResourceTypeArgs = args_class(RESOURCE_TYPE, __name__)


class ResourceType(WindmillResource, provider=ResourceTypeProvider):
    """A custom resource type (e.g. ``c_alpaca``) in a Windmill workspace."""
