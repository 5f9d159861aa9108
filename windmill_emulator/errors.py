"""Windmill's error answers: ``windmill_common::error::Error``, the status and plain-text body of each
variant (docs/windmill-api.md §9.1), and the database failures that handlers let propagate."""

from __future__ import annotations


class ApiError(Exception):
    """An error answer: a status code and a plain-text body.

    docs/windmill-api.md §9.1: errors are always ``Content-Type: text/plain`` whose body is the error's
    display string, never JSON.
    """

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


class DbError(Exception):
    """A failure the real server would get from Postgres (constraint, RLS, FK, no rows).

    Handlers let it propagate; the dispatcher turns it into ``400 SqlErr: … @file:line:col``
    (docs/windmill-api.md §9.1: "any SQL error" is 400). ``raw`` marks sqlx errors that are not
    database errors (``RowNotFound``) and therefore have no ``error returned from database:``
    prefix.
    """

    def __init__(self, message: str, *, location: str = "db.rs:1:1", raw: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.raw = raw

    def sqlx_display(self) -> str:
        """The sqlx error's Display string (what Windmill embeds after ``SqlErr:``)."""
        if self.raw:
            return self.message
        return f"error returned from database: {self.message}"

    def to_api_error(self) -> ApiError:
        # docs/windmill-api.md §9.1: SqlErr display is ``SqlErr: <db message> @<file>:<line>``, status 400.
        return ApiError(400, f"SqlErr: {self.sqlx_display()} @{self.location}")


ROW_NOT_FOUND = "no rows returned by a query that expected to return at least one row"


def not_found(msg: str) -> ApiError:
    """404 ``Not found: …`` (docs/windmill-api.md §9.1)."""
    return ApiError(404, f"Not found: {msg}")


def not_found_at_name(kind: str, name: str) -> ApiError:
    """Windmill's ``not_found_if_none`` text: ``Not found: <Kind> not found at name <name>``."""
    return not_found(f"{kind} not found at name {name}")


def bad_request(msg: str) -> ApiError:
    """400 ``Bad request: …`` (docs/windmill-api.md §9.1)."""
    return ApiError(400, f"Bad request: {msg}")


def not_authorized(msg: str) -> ApiError:
    """401 ``Not authorized: …`` (docs/windmill-api.md §9.1)."""
    return ApiError(401, f"Not authorized: {msg}")


def require_admin_error(username: str) -> ApiError:
    """403 ``Require Admin privileges for <username>`` (docs/windmill-api.md §9.1)."""
    return ApiError(403, f"Require Admin privileges for {username}")


def internal(msg: str, location: str | None = None) -> ApiError:
    """500 ``Internal: …`` (optionally with the ``@file:line:col`` of ``internal_err``)."""
    if location:
        return ApiError(500, f"Internal: {msg} @{location}")
    return ApiError(500, f"Internal: {msg}")


# docs/windmill-api.md §2.1: no (or an unknown) token gives 401 with the plain-text body ``Unauthorized``.
UNAUTHORIZED_BODY = "Unauthorized"


def unauthorized() -> ApiError:
    """The auth extractor's rejection: 401 ``Unauthorized``."""
    return ApiError(401, UNAUTHORIZED_BODY)


SUPER_ADMIN_REQUIRED = "This endpoint requires the caller to be a super admin"
