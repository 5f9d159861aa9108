"""Windmill variables and secrets (docs/windmill-api.md §5).

Identity: ``workspace`` and ``path`` (``u/…``, ``f/…`` or ``g/…``). ``value``, ``is_secret`` and
``description`` update in place in one call (changing ``is_secret`` always sends the value too, as
Windmill requires).

Secrets: the ``value`` of a secret variable is a secret output, and so is ``encrypted_value``, the
ciphertext Windmill stored at the provider's last write. Refresh reads the variable with
``decrypt_secret=false&include_encrypted=true`` and compares ciphertexts, so it never pulls the
plaintext and writes no ``variables.decrypt_secret`` audit entry. Windmill's encryption is
deterministic (AES-256-CBC with a fixed IV, docs/windmill-api.md §5), so a different ciphertext
means someone changed the value outside Pulumi (or the workspace key changed): refresh then forgets
the value it had in state, and the next ``pulumi up`` writes the configured value again. Reading the
ciphertext back costs one extra request after each write of a secret.

Adoption (a create that finds the variable already there) is the one place a secret is decrypted: it
compares the stored secret's value with the declared one. That read writes one
``variables.decrypt_secret`` audit entry; the value is compared in memory and never stored, logged or
shown.

Windmill deletes the resource at a variable's path together with the variable; declaring both at
one path is refused (see ``paths.py``).
"""

from __future__ import annotations

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient, quote_path
from .errors import NotFoundError, deleted_outside_pulumi
from .paths import claim_path
from .schema import ADOPT_INPUT, ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class

VARIABLE = Declaration(
    kind="variable",
    type_name="Variable",
    label="variable",
    summary=(
        "A variable or secret of a workspace. Everything but the identity changes with one call "
        "(changing `is_secret` sends the value too). See *Secrets and drift* below."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("path", str, "`f/<folder>/<name>` (or `u/…`, `g/…`)", required=True, replace_on_change=True,
              validate=rules.validate_item_path),
        Field("value", str, "the value (at most 15000 characters); a Pulumi secret when `is_secret`",
              required=True, secret=True, validate=rules.max_length(rules.MAX_VARIABLE_VALUE_LENGTH)),
        Field("is_secret", bool, "store encrypted; decided when the program runs (a plain value)", default=True),
        Field("description", str, "shown in the Windmill UI", default=""),
        ADOPT_INPUT,
    ),
    outputs=(
        Field("encrypted_value", str, "ciphertext Windmill stored at the provider's last write of a secret",
              secret=True),
        ADOPTED_OUTPUT,
    ),
)


class VariableProvider(WindmillProvider):
    """Dynamic provider for a Windmill variable or secret."""

    declaration = VARIABLE

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

    def live_for_adoption(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any] | None:
        ws, path = inputs["workspace"], quote_path(inputs["path"])
        live = client.get_or_none(
            f"/w/{ws}/variables/get/{path}", {"decrypt_secret": "false", "include_encrypted": "true"}
        )
        if live is None:
            return None
        out: dict[str, Any] = {
            "workspace": inputs["workspace"],
            "path": inputs["path"],
            "is_secret": bool(live.get("is_secret")),
            "description": live.get("description") or "",
            "value": live.get("value"),
        }
        if live.get("is_secret"):
            out["encrypted_value"] = live.get("value")
            # The plaintext, to compare with the declared value (see the module docstring).
            out["value"] = client.get_json(f"/w/{ws}/variables/get_value/{path}") if live.get("value") else ""
        return out

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
            raise deleted_outside_pulumi(error, "variable", path, ws) from None
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


VariableArgs = args_class(VARIABLE, __name__)


class Variable(WindmillResource, provider=VariableProvider):
    """A variable or secret in a Windmill workspace; ``value`` is a Pulumi secret when ``is_secret``."""

    def before_register(self, resource_name: str, args: Any) -> None:
        claim_path("variable", resource_name, args.workspace, args.path)

    def secret_inputs(self, args: Any) -> set[str]:
        # Anything but a plain False (None, True, an Output) keeps the value secret.
        return set() if args.is_secret is False else super().secret_inputs(args)
