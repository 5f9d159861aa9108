"""Members of a Windmill workspace (docs/windmill-api.md §4.1).

Identity: ``workspace`` and ``email`` (lowercase: Windmill lowercases emails). ``role`` (``admin``,
``developer`` or ``operator``) updates in place. The email does not need to be an instance user
yet: the membership activates when that person first logs in.

Windmill chooses the member's ``username`` (it derives it from the email); it is an output, read
back after the add, so groups can reference it. A create finding the email already a member takes
the membership over when its role is the declared one; with ``adopt`` also when it is not (the
role is then updated). A membership that existed before is never removed, not even by a failed
create.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource, split_id
from .client import WindmillClient
from .errors import NotFoundError, deleted_outside_pulumi
from .schema import ADOPTED_OUTPUT, WORKSPACE_INPUT, Declaration, Field, args_class

MEMBER = Declaration(
    kind="member",
    type_name="Member",
    label="member",
    summary=(
        "A member of a workspace. A `role` change looks the member up, then makes one update. `username` "
        "is chosen by Windmill and read back after the add (2 requests per create). An email that is "
        "already a member is taken over when its role matches, with `adopt` also when it does not (one role "
        "update); an adopted membership is never removed, not even by a failed create."
    ),
    inputs=(
        WORKSPACE_INPUT,
        Field("email", str, "the person's email, lowercase (need not have logged in yet)", required=True,
              replace_on_change=True, validate=rules.validate_email),
        Field("role", str, "`admin`, `developer` or `operator`", default="developer",
              validate=rules.validate_member_role),
        Field("adopt", bool, "manage a membership that already exists even when its role differs", default=False,
              local=True),
    ),
    outputs=(
        Field("username", str, "the member's username in the workspace, as Windmill chose it"),
        ADOPTED_OUTPUT,
    ),
)


def _role_flags(role: str) -> dict[str, bool]:
    # Roles are two booleans on the wire; always send both (§13: the server requires them).
    return {"is_admin": role == "admin", "operator": role == "operator"}


def _role_of(row: dict[str, Any]) -> str:
    if row.get("is_admin"):
        return "admin"
    return "operator" if row.get("operator") else "developer"


class MemberProvider(WindmillProvider):
    """Dynamic provider for one workspace membership."""

    declaration = MEMBER

    def object_id(self, inputs: dict[str, Any]) -> str:
        return f"{inputs['workspace']}/{inputs['email']}"

    def state_from_id(self, id_: str) -> dict[str, Any]:
        workspace, email = split_id(id_)
        return {"workspace": workspace, "email": email}

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        ws, email, role = inputs["workspace"], inputs["email"], inputs.get("role", "developer")
        # An email that is already a member answers "already exists": the base class adopts it.
        client.create(
            f"/w/{ws}/workspaces/add_user",
            {"email": email, **_role_flags(role)},
            exists=lambda: _find(client, ws, email) is not None,
        )
        try:
            row = _find(client, ws, email)
            if row is None:
                raise NotFoundError("GET", f"/w/{ws}/users/list", 200, f"{email} missing right after being added")
            if _role_of(row) != role:
                client.post(f"/w/{ws}/users/update/{row['username']}", _role_flags(role))
        except Exception as error:
            raise self.rolled_back(client, inputs, error) from None  # the membership is this create's own
        return {"username": row["username"]}

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        ws, email = state["workspace"], state["email"]
        row = _find(client, ws, email)
        if row is None:
            return None
        return {
            "workspace": ws,
            "email": email,
            "role": _role_of(row),
            "adopt": state.get("adopt", False),
            "username": row["username"],
        }

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        if "role" in changed:
            # Looked up again rather than trusted from state: Windmill answers an unknown username
            # with a bare SQL error (§4.1), and the row may have been removed outside Pulumi.
            username = _require(client, news["workspace"], news["email"])["username"]
            client.post(f"/w/{news['workspace']}/users/update/{username}", _role_flags(news["role"]))
            return {"username": username}
        return {}

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        ws = state["workspace"]
        username = state.get("username")
        if not username:
            row = _find(client, ws, state["email"])
            if row is None:
                return
            username = row["username"]
        client.delete(f"/w/{ws}/users/delete/{username}")  # a 404 means already gone


def _find(client: WindmillClient, ws: str, email: str) -> dict[str, Any] | None:
    for row in client.get_json(f"/w/{ws}/users/list"):
        if str(row.get("email", "")).lower() == email:
            return dict(row)
    return None


def _require(client: WindmillClient, ws: str, email: str) -> dict[str, Any]:
    row = _find(client, ws, email)
    if row is None:
        missing = NotFoundError("GET", f"/w/{ws}/users/list", 404, "not in the member list")
        raise deleted_outside_pulumi(missing, "member", email, ws)
    return row


MemberArgs = args_class(MEMBER, __name__)


class Member(WindmillResource, provider=MemberProvider):
    """A member of a Windmill workspace; ``username`` is the name Windmill gave it."""
