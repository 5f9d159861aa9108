"""Windmill API tokens (docs/windmill-api.md §2.3).

A token belongs to the user whose API token the provider runs with. Inputs: ``label``, optional
``workspace`` (the token then works only on that workspace's routes), ``scopes`` and
``expiration`` (RFC 3339). Every input change **replaces** the token (the servers this project
targets cannot edit a token); the replacement is created before the old token is deleted, so
whatever uses the token (a GitHub Actions secret, say) can switch over without a gap.

Outputs: ``token`` (secret: Windmill shows the value only once, in the create response),
``token_prefix`` (its first 10 characters, how Windmill lists and deletes tokens) and
``windmill_label``, the label stored in Windmill: ``label`` plus a short random suffix, which
lets the provider find its own token again if the create response is lost.

Refresh lists the calling user's tokens: a token deleted in Windmill, or expired, reads as gone
and the next ``pulumi up`` creates a new one. Archiving a workspace deletes its scoped tokens.
Reads and deletes only see tokens of the same user: when the program says the API token now belongs
to another user (``api_identity``, set by first boot), the token is replaced, so the new owner
mints its successor and the old owner's token is deleted with the old owner's credential.
"""

from __future__ import annotations

import datetime as dt
import secrets as random_secrets
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import DiffResult

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .errors import WindmillError
from .schema import Declaration, Field, args_class

SCOPE = r"[a-z_]+:(read|write|run)(:[^\s]+)?"
SCOPE_RULE = "scopes look like variables:read, scripts:write:f/ops/* or jobs:run:flows:f/ops/deploy"


def _expiration(value: Any) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"must be an RFC 3339 date-time such as 2027-01-31T00:00:00Z; got {value!r}"
    if moment.tzinfo is None:
        return f"must include a time zone (e.g. a trailing Z); got {value!r}"
    return None


def _expired(expiration: Any) -> bool:
    if not expiration:
        return False
    moment = dt.datetime.fromisoformat(str(expiration).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment <= dt.datetime.now(dt.UTC)


TOKEN = Declaration(
    kind="token",
    type_name="Token",
    label="API token",
    summary=(
        "An API token of the user whose token the provider runs with. Every input replaces it (the "
        "targeted servers cannot edit tokens; the new token is created before the old one is deleted). "
        "Refresh lists the calling user's tokens: deleted or expired reads as gone. Archiving a workspace "
        "deletes its scoped tokens. A new `api_identity` (the program token's owner) replaces it too: the new "
        "owner mints the successor."
    ),
    inputs=(
        Field("label", str, "what the token is for (at most 100 characters)", required=True, replace_on_change=True,
              validate=rules.max_length(100)),
        Field("workspace", str, "limits the token to this workspace's routes", replace_on_change=True,
              validate=rules.validate_workspace_id),
        Field("scopes", list, "e.g. `jobs:run:flows:f/ops/deploy`; none means unrestricted", replace_on_change=True,
              validate=rules.each(rules.pattern(SCOPE, ""), SCOPE_RULE), normalize=lambda v: sorted(v)),
        Field("expiration", str, "RFC 3339 date-time", replace_on_change=True, validate=_expiration),
    ),
    outputs=(
        Field("token", str, "the token; Windmill shows it only once, in the create response", secret=True),
        Field("token_prefix", str, "its first 10 characters, how Windmill lists and deletes it (the id)"),
        Field("windmill_label", str, "label stored in Windmill: `label` plus a random suffix that finds a "
              "token whose create response was lost, which is then deleted and created again"),
    ),
)


class TokenProvider(WindmillProvider):
    """Dynamic provider for a Windmill API token."""

    declaration = TOKEN

    def object_id(self, outputs: Mapping[str, Any]) -> str:
        return str(outputs["token_prefix"])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        result = super().diff(_id, olds, news)
        if olds.get("api_identity") != news.get("api_identity"):
            # A token belongs to the user who minted it: a new owner replaces it (hand-over).
            return DiffResult(changes=True, replaces=[*result.replaces, "api_identity"], delete_before_replace=False)
        return result

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        label = f"{inputs['label']} (pulumi {random_secrets.token_hex(3)})"
        body: dict[str, Any] = {"label": label}
        if inputs.get("workspace"):
            body["workspace_id"] = inputs["workspace"]
        if inputs.get("scopes") is not None:
            body["scopes"] = list(inputs["scopes"])
        if inputs.get("expiration"):
            body["expiration"] = inputs["expiration"]
        # A lost response leaves a token whose value nobody knows: delete it before trying again.
        response = client.create("/users/tokens/create", body, discard=lambda: self._delete_labelled(client, label))
        if response is None:  # pragma: no cover - with discard=, create() always returns the answer
            raise WindmillError("token create returned no answer")
        token = response.text.strip()
        return {"token": token, "token_prefix": token[:10], "windmill_label": label}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        prefix = state.get("token_prefix") or id_
        for row in self._tokens(client):
            if row.get("token_prefix") == prefix:
                if _expired(row.get("expiration")):
                    return None
                return {**self._state(state), "token_prefix": prefix}
        return None

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        raise AssertionError("every token input replaces the token")  # pragma: no cover - diff replaces

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        prefix = state.get("token_prefix")
        if prefix:
            client.delete(f"/users/tokens/delete/{prefix}")  # 200 even when already gone (§2.3)

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"token_prefix": id_}

    def _tokens(self, client: WindmillClient) -> list[dict[str, Any]]:
        return list(client.get_json("/users/tokens/list", {"exclude_ephemeral": "true", "per_page": "10000"}))

    def _delete_labelled(self, client: WindmillClient, label: str) -> None:
        for row in self._tokens(client):
            if row.get("label") == label and row.get("token_prefix"):
                client.delete(f"/users/tokens/delete/{row['token_prefix']}")


TokenArgs = args_class(TOKEN, __name__)


class Token(WindmillResource, provider=TokenProvider):
    """A Windmill API token; ``token`` is a secret output."""
