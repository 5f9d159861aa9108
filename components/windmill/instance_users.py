"""Instance (global) users: the accounts of the Windmill instance, beyond any workspace.

Identity: ``email``. ``name``, ``super_admin``, ``devops`` and ``disabled`` update in place with one
call (``POST /users/update/{email}``, the ``windmill-api`` 1.819.0 ``GlobalUserUpdate``). A create
makes the account with a generated password (output ``initial_password``, a secret the program
exports for the operator to log in once and change) and sends no email. An email that is already a
user fails the create unless ``adopt``; an adopted user keeps its password (``initial_password`` is
empty) and gets the declared flags.

Delete removes the account (``DELETE /users/delete/{email}``): its workspace memberships go with it,
but Windmill deletes none of its API tokens (users.rs ``delete_user``), so tokens it minted keep
working: disable the user (``disabled: true``) or revoke its tokens first when that matters.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .errors import InstanceObjectExistsError, NotFoundError
from .instance_api import generate_password, instance_user
from .schema import Declaration, Field, args_class

# Declared field -> GlobalUserUpdate field.
UPDATE_FIELDS = {"name": "name", "super_admin": "is_super_admin", "devops": "is_devops", "disabled": "disabled"}

INSTANCE_USER = Declaration(
    kind="instance_user",
    type_name="InstanceUser",
    label="instance user",
    summary=(
        "An account of the instance. `name`, `super_admin`, `devops` and `disabled` change with one call. A "
        "create sets a generated password (`initial_password`, a secret) and sends no email; an existing email "
        "fails unless `adopt` (its password is kept). Delete removes the account, not the tokens it minted."
    ),
    inputs=(
        Field("email", str, "the account's email, lowercase", required=True, replace_on_change=True,
              validate=rules.validate_email),
        Field("name", str, "display name", default="", validate=rules.max_length(255)),
        Field("super_admin", bool, "superadmin of the instance (an operator)", default=False),
        Field("devops", bool, "the devops role (instance settings and workers, no superadmin)", default=False),
        Field("disabled", bool, "the account cannot be used", default=False),
        Field("adopt", bool, "manage an account that already exists instead of failing", default=False),
    ),
    outputs=(
        Field("initial_password", str, "the generated password of a created account (empty when adopted)",
              secret=True),
        Field("username", str, "the instance-wide username Windmill chose"),
    ),
)


class InstanceUserProvider(WindmillProvider):
    """Dynamic provider for one instance user."""

    declaration = INSTANCE_USER

    def object_id(self, outputs: dict[str, Any]) -> str:
        return str(outputs["email"])

    def state_from_id(self, id_: str) -> dict[str, Any]:
        return {"email": id_}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        email = inputs["email"]
        existing = instance_user(client, email)
        if existing is not None:
            if not inputs.get("adopt"):
                raise InstanceObjectExistsError(
                    f"Windmill instance user {email!r} already exists and is not managed by this stack. Set "
                    "adopt: true on it to take it over (its password is kept), or remove it from the config."
                )
            live = _declared(existing)
            changed = {name for name in UPDATE_FIELDS if inputs.get(name) is not None and live[name] != inputs[name]}
            if changed:
                self.update_object(client, live, inputs, changed)
            return {"initial_password": "", "username": existing.get("username") or ""}
        password = generate_password()
        body = {"email": email, "password": password, "super_admin": bool(inputs.get("super_admin")),
                "name": inputs.get("name") or None, "skip_email": True}
        client.create("/users/create", body, exists=lambda: instance_user(client, email) is not None,
                      redact=[password])
        extra = {name for name in ("devops", "disabled") if inputs.get(name)}
        if extra:
            self.update_object(client, {}, inputs, extra)
        created = instance_user(client, email) or {}
        return {"initial_password": password, "username": created.get("username") or ""}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        row = instance_user(client, state.get("email") or id_)
        if row is None:
            return None
        return {**_declared(row), "adopt": state.get("adopt", False),
                "initial_password": state.get("initial_password") or "", "username": row.get("username") or ""}

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        body = {UPDATE_FIELDS[name]: news.get(name) for name in sorted(changed) if name in UPDATE_FIELDS}
        if body:
            email = news["email"]
            try:
                client.post(f"/users/update/{email}", body)
            except NotFoundError as error:
                error.add_note(f"instance user {email!r} was deleted outside Pulumi: run `pulumi refresh`, then "
                               "`pulumi up` creates it again")
                raise
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        client.delete(f"/users/delete/{state['email']}")  # 404 when already gone: a success


def _declared(row: dict[str, Any]) -> dict[str, Any]:
    """A ``GlobalUserInfo`` row as the declaration's fields."""
    return {"email": row.get("email"), "name": row.get("name") or "", "super_admin": bool(row.get("super_admin")),
            "devops": bool(row.get("devops")), "disabled": bool(row.get("disabled"))}


InstanceUserArgs = args_class(INSTANCE_USER, __name__)


class InstanceUser(WindmillResource, provider=InstanceUserProvider):
    """An instance user; ``initial_password`` is a secret output."""
