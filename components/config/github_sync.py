"""``githubSync``: the typed Args of one workspace's GitHub sync, and their parser.

Every problem is recorded with its full key (``homeops-windmill:githubSync.environment.reviewers
.users[0]``) and all of them are reported together. Names that follow from the config (the
Actions variable and secret names, the default folder and workflow file) are decided here too, so
the component and the document builders only read Args.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, Problems, collected
from .rules import validate_workspace_id
from .schema import DEFAULT_WINDMILL_VERSION, DOMAIN_PATTERN, key
from .values import Section, check_int, check_str

DEFAULT_KEY_PREFIX = key("githubSync")
# Config key names (the values are secrets in the stack file, never here).
GITHUB_TOKEN_KEY = "githubToken"  # noqa: S105
WORKSPACE_TOKEN_KEY = "wmillSyncToken"  # noqa: S105

WORKFLOWS_DIR = ".github/workflows"
PLATFORM_FOLDER = "windmill"
PLATFORM_WORKFLOW_FILE = "windmill-sync.yml"
DEFAULT_NODE_VERSION = "22"

_OWNER_RE = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_REPO_RE = r"[A-Za-z0-9._-]{1,100}"
_BRANCH_RE = r"(?!/|-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<!/)(?<!\.lock)"
_FOLDER_RE = r"(?!/)(?!.*(?:^|/)\.\.?(?:/|$))(?!.*//)[A-Za-z0-9._/-]+(?<!/)"
_WORKFLOW_FILE_RE = r"[A-Za-z0-9._-]+\.ya?ml"
_RUNNER_LABEL_RE = r"[A-Za-z0-9._-]+"
_SEMVER_RE = r"\d+\.\d+\.\d+"
_NODE_RE = r"\d+(?:\.\d+){0,2}|lts/\*"
_KEYS = (
    "repository", "owner", "branch", "folder", "workflowFile", "runsOn", "nodeVersion", "cliVersion",
    "environment", "overwriteWorkflow", "manageWmillYaml", "overwriteWmillYaml", "token",
)

# The least privilege the pinned wmill (1.819) accepts for `wmill sync push` with the generated
# wmill.yaml, found by the real-CLI tier (tests/wmill/test_cli_token.py) against Windmill's route
# scopes (backend/windmill-api-auth/src/scopes.rs): whoami (users:read), the workspace export and
# its ws-specific list (workspaces:read), and writing scripts and flows (write includes read).
# Everything else the CLI asks for (folders, the file-resource map, job lists) it does without.
# No variables, resources or jobs scope: the token can neither read a secret nor run anything.
SYNC_TOKEN_SCOPES = ("users:read", "workspaces:read", "scripts:write", "flows:write")
SCOPE_PATTERN = r"[a-z_]+:(read|write|run)(:[^\s:]+){0,2}"
DEFAULT_TOKEN_LIFETIME_DAYS = 90
DEFAULT_ROTATE_AFTER_DAYS = 60
MAX_TOKEN_LIFETIME_DAYS = 366
# Rotation windows are counted from this day, so every run in one window computes the same expiry.
ROTATION_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def secret_suffix(domain: str | None) -> str:
    """``""`` for the platform workspace, ``_FINANCIAL`` for domain ``financial``.

    Actions secret and variable names allow only ``[A-Z0-9_]``, so anything else becomes ``_``.
    """
    if domain is None:
        return ""
    return "_" + re.sub(r"[^A-Z0-9]", "_", domain.upper())


@dataclass(frozen=True)
class SyncNames:
    """The Actions variable and secret names one workspace's workflow reads."""

    url_variable: str
    workspace_variable: str
    token_secret: str

    @classmethod
    def for_domain(cls, domain: str | None) -> SyncNames:
        suffix = secret_suffix(domain)
        return cls(
            url_variable=f"WMILL_URL{suffix}",
            workspace_variable=f"WMILL_WORKSPACE{suffix}",
            token_secret=f"WMILL_TOKEN{suffix}",
        )


def explain_disabled(key_prefix: str = DEFAULT_KEY_PREFIX) -> str:
    """What ``__main__`` logs when a stack has no GitHub sync configured."""
    project = key_prefix.split(":", 1)[0]
    return (
        f"GitHub sync not configured: set {key_prefix}.repository (and .owner) and the secret "
        f"{project}:{GITHUB_TOKEN_KEY} to declare this workspace's sync workflow, wmill.yaml and Actions "
        f"secrets; the stack mints the workflow's Windmill token unless {project}:{WORKSPACE_TOKEN_KEY} "
        "is set (see docs/github-sync.md)"
    )


def default_environment_name(domain: str | None) -> str:
    """``windmill-sync`` for the platform, ``windmill-sync-<domain>`` for a domain."""
    return "windmill-sync" if domain is None else f"windmill-sync-{domain}"


@dataclass(frozen=True)
class EnvironmentArgs:
    """A GitHub environment that holds the workspace token and gates the sync job.

    On by default, and by default only protected branches may deploy to it, so the token is
    out of reach of a workflow run from any other branch. Reviewers are numeric GitHub user and
    team ids (the API takes ids, not logins).
    """

    name: str
    reviewer_users: tuple[int, ...] = ()
    reviewer_teams: tuple[int, ...] = ()
    prevent_self_review: bool = False
    protected_branches_only: bool = True


@dataclass(frozen=True)
class SyncTokenArgs:
    """The Windmill token the stack mints for the workflow: its scopes and its rotation.

    The token expires ``lifetime_days`` after the start of its rotation window; windows are
    ``rotate_after_days`` long, so the first ``pulumi up`` in a new window replaces the token
    (``rotate_after_days`` < ``lifetime_days``: the old one is still valid then, and a run may
    come up to ``lifetime_days - rotate_after_days`` days late before the token lapses).
    """

    scopes: tuple[str, ...] = SYNC_TOKEN_SCOPES
    lifetime_days: int = DEFAULT_TOKEN_LIFETIME_DAYS
    rotate_after_days: int = DEFAULT_ROTATE_AFTER_DAYS

    def window_start(self, now: dt.datetime) -> dt.datetime:
        elapsed = (now - ROTATION_EPOCH).days
        return ROTATION_EPOCH + dt.timedelta(days=elapsed - elapsed % self.rotate_after_days)

    def expiration(self, now: dt.datetime) -> str:
        """The RFC 3339 expiry of the token valid at ``now`` (the same for a whole window)."""
        expires = self.window_start(now) + dt.timedelta(days=self.lifetime_days)
        return expires.strftime("%Y-%m-%dT%H:%M:%SZ")

    def rotation_due(self, now: dt.datetime) -> dt.datetime:
        """When the next window starts, i.e. when ``pulumi up`` replaces the token."""
        return self.window_start(now) + dt.timedelta(days=self.rotate_after_days)


@dataclass(frozen=True)
class GitHubSyncArgs:
    """Typed ``githubSync`` stack config for one workspace.

    ``domain`` is None for the platform workspace; it decides default names and the suffix of
    the Actions secrets (``WMILL_TOKEN`` vs ``WMILL_TOKEN_FINANCIAL``).
    """

    workspace_id: str
    domain: str | None
    repository: str
    owner: str
    folder: str
    workflow_file: str
    cli_version: str
    branch: str = "main"
    runs_on: tuple[str, ...] = ("ubuntu-latest",)
    node_version: str = DEFAULT_NODE_VERSION
    environment: EnvironmentArgs | None = None
    overwrite_workflow: bool = True
    manage_wmill_yaml: bool = True
    overwrite_wmill_yaml: bool = False
    token: SyncTokenArgs = SyncTokenArgs()
    # Paths the sync leaves alone (wmill.yaml excludes): scripts Pulumi deploys, such as a domain's
    # alert forwarder (components/config/automation.py), which a push would otherwise delete.
    excludes: tuple[str, ...] = ()
    key_prefix: str = field(default=DEFAULT_KEY_PREFIX, compare=False)

    @property
    def names(self) -> SyncNames:
        return SyncNames.for_domain(self.domain)

    @property
    def workflow_path(self) -> str:
        return f"{WORKFLOWS_DIR}/{self.workflow_file}"

    @property
    def wmill_yaml_path(self) -> str:
        return f"{self.folder}/wmill.yaml"

    @property
    def project(self) -> str:
        return self.key_prefix.split(":", 1)[0]

    @classmethod
    def from_config(
        cls,
        data: Mapping[str, Any] | None,
        *,
        workspace_id: str,
        domain: str | None,
        windmill_version: str,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        problems: Problems | None = None,
    ) -> GitHubSyncArgs | None:
        """Parse the ``githubSync`` object; None when no repository is configured.

        Problems go to ``problems``; without one, they are raised together as ConfigErrors.
        """
        if problems is None:
            return collected(lambda found: cls.from_config(
                data, workspace_id=workspace_id, domain=domain, windmill_version=windmill_version,
                key_prefix=key_prefix, problems=found,
            ))
        section = problems.check(lambda: Section(data, key_prefix))
        if section is None:
            return None
        problems.check(lambda: section.reject_unknown(_KEYS))
        repository = problems.check(lambda: section.str(
            "repository", None, pattern=_REPO_RE,
            pattern_help="must be the repository name only (the owner goes in owner)",
        ))
        if repository is None:
            return None
        _check_caller(workspace_id, domain)
        return _parse(section, problems, repository, workspace_id, domain, windmill_version, key_prefix)


def _check_caller(workspace_id: str, domain: str | None) -> None:
    # Both come from the caller's own (already validated) config, so a bad one is a bug there.
    if domain is not None and not re.fullmatch(DOMAIN_PATTERN, domain):
        raise ValueError(f"domain must match {DOMAIN_PATTERN}, got {domain!r}")
    if validate_workspace_id(workspace_id):
        raise ValueError(f"workspace_id is not a Windmill workspace id: {workspace_id!r}")


def _parse(
    section: Section, problems: Problems, repository: str, workspace_id: str, domain: str | None,
    windmill_version: str, key_prefix: str,
) -> GitHubSyncArgs | None:
    check = problems.check
    before = len(problems)
    owner = check(lambda: section.str(
        "owner", pattern=_OWNER_RE, pattern_help="must be a GitHub user or organisation login"))
    branch = check(lambda: section.str("branch", "main", pattern=_BRANCH_RE, pattern_help="must be a branch name"))
    folder = check(lambda: section.str(
        "folder", PLATFORM_FOLDER if domain is None else f"subprojects/{domain}/windmill", pattern=_FOLDER_RE,
        pattern_help="must be a repository-relative folder without '..', leading or trailing '/'",
    ))
    workflow_file = check(lambda: section.str(
        "workflowFile", PLATFORM_WORKFLOW_FILE if domain is None else f"{domain}-sync.yml",
        pattern=_WORKFLOW_FILE_RE,
        pattern_help=f"must be a file name ending in .yml or .yaml (it is placed in {WORKFLOWS_DIR})",
    ))
    node_version = check(lambda: section.str(
        "nodeVersion", DEFAULT_NODE_VERSION, pattern=_NODE_RE,
        pattern_help="must be a Node.js version such as 22 or 22.11.0",
    ))
    args = GitHubSyncArgs(
        workspace_id=workspace_id, domain=domain, repository=repository, owner=owner, branch=branch,
        folder=folder, workflow_file=workflow_file, node_version=node_version,
        runs_on=check(lambda: _parse_runs_on(section), ()),
        cli_version=check(lambda: _parse_cli_version(section, windmill_version)),
        environment=_parse_environment(section, problems, domain),
        overwrite_workflow=check(lambda: section.bool("overwriteWorkflow", True)),
        manage_wmill_yaml=check(lambda: section.bool("manageWmillYaml", True)),
        overwrite_wmill_yaml=check(lambda: section.bool("overwriteWmillYaml", False)),
        token=_parse_token(section, problems),
        key_prefix=key_prefix,
    )
    return args if len(problems) == before else None


def _parse_runs_on(section: Section) -> tuple[str, ...]:
    value = section.data.get("runsOn")
    key = section.key("runsOn")
    if value is None:
        return ("ubuntu-latest",)
    labels = [value] if isinstance(value, str) else value
    if not isinstance(labels, list) or not labels:
        raise ConfigError(key, "must be a runner label or a non-empty list of labels")
    return tuple(
        check_str(
            f"{key}[{i}]" if not isinstance(value, str) else key,
            label,
            pattern=_RUNNER_LABEL_RE,
            pattern_help="must be a runner label such as ubuntu-latest or self-hosted",
        )
        for i, label in enumerate(labels)
    )


def _parse_cli_version(section: Section, windmill_version: str) -> str:
    explicit = section.str(
        "cliVersion", None, pattern=_SEMVER_RE,
        pattern_help=f"must be an exact version such as {DEFAULT_WINDMILL_VERSION}",
    )
    if explicit is not None:
        return explicit
    # Image tags are written "1.819.0" or "v1.819.0"; npm versions have no "v".
    derived = windmill_version.removeprefix("v") if isinstance(windmill_version, str) else ""
    if not re.fullmatch(_SEMVER_RE, derived):
        raise ConfigError(
            section.key("cliVersion"),
            f"is required: the Windmill version {windmill_version!r} is not an exact x.y.z release, "
            "so the windmill-cli pin cannot be derived from it",
        )
    return derived


def _parse_environment(parent: Section, problems: Problems, domain: str | None) -> EnvironmentArgs | None:
    """The environment (on by default, named after the workspace); None with ``enabled: false``."""
    section = problems.check(lambda: parent.section("environment"))
    if section is None:
        return None
    check = problems.check
    check(lambda: section.reject_unknown(
        ("enabled", "name", "reviewers", "preventSelfReview", "protectedBranchesOnly")))
    if not check(lambda: section.bool("enabled", True), True):
        return None
    reviewers = check(lambda: section.section("reviewers"), Section({}, section.key("reviewers")))
    check(lambda: reviewers.reject_unknown(("users", "teams")))

    def ids(kind: str) -> tuple[int, ...]:
        values = reviewers.list(kind, [])
        if len(values) > 6:
            raise ConfigError(reviewers.key(kind), f"GitHub allows at most 6 reviewers, got {len(values)}")
        return tuple(check_int(f"{reviewers.key(kind)}[{i}]", v, minimum=1) for i, v in enumerate(values))

    return EnvironmentArgs(
        name=check(lambda: section.str(
            "name", default_environment_name(domain), pattern=r"[A-Za-z0-9._ -]{1,255}",
            pattern_help="must be a GitHub environment name")),
        reviewer_users=check(lambda: ids("users"), ()),
        reviewer_teams=check(lambda: ids("teams"), ()),
        prevent_self_review=check(lambda: section.bool("preventSelfReview", False)),
        protected_branches_only=check(lambda: section.bool("protectedBranchesOnly", True)),
    )


def _parse_token(parent: Section, problems: Problems) -> SyncTokenArgs:
    """``githubSync.token``: extra scopes and the rotation of the token the stack mints."""
    check = problems.check
    section = check(lambda: parent.section("token"), Section({}, parent.key("token")))
    check(lambda: section.reject_unknown(("extraScopes", "lifetimeDays", "rotateAfterDays")))
    extra = check(lambda: tuple(
        check_str(f"{section.key('extraScopes')}[{i}]", v, pattern=SCOPE_PATTERN,
                  pattern_help="must be a Windmill token scope such as apps:write")
        for i, v in enumerate(section.list("extraScopes", []))
    ), ())
    lifetime = check(lambda: section.int(
        "lifetimeDays", DEFAULT_TOKEN_LIFETIME_DAYS, minimum=2, maximum=MAX_TOKEN_LIFETIME_DAYS),
        DEFAULT_TOKEN_LIFETIME_DAYS)
    rotate = check(lambda: section.int("rotateAfterDays", DEFAULT_ROTATE_AFTER_DAYS, minimum=1),
                   DEFAULT_ROTATE_AFTER_DAYS)
    if rotate >= lifetime:
        problems.add(section.key("rotateAfterDays"),
                     f"must be less than lifetimeDays ({lifetime}): the token must be replaced before it expires, "
                     f"got {rotate}")
    return SyncTokenArgs(
        scopes=tuple(dict.fromkeys((*SYNC_TOKEN_SCOPES, *extra))), lifetime_days=lifetime,
        rotate_after_days=min(rotate, lifetime - 1),
    )
