"""The Community Edition's limits, checked before a run changes anything.

Windmill CE refuses a third non-archived workspace besides ``admins`` and a fourth group across the
whole instance (besides each workspace's ``all``, ``slack`` and ``error_handler``; every workspace's
``wm_deployers`` counts), with a 400 in the middle of whatever create reaches the limit first
(workspaces.rs ``create_workspace``; windmill-labs/windmill ``backend/windmill-api-groups/src/groups.rs`` @
3e67f263cc9cf26732c78279ee62a5753c5e5cc7, ``_check_nb_of_groups``). ``EditionLimits`` is the first
resource of a stack's Windmill resources: the program makes everything else wait for it. Its create
and update only read (``GET /api/version``, the workspaces, each workspace's groups) and fail, naming
the limit and the way out, when the workspaces and groups this stack declares would not fit next to
what the instance already holds. A stack that adds nothing new does not run the check (no input
changed). On the Enterprise Edition there is nothing to count; ``expected_edition: ee`` on a
server that reports CE fails too (Enterprise settings would silently do nothing there).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from . import rules
from .base import WindmillProvider, WindmillResource
from .client import WindmillClient
from .errors import ApiError, EditionLimitError
from .instance_api import EDITIONS
from .schema import Declaration, Field, args_class

MAX_WORKSPACES = 2  # besides admins
MAX_GROUPS = 3
UNCOUNTED_GROUPS = frozenset({"all", "error_handler", "slack"})
CREATED_WITH_EVERY_WORKSPACE = "wm_deployers"

EDITION_LIMITS = Declaration(
    kind="edition_limits",
    type_name="EditionLimits",
    label="edition limits check",
    summary=(
        "Refuses, before anything changes, a run that would exceed the Community Edition's two workspaces "
        "(besides `admins`) or three groups (instance-wide, `wm_deployers` included): only reads, and every "
        "other Windmill resource of the stack waits for it. Runs when the declared workspaces or groups change."
    ),
    inputs=(
        Field("workspaces", list, "ids of the workspaces this stack declares", default=[],
              validate=rules.each(rules.validate_workspace_id, rules.WORKSPACE_ID_RULE),
              normalize=lambda v: sorted(set(v))),
        Field("groups", list, "`<workspace>/<group>` of the groups this stack declares", default=[],
              normalize=lambda v: sorted(set(v))),
        Field("expected_edition", str, "`ce` or `ee` as the stack declares it (`ee` on a CE server fails)",
              validate=rules.one_of(EDITIONS)),
    ),
    outputs=(
        Field("edition", str, "the edition the server reported (`CE` or `EE`)"),
        Field("workspaces_in_use", int, "non-archived workspaces besides `admins` once this stack's exist"),
        Field("groups_in_use", int, "counted groups once this stack's exist"),
    ),
)


class EditionLimitsProvider(WindmillProvider):
    """Dynamic provider of the edition-limits check (reads only)."""

    declaration = EDITION_LIMITS

    def object_id(self, outputs: dict[str, Any]) -> str:
        return "edition-limits:" + ",".join(sorted(outputs.get("workspaces") or []))

    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        return enforce(client, inputs)

    def read_object(self, client: WindmillClient, id_: str, state: dict[str, Any]) -> dict[str, Any] | None:
        return dict(state)  # a check, not an object: nothing in Windmill to drift

    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        return enforce(client, news)

    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        return None


def enforce(client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
    """Count, and raise EditionLimitError when the declared objects would not fit."""
    version = client.version()
    edition = version.split()[0].upper() if version else "CE"
    expected = inputs.get("expected_edition")
    if expected == "ee" and edition != "EE":  # EE settings would silently do nothing on CE
        raise EditionLimitError(
            f"The stack declares edition {expected!r}, but Windmill at {client.settings.url} reports "
            f"{version!r}: set the edition to {edition.lower()!r}, or run the {expected.upper()} image"
        )
    if edition != "CE":
        return {"edition": edition, "workspaces_in_use": 0, "groups_in_use": 0}
    listed = client.get_json("/workspaces/list_as_superadmin", {"per_page": "1000"})
    known = {w["id"]: w for w in listed}
    active = sorted(w for w, row in known.items() if w != "admins" and not row.get("deleted"))
    declared = sorted(set(inputs.get("workspaces") or []))
    new_workspaces = [w for w in declared if w not in active]
    if len(active) + len(new_workspaces) > MAX_WORKSPACES:
        raise EditionLimitError(
            f"Windmill Community Edition allows {MAX_WORKSPACES} workspaces besides 'admins'; {len(active)} are "
            f"in use ({', '.join(active) or 'none'}) and this stack would add {', '.join(new_workspaces)}. Nothing "
            "was changed. Archive or delete a workspace first (a stack with deletionMode archive archives its "
            "workspace on pulumi destroy), or run the Enterprise Edition (windmillStack.edition: ee and a license key)"
        )
    existing = _counted_groups(client, known)
    added = sorted({g for g in inputs.get("groups") or [] if g not in existing}
                   | {f"{w}/{CREATED_WITH_EVERY_WORKSPACE}" for w in declared if w not in known})
    if len(existing) + len(added) > MAX_GROUPS:
        raise EditionLimitError(
            f"Windmill Community Edition allows {MAX_GROUPS} groups across the instance (besides 'all', 'slack' and "
            f"'error_handler'; each workspace's wm_deployers counts); {len(existing)} exist "
            f"({', '.join(sorted(existing)) or 'none'}) and this stack would add {', '.join(added)}. Nothing was "
            "changed. Remove a group from the stack config or delete one, or run the Enterprise Edition "
            "(windmillStack.edition: ee and a license key)"
        )
    return {"edition": edition, "workspaces_in_use": len(active) + len(new_workspaces),
            "groups_in_use": len(existing) + len(added)}


def _counted_groups(client: WindmillClient, workspaces: dict[str, Any]) -> set[str]:
    """``<workspace>/<group>`` of every group the CE limit counts (archived workspaces' too)."""
    counted: set[str] = set()
    for ws in sorted(workspaces):
        rows: list[dict[str, Any]] = []
        with suppress(ApiError):  # a workspace this token cannot list: counted by Windmill, not here
            rows = client.get_json(f"/w/{ws}/groups/list", {"per_page": "1000"})
        counted |= {f"{ws}/{row['name']}" for row in rows if row.get("name") not in UNCOUNTED_GROUPS}
    return counted


EditionLimitsArgs = args_class(EDITION_LIMITS, __name__)


class EditionLimits(WindmillResource, provider=EditionLimitsProvider):
    """The Community Edition limits check every other Windmill resource of a stack waits for."""
