"""The default admin Windmill seeds on a fresh database: ``admin@windmill.dev`` / ``changeme``.

``action: remove`` deletes the account; ``action: rotate`` keeps it with a generated password
(output ``password``, a secret the program exports). Either way its password is first replaced
and every API token it ever minted revoked (logged in with the new password, it lists and deletes
its own tokens), because anyone could have used the published password: and Windmill deletes no
token with its user (users.rs ``delete_user``), so a removed account's tokens would keep working.
An account that is already gone needs nothing.

Refresh reports what the instance satisfies: ``remove`` when the account is gone, ``rotate`` when it
exists, so a removed account that came back is drift the next ``pulumi up`` repairs. Refresh never
logs in to test the password: a login is a write (a session, or Windmill's ``users.login_failure``
audit entry), and refresh only reads; so a password set back by hand is not seen. Deleting this
resource changes nothing in Windmill: the default admin is never restored.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .instance_api import (
    DEFAULT_ADMIN_EMAIL,
    generate_password,
    instance_user,
    revoke_all_own_tokens,
    session,
)
from .schema import Declaration, Field, args_class

ACTIONS = ("remove", "rotate")

DEFAULT_ADMIN = Declaration(
    kind="default_admin",
    type_name="DefaultAdmin",
    label="default admin",
    summary=(
        "Removes Windmill's seeded `admin@windmill.dev` (`remove`) or gives it a generated password (`rotate`, "
        "output `password`); either way the tokens it minted are revoked first (Windmill keeps a deleted user's "
        "tokens). Refresh reads `action` back as what the instance satisfies (a removed account that is back "
        "reads `rotate`). Deleting it restores nothing."
    ),
    inputs=(
        Field("email", str, "the seeded account", default=DEFAULT_ADMIN_EMAIL, replace_on_change=True,
              validate=rules.validate_email),
        Field("action", str, "`remove` (preferred once an operator superadmin exists) or `rotate`",
              default="remove", validate=rules.one_of(ACTIONS)),
    ),
    outputs=(
        Field("password", str, "the generated password (`rotate`; empty after `remove`)", secret=True),
        Field("revoked_tokens", int, "how many of its tokens the last apply revoked"),
    ),
)


class DefaultAdminProvider(WindmillProvider):
    """Dynamic provider for the seeded default admin."""

    declaration = DEFAULT_ADMIN

    def object_id(self, outputs: dict[str, Any]) -> str:
        return str(outputs["email"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"email": id_}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        return _apply(client, inputs["email"], inputs.get("action", "remove"))

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        email, wanted = state.get("email") or id_, state.get("action", "remove")
        live = {"email": email, **self.declaration.known_outputs(state)}
        # Gone satisfies both actions; present is what rotate leaves (no login: refresh only reads).
        return {**live, "action": wanted if instance_user(client, email) is None else "rotate"}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        return _apply(client, news["email"], news.get("action", "remove"))

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        return None  # the default admin is never brought back


def _apply(client: WindmillClient, email: str, action: str) -> dict[str, Any]:
    """Replace the password, revoke every token of the account, then remove it or keep it."""
    if instance_user(client, email) is None:
        return {"password": "", "revoked_tokens": 0}
    password = generate_password()
    client.post(f"/users/set_password_of/{email}", {"password": password}, redact=[password])
    revoked = 0
    with session(client.settings, email, password) as own:
        if own is not None:  # the session itself is revoked when the block ends
            revoked = revoke_all_own_tokens(own, keep_prefix=own.settings.token[:10])
    if action == "remove":
        client.delete(f"/users/delete/{email}")
        password = ""
    return {"password": password, "revoked_tokens": revoked}


DefaultAdminArgs = args_class(DEFAULT_ADMIN, __name__)


class DefaultAdmin(WindmillResource, provider=DefaultAdminProvider):
    """Windmill's seeded default admin, removed or given a generated password."""
