"""Every error the Windmill provider package raises, under one root: ``WindmillError``.

* ``ApiError`` and its subclasses: a Windmill API call failed. ``error_for_status`` maps an HTTP
  answer to its class through one table (``STATUS_ERRORS``); each class carries the hint an
  operator needs. Messages name the method, path, status and Windmill's message, never a secret
  (the client redacts them before building the error).
* ``deleted_outside_pulumi`` builds the one message for an object that vanished between two runs.
* ``ConnectionConfigError``, ``AdoptionRequiredError``, ``ReadinessTimeout`` and
  ``PathConflictError``: the provider cannot proceed for a reason that is not an HTTP status.

Catch ``WindmillError`` to handle anything this package raises.
"""

from __future__ import annotations

from typing import ClassVar


class WindmillError(Exception):
    """The root of every error raised by ``components.windmill``."""


# -- API calls ---------------------------------------------------------------------------------


class ApiError(WindmillError):
    """An API call failed. Carries what an operator needs to act, and never a secret.

    ``status`` is None when no HTTP answer arrived (connection refused, dropped, timed out).
    """

    default_hint: ClassVar[str] = ""

    def __init__(
        self, method: str, path: str, status: int | None, message: str, hint: str | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.hint = self.default_hint if hint is None else hint
        what = f"HTTP {status}" if status is not None else "no response"
        text = f"Windmill API {method} {path} failed ({what}): {message}"
        if self.hint:
            text += f". {self.hint}"
        super().__init__(text)


class NotFoundError(ApiError):
    """404: the object does not exist (or, for some routes, is not visible to this token)."""


class AlreadyExistsError(ApiError):
    """400 "... already exists": Windmill never answers 409 (docs/windmill-api.md §9.1)."""


class BadRequestError(ApiError):
    """400 (including ``SqlErr`` check-constraint and row-level-security failures), 415 and 422."""


class UnauthorizedError(ApiError):
    """401: no or unknown token, not a member, or superadmin required."""

    default_hint = (
        "Check the API token (homeops-windmill:windmillToken, which the program passes as the "
        "resource's api_token): it must belong to a user of this workspace, or a superadmin for "
        "workspace-level operations, and must not be scoped to another workspace"
    )


class ForbiddenError(ApiError):
    """403: the token's user is not an admin of the workspace."""

    default_hint = "The token's user must be an admin of this workspace"


class ServerError(ApiError):
    """5xx that persisted through the retries."""


class WindmillConnectionError(ApiError):
    """The server could not be reached, or dropped the connection, through every retry."""


# Status -> error class; 400 becomes AlreadyExistsError when Windmill says "already exists".
STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    415: BadRequestError,
    422: BadRequestError,
}


def error_for_status(method: str, path: str, status: int, message: str) -> ApiError:
    """The typed error for a non-2xx answer (``message`` already redacted)."""
    kind = STATUS_ERRORS.get(status)
    if status == 400 and "already exists" in message:
        kind = AlreadyExistsError
    elif kind is None:
        kind = ServerError if status >= 500 else ApiError
    return kind(method, path, status, message)


def deleted_outside_pulumi(error: ApiError, kind: str, name: str, workspace: str) -> NotFoundError:
    """The error for an object state knows of but Windmill no longer has, saying how to repair.

    ``error`` is the failed call (a 404, or the 401 some routes answer for a missing object).
    """
    return NotFoundError(
        error.method, error.path, error.status,
        f"{kind} {name!r} no longer exists in workspace {workspace!r} ({error.message})",
        hint="It was deleted outside Pulumi: run `pulumi refresh`, then `pulumi up` re-creates it",
    )


# -- everything else ---------------------------------------------------------------------------


class ConnectionConfigError(WindmillError):
    """The provider cannot tell which Windmill instance to talk to, or with which token."""


class AdoptionRequiredError(WindmillError):
    """A create found the object already in Windmill and ``adopt`` is off."""


class WorkspaceExistsError(AdoptionRequiredError):
    """A create found the workspace already there and ``adopt`` is off."""


class MemberExistsError(AdoptionRequiredError):
    """A create found the email already a member and ``adopt`` is off."""


class ReadinessTimeout(WindmillError):
    """Windmill did not answer ``GET /api/version`` with 200 (and the expected version) in time."""


class PathConflictError(WindmillError):
    """A variable and a resource were declared at the same workspace path."""


class InstanceObjectExistsError(AdoptionRequiredError):
    """A create found the instance user or instance group already there and ``adopt`` is off."""


class FirstBootError(WindmillError):
    """First boot found no credential that works, or the instance refused what first boot needs."""


class EditionLimitError(WindmillError):
    """The run would exceed a Windmill Community Edition limit, or use an Enterprise-only setting."""
