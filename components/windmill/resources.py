"""Windmill resources (windmill-api.md §6).

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

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure

from .base import (
    WORKSPACE_FIELD,
    Connection,
    Field,
    WindmillProvider,
    WindmillResource,
    is_unknown,
    pattern,
    split_id,
    validate_item_path,
)
from .client import NotFoundError, WindmillClient, quote_path
from .paths import claim_path

JSON_KINDS = (dict, list, str, int, float, bool)
RESOURCE_TYPE_NAME = pattern(r"[\w-]{1,50}", "must be 1 to 50 letters, digits, '_' or '-'")


def references(value: Any, where: str = "value") -> list[tuple[str, str, str]]:
    """Every ``$var:``/``$res:`` string in a JSON value, as ``(location, "var"|"res", path)``."""
    found: list[tuple[str, str, str]] = []
    if isinstance(value, str) and value.startswith(("$var:", "$res:")):
        found.append((where, value[1:4], value[5:]))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(references(item, f"{where}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(references(item, f"{where}[{index}]"))
    return found


def reference_problems(value: Any, where: str = "value") -> list[str]:
    """Every reference in a JSON value whose path is not a valid item path."""
    problems = []
    for location, kind, path in references(value, where):
        problem = validate_item_path(path)
        if problem:
            problems.append(f"{location}: reference '${kind}:{path}' {problem}")
    return problems


class ResourceProvider(WindmillProvider):
    """Dynamic provider for a Windmill resource (a typed JSON value such as database settings)."""

    kind = "resource"
    fields = (
        WORKSPACE_FIELD,
        Field("path", str, required=True, replace_on_change=True, validate=validate_item_path),
        Field("resource_type", str, required=True, validate=RESOURCE_TYPE_NAME),
        Field("value", JSON_KINDS, default={}),
        Field("description", str, default=""),
    )

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
            raise NotFoundError(
                error.method, error.path, error.status, error.message,
                hint="The resource was deleted outside Pulumi: run `pulumi refresh`, then `pulumi up` re-creates it",
            ) from None
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


@dataclass(frozen=True)
class ResourceArgs:
    """Inputs of a Windmill resource; reference secrets with ``"$var:<variable path>"``."""

    workspace: pulumi.Input[str]
    path: pulumi.Input[str]
    resource_type: pulumi.Input[str]
    value: pulumi.Input[Any] = None
    description: pulumi.Input[str] = ""


class Resource(WindmillResource, module="windmill", name="Resource"):
    """A resource in a Windmill workspace."""

    workspace: pulumi.Output[str]
    path: pulumi.Output[str]
    resource_type: pulumi.Output[str]
    value: pulumi.Output[Any]

    def __init__(
        self,
        resource_name: str,
        args: ResourceArgs,
        opts: pulumi.ResourceOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        claim_path("resource", resource_name, args.workspace, args.path)
        props = {
            "workspace": args.workspace,
            "path": args.path,
            "resource_type": args.resource_type,
            "value": args.value if args.value is not None else {},
            "description": args.description,
        }
        super().__init__(ResourceProvider(), resource_name, props, opts, connection)
