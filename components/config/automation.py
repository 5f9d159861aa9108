"""What schedules, workspace settings and alert routing need from the stack as a whole.

* The **edition** of the instance: ``windmillEdition`` (``ce`` or ``ee``). On the platform stack
  that runs Windmill it defaults to ``windmillStack.edition`` and must agree with it; elsewhere it
  defaults to ``ce``. Enterprise-only settings and schedule handlers are refused on ``ce``, each
  named by its key (``workspace_settings.edition_problems``, ``schedules.edition_problems``).
* **Alert routing**: a domain with ``platformLink.alerts`` has its alert forwarder as error
  handler, so ``workspace.settings.errorHandler`` cannot be declared too.
* The **sync scope**: the forwarder is deployed by Pulumi, so the domain's ``wmill.yaml`` excludes
  its path (a push would otherwise delete a script the repository folder does not hold).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import Problems
from .github_sync import GitHubSyncArgs
from .platform_link import PlatformLinkArgs
from .schedules import edition_problems as schedule_edition_problems
from .values import check_str
from .workspace import WindmillWorkspaceArgs
from .workspace_settings import edition_problems as settings_edition_problems

EDITIONS = ("ce", "ee")


def resolve_edition(key: str, written: Any, stack_edition: str | None, problems: Problems) -> str:
    """``windmillEdition`` as written (empty: the Docker stack's edition, or ce)."""
    if not written:
        return stack_edition or "ce"
    edition = problems.check(lambda: check_str(key, written, choices=EDITIONS), "ce")
    if stack_edition is not None and edition != stack_edition:
        problems.add(key, f"is {edition!r} but windmillStack.edition runs {stack_edition!r}; set them alike "
                          "(or leave windmillEdition empty)")
    return edition


def check_automation(
    workspace_key: str, link_key: str, workspace: WindmillWorkspaceArgs | None, link: PlatformLinkArgs | None,
    edition: str, problems: Problems,
) -> None:
    """Edition and alert-routing problems of the workspace's settings and schedules."""
    if workspace is None:
        return
    settings_edition_problems(f"{workspace_key}.settings", workspace.settings, edition, problems)
    schedule_edition_problems(f"{workspace_key}.schedules", workspace.schedules, edition, problems)
    if link is not None and link.forwards_alerts and workspace.settings.error_handler is not None:
        problems.add(f"{workspace_key}.settings.errorHandler",
                     f"is set by {link_key}.alerts (the alert forwarder {link.alert_forwarder}); remove one of them")


def sync_scope(sync: GitHubSyncArgs | None, link: PlatformLinkArgs | None) -> GitHubSyncArgs | None:
    """The sync Args with the Pulumi-deployed forwarder excluded from ``wmill sync push``."""
    if sync is None or link is None or not link.forwards_alerts:
        return sync
    # wmill matches excludes against the files of a script (<path>.py, <path>.script.yaml, lock).
    return dataclasses.replace(sync, excludes=(*sync.excludes, f"{link.alert_forwarder}.*"))
