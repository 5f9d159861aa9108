"""Rules that span sections: what a stack may name, where it may send a credential, what Windmill
would refuse later, and the warnings a preview should print.

``check_guards`` runs once the sections are parsed (``settings.load_settings``). Its problems join
the one collector, each naming its key and never showing a secret; its warnings are returned, and
the program logs them (``pulumi.log.warn``) at preview.

* **Names a stack owns.** A stack manages only its own workspace: ``homeops-<domain>`` (or
  ``homeops-<domain>-<suffix>``) for a domain, ``homeops-platform[-<suffix>]`` for the platform,
  so no key can name another domain's workspace. In the platform workspace, the paths
  ``f/deployment/<domain>_trigger_<name>`` belong to the domain stacks' platform links
  (``platform_link.py``), so the platform stack may not declare one.
* **Credentials on the network.** The URLs a credential is sent to (``windmillUrl``, the Docker
  stack's ``apiUrl`` and, with GitHub sync, the URL the workflow sends its token to) must be
  ``https`` unless the host is a loopback address; ``allowInsecureHttp: true`` accepts plain http
  with a warning. Credentials inside URLs are refused where the URL is read (``rules.py``).
* **Windmill's limits.** A secret is stored encrypted in a ``VARCHAR(15000)`` column; folder
  owners and permissions may only name groups of the workspace.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from components.windmill.rules import MAX_SECRET_VALUE_BYTES, encrypted_length

from .errors import Problems
from .github_sync import GitHubSyncArgs
from .platform_link import trigger_variable_pattern
from .schema import PLATFORM_WORKSPACE, key
from .windmill_stack import WindmillStackArgs
from .workspace import WindmillWorkspaceArgs

WORKSPACE_PREFIX = "homeops-"
# Above this a dynamic-provider call may hang instead of failing (pulumi/pulumi#13841).
LONG_READINESS_SECONDS = 180
# Image tags that name a release line rather than a build: 2, 2.7, 2-alpine, 2.7-builder.
MOVING_TAG = re.compile(r"\d+(\.\d+)?(-[a-z][a-z0-9.]*)?")
INSECURE_SSH_OPTIONS = re.compile(r"stricthostkeychecking\s*[= ]\s*(no|off)\b|userknownhostsfile\s*[= ]\s*/dev/null")


@dataclass(frozen=True)
class ConfigWarning:
    """Something the configuration allows but an operator should know, naming its key."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass(frozen=True)
class StackView:
    """What the guards read: the parsed sections (None when absent or invalid)."""

    role: str
    domain: str | None
    workspace: WindmillWorkspaceArgs | None
    windmill_stack: WindmillStackArgs | None
    github_sync: GitHubSyncArgs | None
    windmill_url: str | None
    allow_insecure_http: bool
    secrets: Mapping[str, str]


def check_guards(view: StackView, problems: Problems) -> list[ConfigWarning]:
    """Record every problem in ``problems``; return the warnings."""
    warnings: list[ConfigWarning] = []
    _own_workspace(view, problems)
    _reserved_platform_paths(view, problems)
    _windmill_limits(view, problems)
    warnings += _plain_http(view, problems)
    warnings += _stack_warnings(view.windmill_stack)
    warnings += _sync_warnings(view.github_sync)
    return warnings


# -- names a stack owns -------------------------------------------------------------------------


def owned_workspace_ids(concern: str) -> str:
    """The pattern of the workspace ids a stack of ``concern`` (a domain, or platform) may manage."""
    return rf"{re.escape(WORKSPACE_PREFIX + concern)}(-[A-Za-z0-9_]+)*"


def _own_workspace(view: StackView, problems: Problems) -> None:
    workspace = view.workspace
    if workspace is None or (view.role == "domain" and view.domain is None):
        return
    if view.role == "domain" and workspace.id == PLATFORM_WORKSPACE:
        return  # reported by settings with its own message
    concern = view.domain if view.role == "domain" else "platform"
    if re.fullmatch(owned_workspace_ids(concern), workspace.id):
        return
    owner = _owner_of(workspace.id)
    whose = f"it is {owner}'s workspace" if owner else "it is outside this stack's homeops- namespace"
    problems.add(
        key("workspace.id"),
        f"a {view.role} stack manages only its own workspace, {WORKSPACE_PREFIX}{concern} (or "
        f"{WORKSPACE_PREFIX}{concern}-<suffix>); {workspace.id!r} is refused: {whose}",
    )


def _owner_of(workspace_id: str) -> str | None:
    match = re.fullmatch(rf"{WORKSPACE_PREFIX}([a-z][a-z0-9]*)(-.*)?", workspace_id)
    if match is None:
        return None
    return "the platform" if match.group(1) == "platform" else f"domain {match.group(1)}"


def _reserved_platform_paths(view: StackView, problems: Problems) -> None:
    """The platform may not declare a path a domain's platform link owns (Windmill deletes a
    variable and a resource of one path together, so a clash destroys the other side's object)."""
    if view.role != "platform" or view.workspace is None:
        return
    reserved = re.compile(trigger_variable_pattern(r"[a-z][a-z0-9]*"))
    for kind, items in (("variables", view.workspace.variables), ("resources", view.workspace.resources)):
        for index, item in enumerate(items):
            if reserved.fullmatch(item.path):
                problems.add(
                    key(f"workspace.{kind}[{index}].path"),
                    f"{item.path!r} is reserved for a domain stack's platform link (f/deployment/<domain>_trigger_…); "
                    "give it another name",
                )


# -- what Windmill would refuse at `up` ---------------------------------------------------------


def _windmill_limits(view: StackView, problems: Problems) -> None:
    workspace = view.workspace
    if workspace is None:
        return
    for index, variable in enumerate(workspace.variables):
        value = view.secrets.get(variable.secret or "")
        if value is not None and encrypted_length(value) > 15000:
            problems.add(
                key(f"workspace.variables[{index}].secret"),
                f"{key('secrets')}.{variable.secret} is too long for a Windmill secret: stored encrypted it would take "
                f"{encrypted_length(value)} of the 15000 characters Windmill allows (at most {MAX_SECRET_VALUE_BYTES} "
                f"bytes of UTF-8 before encryption; value not shown)",
            )
    groups = {g.name for g in workspace.groups} | {"all"}
    for index, folder in enumerate(workspace.folders):
        named = [(f"owners[{i}]", p) for i, p in enumerate(folder.owners)]
        named += [(f"extraPerms.{p}", p) for p in folder.extra_perms]
        for where, principal in named:
            if principal.startswith("g/") and principal[2:] not in groups:
                problems.add(
                    key(f"workspace.folders[{index}].{where}"),
                    f"{principal!r} names no group of this workspace; declare it in {key('workspace.groups')} "
                    f"(declared: {', '.join(sorted(groups))})",
                )


# -- credentials on the network -----------------------------------------------------------------


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _credential_urls(view: StackView) -> list[tuple[str, str, str]]:
    """(key, url, what is sent there) for every URL this stack sends a credential to."""
    urls: list[tuple[str, str, str]] = []
    if view.windmill_url:
        urls.append((key("windmillUrl"), view.windmill_url, "the Windmill API token"))
    stack = view.windmill_stack
    if stack is not None:
        urls.append((key("windmillStack.apiUrl"), stack.api_url, "the superadmin API token"))
        if view.github_sync is not None and stack.base_url != stack.api_url:
            urls.append((key("windmillStack.baseUrl"), stack.base_url, "the sync workflow's token (WMILL_URL)"))
    return urls


def _plain_http(view: StackView, problems: Problems) -> list[ConfigWarning]:
    warnings = []
    for name, url, what in _credential_urls(view):
        if urlsplit(url).scheme != "http" or is_loopback_url(url):
            continue
        if view.allow_insecure_http:
            warnings.append(ConfigWarning(name, f"{url} is plain http to a host that is not this machine: {what} "
                                                "crosses the network unencrypted (allowInsecureHttp is true)"))
            continue
        problems.add(
            name,
            f"{url} is plain http to a host that is not this machine, so {what} would cross the network "
            "unencrypted. Use https (windmillStack.caddy.domain serves it), reach it through an SSH tunnel "
            f"(http://127.0.0.1:<port>), or accept the risk with {key('allowInsecureHttp')}: true",
        )
    return warnings


# -- warnings -----------------------------------------------------------------------------------


def _stack_warnings(stack: WindmillStackArgs | None) -> list[ConfigWarning]:
    if stack is None:
        return []
    warnings = []
    caddy = stack.caddy
    if caddy.enabled and caddy.domain and ipaddress.ip_address(caddy.bind_address).is_loopback:
        warnings.append(ConfigWarning(key("windmillStack.caddy.domain"), (
            f"is set but Caddy is bound to {caddy.bind_address}: nothing outside this host reaches "
            f"https://{caddy.domain}, and Let's Encrypt cannot validate it; bind to a reachable address")))
    for name, image, on in (("caddy.image", caddy.image, caddy.enabled), ("extra.image", stack.extra.image,
                                                                          stack.extra.enabled)):
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        if on and "@sha256:" not in image and MOVING_TAG.fullmatch(tag):
            warnings.append(ConfigWarning(key(f"windmillStack.{name}"), (
                f"{image} names a release line, not a build: the tag moves with every release, so a re-pull or a "
                "new host can run other code than the preview showed; pin a full version or a digest")))
    if INSECURE_SSH_OPTIONS.search(" ".join(stack.docker_ssh_opts).lower()):
        warnings.append(ConfigWarning(key("windmillStack.dockerSshOpts"), (
            "turns off SSH host key checking: a machine that answers in the Docker host's place gets "
            "root-equivalent Docker access and every secret the stack sends; keep the host key in known_hosts")))
    if stack.readiness_timeout_seconds > LONG_READINESS_SECONDS:
        warnings.append(ConfigWarning(key("windmillStack.readiness.timeoutSeconds"), (
            f"is {stack.readiness_timeout_seconds} s: dynamic-provider calls longer than about "
            f"{LONG_READINESS_SECONDS} s have been reported to hang instead of failing (pulumi/pulumi#13841); "
            f"keep it at {LONG_READINESS_SECONDS} or less and re-run `pulumi up` if the first start is slow")))
    return warnings


def _sync_warnings(sync: GitHubSyncArgs | None) -> list[ConfigWarning]:
    if sync is None:
        return []
    warnings = []
    default = "windmill-sync.yml" if sync.domain is None else f"{sync.domain}-sync.yml"
    if sync.overwrite_workflow and sync.workflow_file != default:
        other = _whose_workflow(sync.workflow_file, sync.domain)
        warnings.append(ConfigWarning(key("githubSync.workflowFile"), (
            f"{sync.workflow_path} is not this stack's default ({default}) and overwriteWorkflow is true: "
            f"whatever workflow is there is replaced{other}; check it, or set overwriteWorkflow: false")))
    if sync.environment is None:
        warnings.append(ConfigWarning(key("githubSync.environment.enabled"), (
            "is false: the sync token is a repository secret that every workflow of every branch can read; "
            "use an environment where the plan allows it (docs/github-sync.md)")))
    return warnings


def _whose_workflow(file: str, domain: str | None) -> str:
    if file == "windmill-sync.yml":
        return " (it is the platform stack's sync workflow)"
    match = re.fullmatch(r"([a-z][a-z0-9]*)-sync\.ya?ml", file)
    if match and match.group(1) != domain:
        return f" (it is domain {match.group(1)}'s sync workflow)"
    return ""


__all__ = ["ConfigWarning", "StackView", "check_guards", "is_loopback_url", "owned_workspace_ids"]
