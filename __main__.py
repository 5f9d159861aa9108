"""HomeOps Windmill as code.

One program, two kinds of stack (docs/architecture.md):

* the platform stack (`pulumi up --stack platform`): optionally runs Windmill itself on Docker,
  and declares the `homeops-platform` workspace: infrastructure, deployment, monitoring and
  maintenance, and the shared services every domain may call;
* one stack per domain (`pulumi up --stack financial`, …): declares the `homeops-<domain>` workspace
  on the instance the platform stack runs, reading its URL and token from the platform stack.

Every stack also declares its GitHub sync workflow when a repository is configured.
"""

import dataclasses
import datetime as dt
from pathlib import Path

import pulumi

from components.config.github_sync import explain_disabled
from components.config.schema import PLATFORM_WORKSPACE
from components.config.settings import load_settings
from components.docs.stacks import held_domain_tokens
from components.github_sync import GitHubSync
from components.instance import PreviousRun, WindmillInstance, edition_limits, instance_exports, refuse_exposed_default
from components.naming import renamed_from
from components.platform_link import PlatformLink
from components.windmill.base import Connection
from components.windmill.readiness import ReadinessGate
from components.windmill_kubernetes import WindmillKubernetes
from components.windmill_stack import WindmillStack
from components.workspace import WindmillWorkspace
from components.workspace_automation import WorkspaceAutomation

if pulumi.runtime.settings.get_monitor() is None:
    # `python __main__.py` has no Pulumi engine to talk to: say how to run it, not which key is missing.
    raise SystemExit("This is a Pulumi program: run it with `pulumi preview --stack <stack>` or "
                     "`pulumi up --stack <stack>` (README.md, Quickstart).")

settings = load_settings()
ready_after: list[pulumi.Resource] = []
platform_workspace: pulumi.Input[str] = PLATFORM_WORKSPACE
instance: WindmillInstance | None = None  # the platform stack's instance (first boot, users, settings)
identity: pulumi.Input[str] | None = None  # who the API token belongs to, when known

if settings.is_platform:
    stack_args = settings.windmill_stack
    # What earlier runs did decides what exists now (components/instance.py): an exposed default
    # admin is refused, and once first boot has completed the servers lose the SUPERADMIN_SECRET.
    booting = settings.instance is not None and settings.instance.first_boot.enabled
    previous = PreviousRun.read() if booting else PreviousRun(None)
    if settings.instance is not None:
        refuse_exposed_default(settings.instance, previous)
    if stack_args is not None and previous.booted:
        stack_args = dataclasses.replace(stack_args, bootstrap_token=False)
    windmill: WindmillStack | WindmillKubernetes | None = None
    if stack_args is not None and stack_args.enabled:
        # One config shape, two runtimes: Docker containers or the official Helm chart on Kubernetes.
        runtime = WindmillKubernetes if stack_args.runtime == "kubernetes" else WindmillStack
        windmill = runtime("windmill", stack_args, secrets=settings.secrets)
    if windmill is not None:
        url: pulumi.Input[str] = windmill.api_url  # what this program calls (may be an SSH tunnel)
        public_url: pulumi.Input[str] = windmill.public_url
        ready_after.append(windmill.readiness)
        pulumi.export("windmillInternalUrl", windmill.internal_url)
        pulumi.export("postgresConnectionString", windmill.database_url)
    else:
        url = public_url = settings.connection.url
    # An operator's token wins; a fresh Docker-hosted instance starts with the generated one.
    token = settings.connection.token
    if token is None and windmill is not None:
        token = windmill.bootstrap_token
    if settings.instance is not None:
        instance = WindmillInstance(
            "instance", settings.instance, url=url, operator_token=settings.connection.token,
            bootstrap_secret=windmill.bootstrap_token if windmill else None, booted=previous.booted,
            secrets=settings.secrets, workspace=settings.workspace, ready_after=ready_after,
            timeouts=(settings.connection.connect_timeout_seconds, settings.connection.read_timeout_seconds),
        )
        token, identity, ready_after = instance.token, instance.identity, instance.ready
    # Domain stacks read these through their StackReference to this stack.
    pulumi.export("windmillUrl", public_url)
    pulumi.export("windmillApiUrl", url)
    pulumi.export("windmillToken", token)
    pulumi.export("windmillVersion", windmill.windmill_version if windmill else settings.windmill_version)
elif settings.connection.url:
    # A domain on an instance the platform stack does not manage.
    url = public_url = settings.connection.url
    token = settings.connection.token
else:
    platform = pulumi.StackReference(settings.platform_stack)
    url = platform.require_output("windmillApiUrl")
    public_url = platform.require_output("windmillUrl")
    token = pulumi.Output.secret(platform.require_output("windmillToken"))
    identity = platform.get_output("windmillTokenOwner")  # set when the platform stack ran first boot
    platform_workspace = platform.require_output("workspaceId")

# The provider's one source for where and how to connect: these inputs of every Windmill resource.
connection = Connection(
    url=url,
    token=token,
    connect_timeout_seconds=settings.connection.connect_timeout_seconds,
    read_timeout_seconds=settings.connection.read_timeout_seconds,
    identity=identity,
)
if not ready_after:
    # No Windmill of this stack's own to wait for (a domain stack, or an instance run elsewhere): the
    # same gate, at the URL this stack calls, so a restarting server fails no resource.
    ready_after = [ReadinessGate("windmill-ready", url=url)]
if instance is None:
    # Nothing changes before the Community Edition limits check (the platform's instance runs its own).
    ready_after = [*ready_after, edition_limits("edition-limits", settings.workspace, connection, ready_after, None)]

# Components are named by the stack's concern (its domain, or platform), which never changes, so a
# workspace id change replaces what it must under the same names; earlier releases named them after
# the workspace id (components/naming.py).
concern = settings.domain or "platform"
sync_token = settings.github_sync.token if settings.github_sync is not None else None
workspace = WindmillWorkspace(
    concern,
    settings.workspace,
    secrets=settings.secrets,
    connection=connection,
    base_url=public_url,
    ready_after=ready_after,
    sync_token_label=f"github-sync {settings.workspace.id}" if settings.mints_sync_token else None,
    # Least privilege, and an expiry the first `up` of each rotation window moves forward (docs/github-sync.md).
    sync_token_scopes=sync_token.scopes if sync_token else None,
    sync_token_expiration=sync_token.expiration(dt.datetime.now(dt.UTC)) if sync_token else None,
    opts=renamed_from(settings.workspace.id, concern),
)

link: PlatformLink | None = None
if settings.platform_link is not None:
    # How this domain and the platform may call each other; never another domain.
    link = PlatformLink(
        "platform-link",
        settings.platform_link,
        connection=connection,
        platform_workspace=platform_workspace,
        domain_ready=workspace,
        opts=renamed_from(f"{settings.workspace.id}-platform-link", "platform-link"),
    )

# Schedules and the declared workspace settings; a domain with alerts gets its forwarder as error handler.
automation = WorkspaceAutomation(
    "automation", settings.workspace, workspace=workspace, connection=connection, edition=settings.edition,
    error_handler=link.error_handler if link is not None else None,
    after=[link.forwarder] if link is not None and link.forwarder is not None else [],
)

if settings.github_sync is not None:
    sync = GitHubSync(
        "github-sync",
        settings.github_sync,
        windmill_url=public_url,
        workspace_token=settings.sync_token or workspace.sync_token,
        github_token=settings.github_token,
        opts=renamed_from(f"{settings.workspace.id}-github-sync", "github-sync"),
    )
    pulumi.export("syncWorkflowPath", sync.workflow_path)
else:
    pulumi.log.info(explain_disabled(settings.key("githubSync")))

if instance is not None:
    for name, value in instance_exports(instance, [workspace.sync_token] if workspace.sync_token else []).items():
        pulumi.export(name, value)

pulumi.export("role", settings.role)
pulumi.export("workspaceId", workspace.workspace_id)
pulumi.export("workspaceUrl", workspace.url)
pulumi.export("folderPaths", workspace.folder_paths)
pulumi.export("variablePaths", workspace.variable_paths)
pulumi.export("resourcePaths", workspace.resource_paths)
pulumi.export("schedulePaths", automation.schedule_paths)
if settings.is_platform:
    # The tokens domain stacks keep in this workspace (what each lets the platform run), from the
    # project's domain stack files: cross-workspace calls stay visible from the platform's side.
    tokens, unreadable = held_domain_tokens(Path.cwd())
    for problem in unreadable:
        pulumi.log.warn(problem)
    pulumi.export("domainTokens", [t.as_output() for t in tokens])
