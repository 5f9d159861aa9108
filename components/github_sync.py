"""GitHub sync of one Windmill workspace: workflow, wmill.yaml and Actions secrets, as code.

A workspace's scripts and flows live in a folder of the HomeOps repository and reach Windmill
through a GitHub Actions workflow that runs ``wmill sync push``. This module declares that wiring
with pulumi-github so that a new domain gets its workflow and secrets from its stack alone:

* a workflow file (``.github/workflows/<name>.yml``) generated from data, not pasted text;
* a ``wmill.yaml`` in the workspace folder whose defaults keep a sync push away from what Pulumi
  manages (variables, secrets, resources, folders);
* Actions variables for the Windmill URL and workspace id and an Actions secret for the
  workspace token, named with the domain's suffix (``WMILL_TOKEN_FINANCIAL``);
* optionally a GitHub environment with required reviewers that holds the token.

The document builders (:func:`build_workflow`, :func:`build_wmill_yaml`) are pure functions so the
tests can parse and validate their output without Pulumi.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_github as github
import yaml

from components.validation import ConfigError, Section, check_int, check_str

PROJECT = "homeops-windmill"
DEFAULT_KEY_PREFIX = f"{PROJECT}:githubSync"
# Config key names (the values are secrets in the stack file, never here).
GITHUB_TOKEN_KEY = "githubToken"  # noqa: S105
WORKSPACE_TOKEN_KEY = "wmillSyncToken"  # noqa: S105

WORKFLOWS_DIR = ".github/workflows"
PLATFORM_FOLDER = "windmill"
PLATFORM_WORKFLOW_FILE = "windmill-sync.yml"
DEFAULT_NODE_VERSION = "22"


@dataclass(frozen=True)
class ActionPin:
    """A third-party action pinned to a full commit SHA; ``version`` is the tag it was taken from.

    Tags are mutable and a moved tag runs new code with the workflow's secrets, so every ``uses:``
    names a commit. The tag is kept for humans (the ``# vX.Y.Z`` comment) and for Dependabot.
    """

    repo: str
    sha: str
    version: str

    @property
    def uses(self) -> str:
        return f"{self.repo}@{self.sha}"


# One table for the generated workflows and this repository's own ones (tests check both against
# it). Each SHA was read from the tag in the action's own repository and cross-checked against
# independent public workflows; see docs/github-sync.md before bumping.
ACTION_PINS: dict[str, ActionPin] = {
    "checkout": ActionPin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "setup-node": ActionPin("actions/setup-node", "820762786026740c76f36085b0efc47a31fe5020", "v7.0.0"),
    "setup-python": ActionPin("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "pulumi": ActionPin("pulumi/actions", "8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
}

# Commits that Windmill's own Git Sync makes start with this; pushing them back would loop.
WINDMILL_COMMIT_PREFIX = "[WM]"
SKIP_WINDMILL_COMMITS = f"${{{{ !startsWith(github.event.head_commit.message, '{WINDMILL_COMMIT_PREFIX}') }}}}"

# The three opt-outs keep the sync prune away from what Pulumi owns (windmill-labs/windmill#10842).
SYNC_PUSH_FLAGS = ("--yes", "--skip-variables", "--skip-secrets", "--skip-resources")

_DOMAIN_RE = r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*"
_WORKSPACE_RE = r"\w+(?:-\w+)*"
_OWNER_RE = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_REPO_RE = r"[A-Za-z0-9._-]{1,100}"
_BRANCH_RE = r"(?!/|-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<!/)(?<!\.lock)"
_FOLDER_RE = r"(?!/)(?!.*(?:^|/)\.\.?(?:/|$))(?!.*//)[A-Za-z0-9._/-]+(?<!/)"
_WORKFLOW_FILE_RE = r"[A-Za-z0-9._-]+\.ya?ml"
_RUNNER_LABEL_RE = r"[A-Za-z0-9._-]+"
_SEMVER_RE = r"\d+\.\d+\.\d+"
_NODE_RE = r"\d+(?:\.\d+){0,2}|lts/\*"


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


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
        f"GitHub sync not configured: set {key_prefix}.repository (and .owner) and the secrets "
        f"{project}:{GITHUB_TOKEN_KEY} and {project}:{WORKSPACE_TOKEN_KEY} to declare this "
        "workspace's sync workflow, wmill.yaml and Actions secrets (see docs/github-sync.md)"
    )


# --------------------------------------------------------------------------------------------
# Args
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentArgs:
    """A GitHub environment that holds the workspace token and gates the sync job.

    Reviewers are numeric GitHub user and team ids (the API takes ids, not logins).
    """

    name: str
    reviewer_users: tuple[int, ...] = ()
    reviewer_teams: tuple[int, ...] = ()
    prevent_self_review: bool = False
    protected_branches_only: bool = False


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
    ) -> GitHubSyncArgs | None:
        """Parse the ``githubSync`` object; None when no repository is configured.

        Every error is a ConfigError naming the full key, e.g.
        ``homeops-windmill:githubSync.environment.reviewers.users[0]``.
        """
        section = Section(data, key_prefix)
        section.reject_unknown(
            (
                "repository",
                "owner",
                "branch",
                "folder",
                "workflowFile",
                "runsOn",
                "nodeVersion",
                "cliVersion",
                "environment",
                "overwriteWorkflow",
                "manageWmillYaml",
                "overwriteWmillYaml",
            )
        )
        repository = section.str(
            "repository",
            None,
            pattern=_REPO_RE,
            pattern_help="must be the repository name only (the owner goes in owner)",
        )
        if repository is None:
            return None

        # Both come from the caller's own (already validated) config, so a bad one is a bug here.
        if domain is not None and not re.fullmatch(_DOMAIN_RE, domain):
            raise ValueError(f"domain must match {_DOMAIN_RE}, got {domain!r}")
        if not re.fullmatch(_WORKSPACE_RE, workspace_id) or len(workspace_id) > 50:
            raise ValueError(f"workspace_id is not a Windmill workspace id: {workspace_id!r}")

        owner = section.str("owner", pattern=_OWNER_RE, pattern_help="must be a GitHub user or organisation login")
        branch = section.str("branch", "main", pattern=_BRANCH_RE, pattern_help="must be a branch name")
        default_folder = PLATFORM_FOLDER if domain is None else f"subprojects/{domain}/windmill"
        folder = section.str(
            "folder",
            default_folder,
            pattern=_FOLDER_RE,
            pattern_help="must be a repository-relative folder without '..', leading or trailing '/'",
        )
        default_file = PLATFORM_WORKFLOW_FILE if domain is None else f"{domain}-sync.yml"
        workflow_file = section.str(
            "workflowFile",
            default_file,
            pattern=_WORKFLOW_FILE_RE,
            pattern_help=f"must be a file name ending in .yml or .yaml (it is placed in {WORKFLOWS_DIR})",
        )
        runs_on = _parse_runs_on(section)
        node_version = section.str(
            "nodeVersion",
            DEFAULT_NODE_VERSION,
            pattern=_NODE_RE,
            pattern_help="must be a Node.js version such as 22 or 22.11.0",
        )
        cli_version = _parse_cli_version(section, windmill_version)
        environment = _parse_environment(section.section("environment"))
        return cls(
            workspace_id=workspace_id,
            domain=domain,
            repository=repository,
            owner=owner,
            branch=branch,
            folder=folder,
            workflow_file=workflow_file,
            runs_on=runs_on,
            node_version=node_version,
            cli_version=cli_version,
            environment=environment,
            overwrite_workflow=section.bool("overwriteWorkflow", True),
            manage_wmill_yaml=section.bool("manageWmillYaml", True),
            overwrite_wmill_yaml=section.bool("overwriteWmillYaml", False),
            key_prefix=key_prefix,
        )


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
        "cliVersion", None, pattern=_SEMVER_RE, pattern_help="must be an exact version such as 1.819.0"
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


def _parse_environment(section: Section) -> EnvironmentArgs | None:
    if not section.data:
        return None
    section.reject_unknown(("name", "reviewers", "preventSelfReview", "protectedBranchesOnly"))
    name = section.str("name", pattern=r"[A-Za-z0-9._ -]{1,255}", pattern_help="must be a GitHub environment name")
    reviewers = section.section("reviewers")
    reviewers.reject_unknown(("users", "teams"))

    def ids(kind: str) -> tuple[int, ...]:
        values = reviewers.list(kind, [])
        if len(values) > 6:
            raise ConfigError(reviewers.key(kind), f"GitHub allows at most 6 reviewers, got {len(values)}")
        return tuple(check_int(f"{reviewers.key(kind)}[{i}]", v, minimum=1) for i, v in enumerate(values))

    return EnvironmentArgs(
        name=name,
        reviewer_users=ids("users"),
        reviewer_teams=ids("teams"),
        prevent_self_review=section.bool("preventSelfReview", False),
        protected_branches_only=section.bool("protectedBranchesOnly", False),
    )


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def build_workflow(args: GitHubSyncArgs) -> dict[str, Any]:
    """The sync workflow of one workspace as a plain dict (what ``yaml.safe_load`` gives back)."""
    names = args.names
    pins = ACTION_PINS
    job: dict[str, Any] = {
        "name": f"wmill sync push ({args.workspace_id})",
        # Windmill's Git Sync commits its own UI deploys; pushing them back would loop.
        "if": SKIP_WINDMILL_COMMITS,
        "runs-on": args.runs_on[0] if len(args.runs_on) == 1 else list(args.runs_on),
    }
    if args.environment is not None:
        job["environment"] = args.environment.name
    job.update(
        {
            "permissions": {"contents": "read"},
            "timeout-minutes": 15,
            "steps": [
                {
                    "name": "Check out the repository",
                    "uses": pins["checkout"].uses,
                    # The job never pushes; a persisted token would only be something to steal.
                    "with": {"persist-credentials": False},
                },
                {
                    "name": "Set up Node.js",
                    "uses": pins["setup-node"].uses,
                    # No cache: a poisoned cache would run with the workspace token in reach.
                    "with": {"node-version": args.node_version, "package-manager-cache": False},
                },
                {
                    "name": "Install windmill-cli",
                    # Pinned to the server version: the CLI and the sync format move together.
                    "run": f"npm install --global windmill-cli@{args.cli_version}",
                },
                {
                    "name": "Push the workspace to Windmill",
                    "working-directory": args.folder,
                    # Values reach the script only through env, never as ${{ }} inside run.
                    "env": {
                        "WMILL_URL": f"${{{{ vars.{names.url_variable} }}}}",
                        "WMILL_WORKSPACE": f"${{{{ vars.{names.workspace_variable} }}}}",
                        "WMILL_TOKEN": f"${{{{ secrets.{names.token_secret} }}}}",
                    },
                    "run": " ".join(
                        (
                            "wmill sync push",
                            *SYNC_PUSH_FLAGS,
                            '--workspace "$WMILL_WORKSPACE"',
                            '--token "$WMILL_TOKEN"',
                            '--base-url "$WMILL_URL"',
                        )
                    ),
                },
            ],
        }
    )
    return {
        "name": f"Windmill sync ({args.workspace_id})",
        "on": {
            "push": {"branches": [args.branch], "paths": [f"{args.folder}/**"]},
            # For the first sync (the workflow file itself is outside the folder) and re-runs.
            "workflow_dispatch": {},
        },
        "permissions": {},
        "concurrency": {
            "group": f"windmill-sync-{args.workspace_id}",
            # Queue, never cancel: an interrupted push leaves the workspace half-synced.
            "cancel-in-progress": False,
        },
        "jobs": {"sync": job},
    }


def build_wmill_yaml() -> dict[str, Any]:
    """``wmill.yaml`` with every sync option explicit.

    CLI versions disagree on the defaults of absent keys, so nothing is left to them. Variables,
    secrets, resources, resource types and folders are Pulumi's: with them out of scope a sync push
    can never prune what Pulumi manages (windmill-labs/windmill#10842). Schedules, triggers, users,
    groups, settings and the encryption key stay out as well.
    """
    return {
        "defaultTs": "bun",
        "includes": ["f/**"],
        "excludes": [],
        "skipVariables": True,
        "skipSecrets": True,
        "skipResources": True,
        "skipResourceTypes": True,
        "skipFolders": True,
        "skipScripts": False,
        "skipFlows": False,
        "skipApps": False,
        "includeSchedules": False,
        "includeTriggers": False,
        "includeUsers": False,
        "includeGroups": False,
        "includeSettings": False,
        "includeKey": False,
    }


def _managed_header(args: GitHubSyncArgs, what: str) -> str:
    return (
        f"# Managed by Pulumi (project {args.project}, GitHubSync for workspace {args.workspace_id}).\n"
        f"# {what}\n"
        "# Edit the stack config and run pulumi up instead of editing this file.\n"
    )


def _dump(document: Mapping[str, Any]) -> str:
    # sort_keys=False keeps the reading order of a hand-written workflow; the wide width keeps
    # each run command on one line.
    return yaml.safe_dump(dict(document), sort_keys=False, width=1000, default_flow_style=False)


def render_workflow(args: GitHubSyncArgs) -> str:
    """The workflow file text: the dumped dict plus a header and ``# vX.Y.Z`` pin comments."""
    by_uses = {pin.uses: pin for pin in ACTION_PINS.values()}
    lines = []
    for line in _dump(build_workflow(args)).splitlines():
        match = re.fullmatch(r"(\s*(?:- )?uses: )(\S+)", line)
        if match and match.group(2) in by_uses:
            # YAML libraries drop comments, so the tag comment is added to the dumped text.
            line = f"{line} # {by_uses[match.group(2)].version}"
        lines.append(line)
    return _managed_header(args, f"Pushes {args.folder}/ to Windmill.") + "\n".join(lines) + "\n"


def render_wmill_yaml(args: GitHubSyncArgs) -> str:
    """The ``wmill.yaml`` file text."""
    return _managed_header(args, "Sync scope of wmill sync push.") + _dump(build_wmill_yaml())


# --------------------------------------------------------------------------------------------
# Component
# --------------------------------------------------------------------------------------------


def read_github_token(project: str = PROJECT) -> pulumi.Output[str]:
    """The ``githubToken`` secret; a ConfigError naming the key when it is missing."""
    token = pulumi.Config(project).get_secret(GITHUB_TOKEN_KEY)
    if token is None:
        raise ConfigError(
            f"{project}:{GITHUB_TOKEN_KEY}",
            "is required when githubSync.repository is set "
            f"(pulumi config set --secret {GITHUB_TOKEN_KEY} <fine-grained token>)",
        )
    return token


class GitHubSync(pulumi.ComponentResource):
    """The GitHub side of one workspace's sync: workflow, wmill.yaml, Actions secrets and variables.

    Everything is created through an explicit GitHub provider built from ``args.owner`` and the
    ``githubToken`` secret (or ``github_token``), so the ambient ``GITHUB_TOKEN`` of a CI runner
    is never used by accident.
    """

    workflow_path: pulumi.Output[str]
    wmill_yaml_path: pulumi.Output[str] | None
    token_secret_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: GitHubSyncArgs,
        *,
        windmill_url: pulumi.Input[str],
        workspace_token: pulumi.Input[str],
        github_token: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Read before registering, so a missing token fails without a half-declared component.
        token = github_token if github_token is not None else read_github_token(args.project)
        super().__init__("homeops:github:GitHubSync", name, None, opts)
        names = args.names
        provider = github.Provider(
            f"{name}-github",
            owner=args.owner,
            token=pulumi.Output.secret(token),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        url_variable = github.ActionsVariable(
            f"{name}-url",
            repository=args.repository,
            variable_name=names.url_variable,
            value=windmill_url,
            opts=child,
        )
        workspace_variable = github.ActionsVariable(
            f"{name}-workspace",
            repository=args.repository,
            variable_name=names.workspace_variable,
            value=args.workspace_id,
            opts=child,
        )
        secret_value = pulumi.Output.secret(workspace_token)
        token_secret: pulumi.Resource
        if args.environment is None:
            token_secret = github.ActionsSecret(
                f"{name}-token",
                repository=args.repository,
                secret_name=names.token_secret,
                value=secret_value,
                opts=child,
            )
        else:
            env = args.environment
            environment = github.RepositoryEnvironment(
                f"{name}-environment",
                repository=args.repository,
                environment=env.name,
                prevent_self_review=env.prevent_self_review,
                reviewers=(
                    [
                        github.RepositoryEnvironmentReviewerArgs(
                            users=list(env.reviewer_users), teams=list(env.reviewer_teams)
                        )
                    ]
                    if env.reviewer_users or env.reviewer_teams
                    else None
                ),
                deployment_branch_policy=(
                    github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                        protected_branches=True, custom_branch_policies=False
                    )
                    if env.protected_branches_only
                    else None
                ),
                opts=child,
            )
            token_secret = github.ActionsEnvironmentSecret(
                f"{name}-token",
                repository=args.repository,
                # The environment's output, so the secret waits for the environment to exist.
                environment=environment.environment,
                secret_name=names.token_secret,
                value=secret_value,
                opts=child,
            )

        # Committing either file can start the workflow, so the values it reads come first.
        after_secrets = pulumi.ResourceOptions.merge(
            child,
            pulumi.ResourceOptions(depends_on=[url_variable, workspace_variable, token_secret]),
        )
        managed_by = f"(managed by Pulumi {args.project})"
        workflow = github.RepositoryFile(
            f"{name}-workflow",
            repository=args.repository,
            branch=args.branch,
            file=args.workflow_path,
            content=render_workflow(args),
            commit_message=f"ci(windmill): sync workflow for {args.workspace_id} {managed_by}",
            # The hand-written workflow this replaces used a non-existent action; Pulumi owns it.
            overwrite_on_create=args.overwrite_workflow,
            opts=after_secrets,
        )
        self.workflow_path = workflow.file
        self.wmill_yaml_path = None
        if args.manage_wmill_yaml:
            wmill_yaml = github.RepositoryFile(
                f"{name}-wmill-yaml",
                repository=args.repository,
                branch=args.branch,
                file=args.wmill_yaml_path,
                content=render_wmill_yaml(args),
                commit_message=f"chore(windmill): wmill.yaml for {args.workspace_id} {managed_by}",
                # A hand-tuned wmill.yaml is only replaced when the stack says so.
                overwrite_on_create=args.overwrite_wmill_yaml,
                opts=pulumi.ResourceOptions.merge(after_secrets, pulumi.ResourceOptions(depends_on=[workflow])),
            )
            self.wmill_yaml_path = wmill_yaml.file
        self.token_secret_name = pulumi.Output.from_input(names.token_secret)
        self.register_outputs(
            {
                "workflowPath": self.workflow_path,
                "wmillYamlPath": self.wmill_yaml_path,
                "tokenSecretName": self.token_secret_name,
            }
        )
