"""First boot: from a bootstrap credential to the long-lived API token the program uses from then on.

A fresh Windmill has one superadmin, ``admin@windmill.dev`` with the published password
``changeme``, and (on the Docker stack) a generated ``SUPERADMIN_SECRET`` the servers accept as the
bearer of a virtual superadmin. Neither should run the instance: the first is public, and tokens
minted under the second are not superadmin tokens (tokens.rs: the flag comes from the creator's
``password`` row, which the virtual user lacks). ``FirstBoot`` therefore, in one create:

1. finds a credential that works: ``api_token`` (an operator's superadmin token, or the
   ``SUPERADMIN_SECRET``), else, with ``try_default_password``, a login as the default admin;
2. creates (or, after a lost state, takes back) the **automation user** ``automation_email``, a
   superadmin with a generated password no person knows (output ``automation_password``, a secret);
3. logs in as that user and mints the **program token**: an API token expiring after
   ``token_lifetime_days`` (output ``token``, a secret), then deletes that login session;
4. when the credential was the ``SUPERADMIN_SECRET``, revokes every token minted under it
   (``revoked_bootstrap_tokens``), so nothing stays that the virtual user owns.

The default admin itself is handled by ``DefaultAdmin`` once the operators exist; ``api_token`` is
read only by a create (and by an update that has nothing else left), so removing or retiring the
bootstrap credential later changes nothing. Every later call authenticates with the program token.

**Renewal.** ``diff`` reports an update when the program token expires within
``renew_days_before`` days, or refresh found it revoked: the update mints a new token (with the
current one, else by logging in as the automation user, else from the bootstrap credential as a
create would) and then revokes the old one, so every Windmill resource switches to the new
``token`` with an in-place update that makes no API call. A ``pulumi up`` at least every
``token_lifetime_days - renew_days_before`` days keeps it valid.

**Retry safety.** Each step is safe to repeat: an existing automation user gets a new password, a
token create whose answer was lost is found by its labelled suffix and deleted before the retry.
**Delete** revokes the automation user's tokens and removes the user (the program then needs
``windmillToken`` to manage the instance again).
"""

from __future__ import annotations

import datetime as dt
import secrets as random_secrets
from collections.abc import Mapping
from contextlib import ExitStack, suppress
from typing import Any

from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, UpdateResult

from . import rules
from .base import WindmillResource
from .client import ConnectionSettings, WindmillClient
from .errors import FirstBootError, UnauthorizedError
from .instance_api import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    SUPERADMIN_SECRET_EMAIL,
    generate_password,
    instance_user,
    mint_token,
    own_tokens,
    parse_rfc3339,
    revoke,
    revoke_all_own_tokens,
    rfc3339,
    session,
    utc_now,
    whoami,
    with_token,
)
from .rules import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS
from .schema import KIND_KEY, Declaration, DeclaredProvider, Field, args_class

DEFAULT_AUTOMATION_EMAIL = "windmill-automation@homeops.invalid"
DEFAULT_TOKEN_LABEL = "homeops-windmill program token"  # noqa: S105 - a label, not a token
# Read only when a create (or a recovering update) needs a way in: never a reason to update.
CREATE_ONLY = frozenset({"api_token", "try_default_password"})


def _days(minimum: int, maximum: int) -> rules.Validator:
    def validate(value: Any) -> str | None:
        ok = isinstance(value, int) and minimum <= value <= maximum
        return None if ok else f"must be a whole number of days from {minimum} to {maximum}, got {value!r}"

    return validate


FIRST_BOOT = Declaration(
    kind="first_boot",
    type_name="FirstBoot",
    label="first boot",
    summary=(
        "Turns a bootstrap credential (`api_token`: an operator's superadmin token or the `SUPERADMIN_SECRET`; "
        "else the default admin's published password) into a superadmin automation user and the program's "
        "expiring API token (`token`), and revokes what the `SUPERADMIN_SECRET` minted. `api_token` is read "
        "only by a create, so retiring it changes nothing. An update renews the token when it expires within "
        "`renew_days_before` days or was revoked (new token first, then the old one revoked). Delete revokes "
        "the automation user's tokens and removes it."
    ),
    inputs=(
        Field("automation_email", str, "the automation user the program acts as (a superadmin nobody logs in as)",
              default=DEFAULT_AUTOMATION_EMAIL, replace_on_change=True, validate=rules.validate_email),
        Field("automation_name", str, "its display name", default="HomeOps automation (Pulumi)",
              validate=rules.max_length(100)),
        Field("try_default_password", bool, "log in as `admin@windmill.dev` with the default password when "
              "`api_token` is not given or does not work", default=True),
        Field("token_label", str, "label of the program token (a random suffix is added)",
              default=DEFAULT_TOKEN_LABEL, validate=rules.max_length(80)),
        Field("token_lifetime_days", int, "how long each program token lives", default=90,
              validate=_days(1, 3650)),
        Field("renew_days_before", int, "renew the token this many days before it expires", default=30,
              validate=_days(0, 3649)),
        Field("revoke_bootstrap_tokens", bool, "revoke every token the `SUPERADMIN_SECRET` user minted",
              default=True),
    ),
    outputs=(
        Field("token", str, "the program token: every other Windmill resource's `api_token`", secret=True),
        Field("token_prefix", str, "its first 10 characters (empty when refresh found it revoked)"),
        Field("expires_at", str, "when the program token expires (RFC 3339)"),
        Field("automation_password", str, "the automation user's generated password (recovery only)", secret=True),
        Field("bootstrapped_with", str, "what the create authenticated with: `api_token` or `default_password`"),
        Field("revoked_bootstrap_tokens", int, "how many `SUPERADMIN_SECRET` tokens the create revoked"),
    ),
)


def renewal_due(state: Mapping[str, Any], renew_days_before: int) -> bool:
    """Whether the program token in ``state`` is missing, revoked, or expires within the window."""
    prefix, expires = state.get("token_prefix"), state.get("expires_at")
    if not prefix or not expires or not state.get("token"):
        return True
    return parse_rfc3339(str(expires)) - utc_now() <= dt.timedelta(days=renew_days_before)


class FirstBootProvider(DeclaredProvider):
    """Dynamic provider for first boot and the program token's renewal."""

    declaration = FIRST_BOOT

    def __getstate__(self) -> dict[str, Any]:
        return {}  # holds no data: only the class reaches state

    # -- check and diff ------------------------------------------------------------------------

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        lifetime, before = inputs.get("token_lifetime_days"), inputs.get("renew_days_before")
        if isinstance(lifetime, int) and isinstance(before, int) and before >= lifetime:
            return [CheckFailure("renew_days_before", f"must be less than token_lifetime_days ({lifetime}), "
                                                      f"got {before}")]
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        fields = tuple(f for f in self.declaration.all_inputs if f.name not in CREATE_ONLY)
        changed = self.declaration.changed_inputs(olds, news, fields)
        replaces = [f.name for f in changed if f.replace_on_change]
        due = renewal_due(olds, int(news.get("renew_days_before") or 30))
        return DiffResult(changes=bool(changed) or due, replaces=replaces, delete_before_replace=False)

    # -- the protocol ----------------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.declaration.known_inputs(props)
        outputs = self._boot(_settings(props), inputs)
        return CreateResult(inputs["automation_email"], {**_kept(inputs), KIND_KEY: FIRST_BOOT.kind, **outputs})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        state = {**_kept(self.declaration.known_inputs(props)), **self.declaration.known_outputs(props)}
        live = _live_token(_settings(props), state)
        outs = {**state, KIND_KEY: FIRST_BOOT.kind, **live}
        return ReadResult(id_, outs, inputs=self.declaration.known_inputs(outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self.declaration.known_inputs(news)
        state = {**self.declaration.known_outputs(olds)}
        if renewal_due(olds, int(inputs.get("renew_days_before") or 30)):
            state.update(self._renew(_settings(news), inputs, olds))
        return UpdateResult({**_kept(inputs), KIND_KEY: FIRST_BOOT.kind, **state})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        token = props.get("token")
        if not token:
            return
        client = with_token(_settings(props), token)
        email = props.get("automation_email") or DEFAULT_AUTOMATION_EMAIL
        with suppress(UnauthorizedError):  # the token no longer works: the user or the token is gone already
            revoke_all_own_tokens(client, keep_prefix=token[:10])
            client.delete(f"/users/delete/{email}")
            revoke(client, token[:10])  # a token outlives its user (users.rs): revoke it too

    # -- steps ----------------------------------------------------------------------------------

    def _boot(self, settings: ConnectionSettings, inputs: dict[str, Any]) -> dict[str, Any]:
        """The whole first boot (create, or an update whose own credentials are all gone)."""
        with ExitStack() as stack:
            admin, used, identity = _bootstrap_client(settings, inputs, stack)
            email, password = inputs["automation_email"], generate_password()
            _ensure_automation_user(admin, email, inputs.get("automation_name") or "", password)
            revoked = 0
            if identity == SUPERADMIN_SECRET_EMAIL and inputs.get("revoke_bootstrap_tokens", True):
                revoked = revoke_all_own_tokens(admin)
        with session(settings, email, password) as automation:
            if automation is None:
                raise FirstBootError(f"Windmill refused the login of {email} right after its password was set")
            minted = _mint(automation, inputs)
        return {**minted, "automation_password": password, "bootstrapped_with": used,
                "revoked_bootstrap_tokens": revoked}

    def _renew(self, settings: ConnectionSettings, inputs: dict[str, Any], olds: dict[str, Any]) -> dict[str, Any]:
        """A new program token, authenticated with the old one, else the automation login, else
        the bootstrap credential; the old token is revoked once the new one exists."""
        old_token, email = olds.get("token") or "", inputs["automation_email"]
        current = with_token(settings, old_token) if old_token else None
        if current is not None and _works(current):
            minted = _mint(current, inputs)
        else:
            with session(settings, email, olds.get("automation_password") or "") as automation:
                if automation is None:
                    return self._boot(settings, inputs)
                minted = _mint(automation, inputs)
        if old_token:
            with suppress(UnauthorizedError):  # the old token may be revoked already
                revoke(with_token(settings, minted["token"]), old_token[:10])
        return minted


def _kept(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as outputs, without the bootstrap credential: it is used once and never stored."""
    return {k: v for k, v in inputs.items() if k != "api_token"}


def _settings(props: Mapping[str, Any]) -> ConnectionSettings:
    url = props.get("api_url")
    if not url:
        raise FirstBootError("No Windmill URL for first boot: its api_url input is empty")
    return ConnectionSettings(
        url=url,
        token=props.get("api_token") or "",
        connect_timeout=float(props.get("api_connect_timeout_seconds") or DEFAULT_CONNECT_TIMEOUT_SECONDS),
        read_timeout=float(props.get("api_read_timeout_seconds") or DEFAULT_READ_TIMEOUT_SECONDS),
    )


def _works(client: WindmillClient) -> bool:
    try:
        whoami(client)
    except UnauthorizedError:
        return False
    return True


def _bootstrap_client(
    settings: ConnectionSettings, inputs: dict[str, Any], stack: ExitStack
) -> tuple[WindmillClient, str, str]:
    """A superadmin client from the bootstrap credential: (client, what was used, whose it is)."""
    if settings.token:
        client = with_token(settings, settings.token)
        try:
            me = whoami(client)
        except UnauthorizedError:
            me = None
        if me is not None:
            if not me.get("super_admin"):
                raise FirstBootError(f"the api_token given to first boot belongs to {me.get('email')!r}, which is "
                                     "not a superadmin: first boot needs a superadmin's token")
            return client, "api_token", str(me.get("email"))
    if inputs.get("try_default_password", True):
        admin = stack.enter_context(session(settings, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD))
        if admin is not None:
            return admin, "default_password", DEFAULT_ADMIN_EMAIL
    tried = ("the api_token given (it was refused), " if settings.token else "") + (
        f"a login as {DEFAULT_ADMIN_EMAIL} with the default password" if inputs.get("try_default_password", True)
        else "nothing else (try_default_password is off)")
    raise FirstBootError(
        f"First boot found no credential that works on {settings.url}: tried {tried}. The default admin's "
        "password has been changed or the account removed, so pass an API token of a Windmill superadmin "
        "(the program passes homeops-windmill:windmillToken: pulumi config set --secret windmillToken <token>)"
    )


def _ensure_automation_user(admin: WindmillClient, email: str, name: str, password: str) -> None:
    """Create the automation superadmin, or give the existing one this password and the flag."""
    existing = instance_user(admin, email)
    if existing is None:
        body = {"email": email, "password": password, "super_admin": True, "name": name, "skip_email": True}
        admin.create("/users/create", body, exists=lambda: instance_user(admin, email) is not None,
                     redact=[password])
        existing = instance_user(admin, email) or {}
    admin.post(f"/users/set_password_of/{email}", {"password": password}, redact=[password])
    if not existing.get("super_admin") or existing.get("disabled"):
        admin.post(f"/users/update/{email}", {"is_super_admin": True, "disabled": False})


def _mint(client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
    """A program token for the caller (the automation user), with its prefix and expiry."""
    expires = utc_now() + dt.timedelta(days=int(inputs.get("token_lifetime_days") or 90))
    label = f"{inputs.get('token_label') or DEFAULT_TOKEN_LABEL} (pulumi {random_secrets.token_hex(3)})"
    token = mint_token(client, label, expires)
    return {"token": token, "token_prefix": token[:10], "expires_at": rfc3339(expires)}


def _live_token(settings: ConnectionSettings, state: dict[str, Any]) -> dict[str, Any]:
    """What refresh sees of the program token: its expiry, or an empty prefix when it is revoked,
    expired or its user no longer a superadmin (the next update renews it then)."""
    token = state.get("token") or ""
    revoked = {"token_prefix": ""}
    if not token:
        return revoked
    client = with_token(settings, token)
    try:
        me = whoami(client)
        rows = own_tokens(client)
    except UnauthorizedError:
        return revoked
    row = next((r for r in rows if r.get("token_prefix") == token[:10]), None)
    if row is None or not me.get("super_admin") or me.get("email") != state.get("automation_email"):
        return revoked
    expires = row.get("expiration")
    return {"token_prefix": token[:10], "expires_at": rfc3339(parse_rfc3339(expires)) if expires else
            state.get("expires_at")}


FirstBootArgs = args_class(FIRST_BOOT, __name__)


class FirstBoot(WindmillResource, provider=FirstBootProvider):
    """First boot of a Windmill instance; ``token`` is the program's API token (a secret)."""
