"""Calls the instance-level resources share: password login, token minting and revocation, and the
Windmill facts they rely on (the seeded default admin, the virtual ``SUPERADMIN_SECRET`` user, the
editions). No declaration lives here; ``first_boot.py``, ``default_admin.py``, ``instance_users.py``
and the other instance modules use these helpers.

Sources (windmill-labs/windmill, read at the commits cited):

* ``backend/windmill-api-users/src/users.rs`` @ 82e5f6de48e246a49b25e7d4ea7be65122e8772c: ``login``
  answers the session token as text, or 400 ``Invalid login``; ``delete_user`` deletes no token, so
  a user's API tokens outlive the user and must be revoked first; the first migration seeds
  ``admin@windmill.dev`` with the password ``changeme`` (``is_first_time_setup`` checks that hash).
* ``backend/windmill-api-auth/src/tokens.rs`` @ 2b8af5ddd48543bf785078a2972b2e54f3fff452: a token is a
  superadmin token when its creator's ``password`` row is a superadmin's; the virtual
  ``SUPERADMIN_SECRET`` user has no row, so the tokens it mints are not.
* ``DELETE /users/tokens/delete/{prefix}`` deletes only the caller's own tokens with that prefix.
"""

from __future__ import annotations

import datetime as dt
import secrets as random_secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from .client import ConnectionSettings, WindmillClient
from .errors import BadRequestError, UnauthorizedError

DEFAULT_ADMIN_EMAIL = "admin@windmill.dev"
DEFAULT_ADMIN_PASSWORD = "changeme"  # noqa: S105 - Windmill's published default, which first boot replaces
SUPERADMIN_SECRET_EMAIL = "superadmin_secret@windmill.dev"  # noqa: S105 - an email, not a secret
EDITIONS = ("ce", "ee")
TOKEN_LIST_PARAMS = {"exclude_ephemeral": "true", "per_page": "10000"}


def generate_password() -> str:
    """A password nobody has seen: 43 URL-safe characters (256 bits)."""
    return random_secrets.token_urlsafe(32)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def with_token(settings: ConnectionSettings, token: str) -> WindmillClient:
    """A client on the same instance, timeouts and pool rules, authenticated with ``token``."""
    return WindmillClient(
        ConnectionSettings(settings.url, token, settings.connect_timeout, settings.read_timeout)
    )


def login(settings: ConnectionSettings, email: str, password: str) -> str | None:
    """``POST /auth/login``: a session token, or None when Windmill answers ``Invalid login``.

    Sent without any Authorization header, on a client of its own (never pooled); the password is
    redacted from any error.
    """
    anonymous = ConnectionSettings(settings.url, "", settings.connect_timeout, settings.read_timeout)
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    with httpx.Client(base_url=settings.api_base, timeout=timeout) as http:
        client = WindmillClient(anonymous, http=http)
        try:
            response = client.request("POST", "/auth/login", json={"email": email, "password": password},
                                      redact=[password])
        except BadRequestError as error:
            if "Invalid login" in error.message:
                return None
            raise
    return response.text.strip()


@contextmanager
def session(settings: ConnectionSettings, email: str, password: str) -> Iterator[WindmillClient | None]:
    """A client logged in as ``email`` for the ``with`` block (None when the login is refused); the
    session token is deleted afterwards, so no session outlives the call."""
    token = login(settings, email, password)
    if token is None:
        yield None
        return
    client = with_token(settings, token)
    try:
        yield client
    finally:
        revoke(client, token[:10])


def own_tokens(client: WindmillClient) -> list[dict[str, Any]]:
    """The caller's tokens (``GET /users/tokens/list``): Windmill lists only the caller's own."""
    return list(client.get_json("/users/tokens/list", TOKEN_LIST_PARAMS))


def revoke(client: WindmillClient, prefix: str) -> None:
    """Delete the caller's tokens starting with ``prefix`` (200 even when none matched)."""
    client.delete(f"/users/tokens/delete/{prefix}")


def revoke_all_own_tokens(client: WindmillClient, keep_prefix: str | None = None) -> int:
    """Delete every token of the caller but ``keep_prefix`` (the one in use goes last, elsewhere);
    returns how many were deleted."""
    prefixes = {row["token_prefix"] for row in own_tokens(client) if row.get("token_prefix")}
    prefixes.discard(keep_prefix)
    for prefix in sorted(prefixes):
        revoke(client, prefix)
    return len(prefixes)


def mint_token(client: WindmillClient, label: str, expiration: dt.datetime) -> str:
    """``POST /users/tokens/create`` for the caller, expiring at ``expiration``: the token value.

    A create whose answer is lost left a token nobody knows: it is found by its label (random
    suffix) and deleted before the create is sent again.
    """
    body = {"label": label, "expiration": rfc3339(expiration)}

    def discard() -> None:
        for row in own_tokens(client):
            if row.get("label") == label and row.get("token_prefix"):
                revoke(client, row["token_prefix"])

    response = client.create("/users/tokens/create", body, discard=discard)
    assert response is not None  # with discard=, create() always returns the answer
    return response.text.strip()


def token_works(settings: ConnectionSettings, token: str) -> bool:
    """Whether ``token`` still authenticates (``GET /users/whoami``)."""
    try:
        with_token(settings, token).get_json("/users/whoami")
    except UnauthorizedError:
        return False
    return True


def whoami(client: WindmillClient) -> dict[str, Any]:
    return dict(client.get_json("/users/whoami"))


def instance_user(client: WindmillClient, email: str) -> dict[str, Any] | None:
    """The instance user with this email (``list_as_super_admin``), or None."""
    for row in client.get_json("/users/list_as_super_admin", {"per_page": "10000"}):
        if row.get("email") == email:
            return dict(row)
    return None
