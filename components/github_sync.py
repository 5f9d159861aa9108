"""GitHub sync of one Windmill workspace: workflow, wmill.yaml and Actions secrets, as code.

A workspace's scripts and flows live in a folder of the HomeOps repository and reach Windmill
through a GitHub Actions workflow that runs ``wmill sync push``. This module declares that wiring
with pulumi-github so that a new domain gets its workflow and secrets from its stack alone:

* a workflow file (``.github/workflows/<name>.yml``) generated from data, not pasted text;
* a ``wmill.yaml`` in the workspace folder whose defaults keep a sync push away from what Pulumi
  manages (variables, secrets, resources, folders);
* Actions variables for the Windmill URL and workspace id and an Actions secret for the
  workspace token, named with the domain's suffix (``WMILL_TOKEN_FINANCIAL``);
* a GitHub environment that holds the token (on by default, deployable from protected branches
  only, optionally with required reviewers), and a job that runs only on the sync branch.

The document builders (:func:`build_workflow`, :func:`build_wmill_yaml`) are pure functions so the
tests can parse and validate their output without Pulumi. The ``githubSync`` config and its Args
live in :mod:`components.config.github_sync`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_github as github
import yaml

from components.config.github_sync import EnvironmentArgs, GitHubSyncArgs


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
    # This repository's own test jobs only: restores the Pulumi CLI and Windmill CLI .ci/run builds.
    "cache": ActionPin("actions/cache", "27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
}

# Commits that Windmill's own Git Sync makes start with this; pushing them back would loop.
WINDMILL_COMMIT_PREFIX = "[WM]"
SKIP_WINDMILL_COMMITS = f"!startsWith(github.event.head_commit.message, '{WINDMILL_COMMIT_PREFIX}')"


def job_condition(branch: str) -> str:
    """The sync job's ``if:``: only on the sync branch (a ``workflow_dispatch`` from any other
    branch is skipped, so unmerged code never runs with the token), and never for Windmill's own
    commits. ``branch`` passed the config's branch-name pattern, so it cannot break the quotes."""
    return f"${{{{ github.ref == 'refs/heads/{branch}' && {SKIP_WINDMILL_COMMITS} }}}}"

# The three opt-outs keep the sync prune away from what Pulumi owns (windmill-labs/windmill#10842).
SYNC_PUSH_FLAGS = ("--yes", "--skip-variables", "--skip-secrets", "--skip-resources")


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def build_workflow(args: GitHubSyncArgs) -> dict[str, Any]:
    """The sync workflow of one workspace as a plain dict (what ``yaml.safe_load`` gives back)."""
    job: dict[str, Any] = {
        "name": f"wmill sync push ({args.workspace_id})",
        # The sync branch only; and Windmill's Git Sync commits its own UI deploys, which pushed
        # back would loop.
        "if": job_condition(args.branch),
        "runs-on": args.runs_on[0] if len(args.runs_on) == 1 else list(args.runs_on),
    }
    if args.environment is not None:
        job["environment"] = args.environment.name
    job.update({"permissions": {"contents": "read"}, "timeout-minutes": 15, "steps": _sync_steps(args)})
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


def _sync_steps(args: GitHubSyncArgs) -> list[dict[str, Any]]:
    names, pins = args.names, ACTION_PINS
    # Values reach the scripts only through env, never as ${{ }} inside run.
    windmill_env = {
        "WMILL_URL": f"${{{{ vars.{names.url_variable} }}}}",
        "WMILL_WORKSPACE": f"${{{{ vars.{names.workspace_variable} }}}}",
    }
    return [
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
            # Cross-system calls are visible (docs/architecture.md): who pushed which commit to
            # which workspace, as a notice on the run.
            "name": "Record who syncs what",
            "env": {**windmill_env, "ACTOR": "${{ github.actor }}", "COMMIT": "${{ github.sha }}"},
            "run": 'echo "::notice title=Windmill sync::$ACTOR pushes $COMMIT to $WMILL_WORKSPACE at $WMILL_URL"',
        },
        {
            "name": "Push the workspace to Windmill",
            "working-directory": args.folder,
            "env": {**windmill_env, "WMILL_TOKEN": f"${{{{ secrets.{names.token_secret} }}}}"},
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
    ]


def build_wmill_yaml(excludes: Sequence[str] = ()) -> dict[str, Any]:
    """``wmill.yaml`` with every sync option explicit.

    CLI versions disagree on the defaults of absent keys, so nothing is left to them. Variables,
    secrets, resources, resource types and folders are Pulumi's: with them out of scope a sync push
    can never prune what Pulumi manages (windmill-labs/windmill#10842). Schedules, triggers, users,
    groups, settings and the encryption key stay out as well. Workspace dependencies and data-table
    migrations are code, so the repository owns them like scripts and flows.

    The last four keys were found absent by running wmill 1.819 (tests/wmill): without
    ``syncBehavior`` it falls back to the legacy ``v0`` (``sync_behavior_version=v0`` on every
    export) although ``wmill init`` writes ``v1``, and without ``nonDottedPaths`` it uses the dotted
    ``.flow`` folders although ``wmill config`` documents ``true`` as the default.
    """
    return {
        "defaultTs": "bun",
        "includes": ["f/**"],
        "excludes": list(excludes),
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
        "skipWorkspaceDependencies": False,
        "skipDatatableMigrations": False,
        "nonDottedPaths": False,
        "syncBehavior": "v1",
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
    return _managed_header(args, "Sync scope of wmill sync push.") + _dump(build_wmill_yaml(args.excludes))


# --------------------------------------------------------------------------------------------
# Component
# --------------------------------------------------------------------------------------------


class GitHubSync(pulumi.ComponentResource):
    """The GitHub side of one workspace's sync: workflow, wmill.yaml, Actions secrets and variables.

    Everything is created through an explicit GitHub provider built from ``args.owner`` and
    ``github_token`` (the stack's ``githubToken`` secret), so the ambient ``GITHUB_TOKEN`` of a CI
    runner is never used by accident.
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
        github_token: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homeops:github:GitHubSync", name, None, opts)
        self._name, self._args = name, args
        provider = github.Provider(
            f"{name}-github",
            owner=args.owner,
            token=pulumi.Output.secret(github_token),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._child = pulumi.ResourceOptions(parent=self, provider=provider)
        values = self._actions_values(windmill_url, pulumi.Output.secret(workspace_token))
        # Committing either file can start the workflow, so the values it reads come first.
        self._files(pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=values)))
        self.token_secret_name = pulumi.Output.from_input(args.names.token_secret)
        self.register_outputs(
            {
                "workflowPath": self.workflow_path,
                "wmillYamlPath": self.wmill_yaml_path,
                "tokenSecretName": self.token_secret_name,
            }
        )

    def _actions_values(self, windmill_url: pulumi.Input[str], token: pulumi.Output[str]) -> list[pulumi.Resource]:
        """The Actions variables (URL, workspace) and the token secret the workflow reads."""
        name, args, names = self._name, self._args, self._args.names
        url_variable = github.ActionsVariable(
            f"{name}-url",
            repository=args.repository,
            variable_name=names.url_variable,
            value=windmill_url,
            opts=self._child,
        )
        workspace_variable = github.ActionsVariable(
            f"{name}-workspace",
            repository=args.repository,
            variable_name=names.workspace_variable,
            value=args.workspace_id,
            opts=self._child,
        )
        token_secret: pulumi.Resource
        if args.environment is None:
            token_secret = github.ActionsSecret(
                f"{name}-token",
                repository=args.repository,
                secret_name=names.token_secret,
                value=token,
                opts=self._child,
            )
        else:
            token_secret = github.ActionsEnvironmentSecret(
                f"{name}-token",
                repository=args.repository,
                # The environment's output, so the secret waits for the environment to exist.
                environment=self._environment(args.environment).environment,
                secret_name=names.token_secret,
                value=token,
                opts=self._child,
            )
        return [url_variable, workspace_variable, token_secret]

    def _environment(self, env: EnvironmentArgs) -> github.RepositoryEnvironment:
        """The GitHub environment that holds the token and gates the sync job."""
        return github.RepositoryEnvironment(
            f"{self._name}-environment",
            repository=self._args.repository,
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
            opts=self._child,
        )

    def _files(self, after_values: pulumi.ResourceOptions) -> None:
        """The workflow file and (unless unmanaged) wmill.yaml, committed to the repository."""
        name, args = self._name, self._args
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
            opts=after_values,
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
                opts=pulumi.ResourceOptions.merge(after_values, pulumi.ResourceOptions(depends_on=[workflow])),
            )
            self.wmill_yaml_path = wmill_yaml.file
