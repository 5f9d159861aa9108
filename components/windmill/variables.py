"""Windmill variables and secrets (windmill-api.md §5).

Identity: ``workspace`` and ``path`` (``u/…``, ``f/…`` or ``g/…``). ``value``, ``is_secret`` and
``description`` update in place in one call (changing ``is_secret`` always sends the value too, as
Windmill requires).

Secrets: the ``value`` of a secret variable is a secret output, and so is ``encrypted_value``, the
ciphertext Windmill stored at the provider's last write. Refresh reads the variable with
``decrypt_secret=false&include_encrypted=true`` and compares ciphertexts, so it never pulls the
plaintext and writes no ``variables.decrypt_secret`` audit entry. Windmill encrypts with a fresh
nonce on every write, so a different ciphertext means someone wrote the variable outside Pulumi:
refresh then forgets the value it had in state, and the next ``pulumi up`` writes the configured
value again. Reading the ciphertext back costs one extra request after each write of a secret.

Windmill deletes the resource at a variable's path together with the variable; declaring both at
one path is refused (see ``paths.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .base import (
    WORKSPACE_FIELD,
    Connection,
    Field,
    WindmillProvider,
    WindmillResource,
    max_length,
    split_id,
    validate_item_path,
)
from .client import NotFoundError, WindmillClient, quote_path
from .paths import claim_path

MAX_VALUE_LENGTH = 15000  # VARCHAR(15000) (§5)


class VariableProvider(WindmillProvider):
    """Dynamic provider for a Windmill variable or secret."""

    kind = "variable"
    fields = (
        WORKSPACE_FIELD,
        Field("path", str, required=True, replace_on_change=True, validate=validate_item_path),
        Field("value", str, required=True, secret=True, validate=max_length(MAX_VALUE_LENGTH)),
        Field("is_secret", bool, default=True),
        Field("description", str, default=""),
    )
    computed = ("encrypted_value",)

    def object_id(self, inputs: dict[str, Any]) -> str:
        return f"{inputs['workspace']}/{inputs['path']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, path = split_id(id_)
        return {"workspace": workspace, "path": path}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws, path = inputs["workspace"], quote_path(inputs["path"])
        body = {
            "path": inputs["path"],
            "value": inputs["value"],
            "is_secret": inputs.get("is_secret", True),
            "description": inputs.get("description", ""),
        }
        client.create(
            f"/w/{ws}/variables/create",
            body,
            exists=lambda: client.exists(f"/w/{ws}/variables/exists/{path}"),
            redact=[inputs["value"]],
        )
        try:
            return self._ciphertext(client, inputs)
        except Exception as error:
            raise self.rolled_back(client, inputs, error) from None

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, path = state["workspace"], state["path"]
        live = client.get_or_none(
            f"/w/{ws}/variables/get/{quote_path(path)}",
            # Never decrypt on refresh: no plaintext over the wire, no audit entry (§5).
            {"decrypt_secret": "false", "include_encrypted": "true"},
        )
        if live is None:
            return None
        out: dict[str, Any] = {
            "workspace": ws,
            "path": path,
            "is_secret": bool(live.get("is_secret")),
            "description": live.get("description") or "",
        }
        if live.get("is_secret"):
            ciphertext = live.get("value")
            out["encrypted_value"] = ciphertext
            if state.get("is_secret", True) and ciphertext == state.get("encrypted_value"):
                out["value"] = state.get("value")
            # else: written outside Pulumi; the plaintext is unknown, so leave it out of state and
            # let the next update write the configured value again.
        else:
            out["value"] = live.get("value")
        return {k: v for k, v in out.items() if v is not None}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        ws, path = news["workspace"], news["path"]
        body: dict[str, Any] = {}
        if "description" in changed:
            body["description"] = news.get("description", "")
        if "is_secret" in changed:
            body["is_secret"] = news.get("is_secret", True)
        if changed & {"value", "is_secret"}:
            body["value"] = news["value"]  # also required by Windmill when is_secret changes (§5)
        try:
            client.post(f"/w/{ws}/variables/update/{quote_path(path)}", body, redact=[news["value"]])
        except NotFoundError as error:
            raise NotFoundError(
                error.method, error.path, error.status, error.message,
                hint="The variable was deleted outside Pulumi: run `pulumi refresh`, then `pulumi up` re-creates it",
            ) from None
        if "value" in body:
            return self._ciphertext(client, news)
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        # 200 even when already gone (§9.2).
        client.delete(f"/w/{state['workspace']}/variables/delete/{quote_path(state['path'])}")

    def _ciphertext(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        """Record the ciphertext of the write just made, to detect later writes by others."""
        if not inputs.get("is_secret", True):
            return {"encrypted_value": None}
        live = client.get_json(
            f"/w/{inputs['workspace']}/variables/get/{quote_path(inputs['path'])}",
            {"decrypt_secret": "false", "include_encrypted": "true"},
        )
        return {"encrypted_value": live.get("value")}


@dataclass(frozen=True)
class VariableArgs:
    """Inputs of a Windmill variable. ``value`` is stored as a Pulumi secret when ``is_secret``."""

    workspace: pulumi.Input[str]
    path: pulumi.Input[str]
    value: pulumi.Input[str]
    is_secret: bool = True
    description: pulumi.Input[str] = ""


class Variable(WindmillResource, module="windmill", name="Variable"):
    """A variable or secret in a Windmill workspace."""

    workspace: pulumi.Output[str]
    path: pulumi.Output[str]
    is_secret: pulumi.Output[bool]
    encrypted_value: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        args: VariableArgs,
        opts: pulumi.ResourceOptions | None = None,
        connection: Connection | None = None,
    ) -> None:
        claim_path("variable", resource_name, args.workspace, args.path)
        value: Any = pulumi.Output.secret(args.value) if args.is_secret else args.value
        props = {
            "workspace": args.workspace,
            "path": args.path,
            "value": value,
            "is_secret": args.is_secret,
            "description": args.description,
        }
        secret_outputs = ("value", "encrypted_value") if args.is_secret else ("encrypted_value",)
        super().__init__(VariableProvider(), resource_name, props, opts, connection, secret_outputs)
