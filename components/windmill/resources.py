"""Windmill resources (docs/windmill-api.md §6).

Identity: ``workspace`` and ``path``. ``value`` (any JSON), ``description`` and ``resource_type``
update in place in one call: a type change goes through ``create?update_if_exists=true``, the
upsert that is the only call able to change a resource's type.

Secrets do not belong in a resource value: reference a secret variable with ``"$var:<path>"`` (or
another resource with ``"$res:<path>"``). Windmill stores such strings literally and resolves them
when a job reads the resource, so state holds only the reference and refresh compares the raw
stored value. References are checked for a valid path at preview.

Windmill deletes the variable at a resource's path together with the resource; declaring both at
one path is refused (see ``paths.py``).
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient, quote_path
from .errors import NotFoundError, deleted_outside_pulumi
from .paths import claim_path
from .rules import reference_problems, references
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, JSON_TYPES, WORKSPACE_INPUT, Declaration, Field, args_class
from .values import is_unknown

__all__ = ["RESOURCE", "Resource", "ResourceArgs", "ResourceProvider", "reference_problems", "references"]

RESOURCE = Declaration(
    kind="resource",
    type_name="Resource",
    label="resource",
    summary=(
        "A resource of a workspace (a typed JSON value such as database settings). `value` and "
        "`description` change with one call, `resource_type` with one upsert call. `$var:`/`$res:` paths "
        "are checked at preview; refresh compares the raw stored value, never the resolved one."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("path", str, "`f/<folder>/<name>` (or `u/…`, `g/…`)", required=True, replace_on_change=True,
              validate=rules.validate_item_path),
        Field("resource_type", str, "a hub type such as `postgresql`, or a custom `c_` type", required=True,
              validate=rules.validate_resource_type_name),
        Field("value", JSON_TYPES, "the value; reference secrets as `\"$var:<variable path>\"`", default={}),
        Field("description", str, "shown in the Windmill UI", default=""),
        ADOPT_INPUT,
    ),
    outputs=(ADOPTED_OUTPUT,),
)


class ResourceProvider(WindmillProvider):
    """Dynamic provider for a Windmill resource (a typed JSON value such as database settings)."""

    declaration = RESOURCE

    def object_id(self, inputs: dict[str, Any]) -> str:
        return f"{inputs['workspace']}/{inputs['path']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, path = split_id(id_)
        return {"workspace": workspace, "path": path}

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        value = inputs.get("value")
        if value is None or is_unknown(value):
            return []
        return [CheckFailure("value", problem) for problem in reference_problems(value)]

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws = inputs["workspace"]
        client.create(
            f"/w/{ws}/resources/create",
            _body(inputs),
            exists=lambda: client.exists(f"/w/{ws}/resources/exists/{quote_path(inputs['path'])}"),
        )
        return {}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, path = state["workspace"], state["path"]
        live = client.get_or_none(f"/w/{ws}/resources/get/{quote_path(path)}")
        if live is None:
            return None
        return {
            "workspace": ws,
            "path": path,
            "resource_type": live.get("resource_type"),
            "value": live.get("value") if live.get("value") is not None else {},
            "description": live.get("description") or "",
        }

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        ws, path = news["workspace"], news["path"]
        if "resource_type" in changed:
            # Only the upsert can change the type; it rewrites value and description too.
            client.request("POST", f"/w/{ws}/resources/create", json=_body(news),
                           params={"update_if_exists": "true"})
            return {}
        body: dict[str, Any] = {}
        if "value" in changed:
            body["value"] = news.get("value", {})
        if "description" in changed:
            body["description"] = news.get("description", "")
        try:
            client.post(f"/w/{ws}/resources/update/{quote_path(path)}", body)
        except NotFoundError as error:
            raise deleted_outside_pulumi(error, "resource", path, ws) from None
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/w/{state['workspace']}/resources/delete/{quote_path(state['path'])}")


def _body(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": inputs["path"],
        "resource_type": inputs["resource_type"],
        "value": inputs.get("value", {}),
        "description": inputs.get("description", ""),
    }


ResourceArgs = args_class(RESOURCE, __name__)


class Resource(WindmillResource, provider=ResourceProvider):
    """A resource in a Windmill workspace; reference secrets with ``"$var:<variable path>"``."""

    def before_register(self, resource_name: str, args: Any) -> None:
        claim_path("resource", resource_name, args.workspace, args.path)
