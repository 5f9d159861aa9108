"""Stack config -> typed, validated settings for the HomeOps program.

``load_settings()`` reads every key the program uses (the same keys Pulumi.yaml declares, with the
same defaults), decides the stack's role and validates everything before any resource is
declared. All problems are reported together, each naming its config key, e.g.::

    invalid stack configuration (2 problem(s)):
      - homeops-windmill:domain: is required when role is 'domain' …
      - homeops-windmill:workspace.variables[1].secret: homeops-windmill:secrets.fmp_api_key is not set …

Secret values are only ever handled as secret Outputs; messages name secrets, never show them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

from .config.errors import ConfigError, ConfigErrors
from .config.github_sync import GitHubSyncArgs
from .config.values import check_int, check_str
from .platform_link import PlatformLinkArgs
from .windmill.base import validate_url
from .windmill_stack import WindmillStackArgs
from .workspace import WindmillWorkspaceArgs

T = TypeVar("T")

PROJECT = "homeops-windmill"
ROLES = ("platform", "domain")
PLATFORM_WORKSPACE = "homeops-platform"
DOMAIN_PATTERN = r"[a-z][a-z0-9]{0,29}"
DEFAULT_PLATFORM_STACK = "organization/homeops-windmill/platform"
DEFAULT_WINDMILL_VERSION = "1.819.0"

# Every key the program reads, with its default: kept equal to Pulumi.yaml's config schema
# (tests/test_config_schema.py fails when the two drift apart).
DEFAULTS: dict[str, Any] = {
    "role": "platform",
    "domain": "",
    "platformStack": DEFAULT_PLATFORM_STACK,
    "windmillUrl": "",
    "windmillToken": "",
    "windmillVersion": DEFAULT_WINDMILL_VERSION,
    "windmillConnectTimeoutSeconds": 5,
    "windmillReadTimeoutSeconds": 30,
    "workspace": {},
    "secrets": {},
    "windmillStack": {},
    "githubSync": {},
    "githubToken": "",
    "wmillSyncToken": "",
    "platformLink": {},
}
SECRET_KEYS = frozenset({"windmillToken", "secrets", "githubToken", "wmillSyncToken"})


@dataclass(frozen=True)
class Settings:
    """Everything ``__main__.py`` needs, validated."""

    project: str
    role: str
    domain: str | None
    workspace: WindmillWorkspaceArgs
    secrets: dict[str, pulumi.Output[str]]
    windmill_url: str | None
    windmill_token: pulumi.Output[str] | None
    windmill_version: str
    platform_stack: str
    windmill_stack: WindmillStackArgs | None
    github_sync: GitHubSyncArgs | None
    github_token: pulumi.Output[str] | None
    sync_token: pulumi.Output[str] | None
    platform_link: PlatformLinkArgs | None

    @property
    def mints_sync_token(self) -> bool:
        return self.github_sync is not None and self.sync_token is None

    @property
    def is_platform(self) -> bool:
        return self.role == "platform"

    def key(self, name: str) -> str:
        return f"{self.project}:{name}"


def load_settings(config: pulumi.Config | None = None) -> Settings:
    """Read and validate the stack config; raise ConfigErrors listing every problem."""
    config = config or pulumi.Config()
    project = config.name
    errors: list[ConfigError] = []

    def key(name: str) -> str:
        return f"{project}:{name}"

    def raw(name: str) -> Any:
        value = config.get_object(name) if isinstance(DEFAULTS[name], dict) else config.get(name)
        return DEFAULTS[name] if value is None else value

    def guard(func: Callable[[], T]) -> T | None:
        try:
            return func()
        except ConfigError as error:
            errors.append(error)
        except ConfigErrors as many:
            errors.extend(many.errors)
        return None

    role = guard(lambda: check_str(key("role"), raw("role"), choices=ROLES)) or "platform"
    domain: str | None = None
    if role == "domain":
        domain = guard(lambda: _domain(key("domain"), raw("domain")))
    elif raw("domain"):
        errors.append(ConfigError(key("domain"), "is only for domain stacks (role: domain); remove it"))

    url = raw("windmillUrl") or None
    if url is not None:
        guard(lambda: _url(key("windmillUrl"), url))
    for name in ("windmillConnectTimeoutSeconds", "windmillReadTimeoutSeconds"):
        guard(lambda name=name: check_int(key(name), raw(name), minimum=1, maximum=600))
    version = guard(lambda: check_str(
        key("windmillVersion"), raw("windmillVersion"), pattern=r"\d+\.\d+\.\d+",
        pattern_help="must be a pinned Windmill release such as 1.819.0 (not main or latest)",
    )) or DEFAULT_WINDMILL_VERSION
    platform_stack = guard(lambda: check_str(
        key("platformStack"), raw("platformStack"), pattern=r"[\w.-]+(/[\w.-]+){0,2}",
        pattern_help="must be a stack name such as organization/homeops-windmill/platform",
    )) or DEFAULT_PLATFORM_STACK

    secrets_raw = raw("secrets")
    if not isinstance(secrets_raw, dict):
        errors.append(ConfigError(key("secrets"), "must be an object of named secret values"))
        secrets_raw = {}
    for name, value in secrets_raw.items():
        if not isinstance(value, str) or not value:
            errors.append(ConfigError(f"{key('secrets')}.{name}", "must be a non-empty string (value not shown)"))
    secret_names = {n for n, v in secrets_raw.items() if isinstance(v, str) and v}

    default_id = PLATFORM_WORKSPACE if role == "platform" else (f"homeops-{domain}" if domain else None)
    workspace = guard(lambda: WindmillWorkspaceArgs.from_config(
        raw("workspace"), secret_names=secret_names, default_id=default_id,
        key=key("workspace"), secrets_key=key("secrets"),
    ))
    if workspace is not None and role == "domain" and workspace.id == PLATFORM_WORKSPACE:
        errors.append(ConfigError(key("workspace.id"), f"a domain stack cannot manage {PLATFORM_WORKSPACE!r}"))

    platform_link = None
    if workspace is not None:
        platform_link = guard(lambda: PlatformLinkArgs.from_config(
            raw("platformLink"), role=role, domain=domain, domain_workspace=workspace.id,
            domain_folders={f.name for f in workspace.folders}, platform_workspace=PLATFORM_WORKSPACE,
            key=key("platformLink"),
        ))
        taken = {v.path for v in workspace.variables} | {r.path for r in workspace.resources}
        if platform_link is not None and platform_link.service_variable in taken:
            errors.append(ConfigError(
                key("platformLink.services.variable"),
                f"{platform_link.service_variable!r} is already a variable or resource of {key('workspace')}",
            ))

    stack_data = raw("windmillStack")
    windmill_stack = None
    if isinstance(stack_data, dict) and stack_data.get("enabled") not in (None, False, "false"):
        if role != "platform":
            errors.append(ConfigError(
                key("windmillStack"), "only the platform stack runs Windmill; remove it from this domain stack"
            ))
        else:
            windmill_stack = guard(lambda: WindmillStackArgs.from_config(
                {"version": version, **stack_data}, key("windmillStack")
            ))
            if windmill_stack is not None:
                version = windmill_stack.version

    token = config.get_secret("windmillToken")
    if role == "platform" and url is None and windmill_stack is None:
        errors.append(ConfigError(
            key("windmillUrl"), "is required on the platform stack unless windmillStack.enabled is true"
        ))
    bootstrapped = windmill_stack is not None and windmill_stack.bootstrap_token
    if role == "platform" and not raw("windmillToken") and not bootstrapped:
        errors.append(ConfigError(
            key("windmillToken"),
            "is required on the platform stack (unless windmillStack.enabled with bootstrapToken): an API "
            "token of a Windmill superadmin; run pulumi config set --secret windmillToken <token>",
        ))
    if role == "domain" and (url is None) != (not raw("windmillToken")):
        errors.append(ConfigError(
            key("windmillUrl" if url is None else "windmillToken"),
            "set both windmillUrl and windmillToken to use an instance directly, or neither to read them "
            f"from the platform stack ({key('platformStack')})",
        ))

    github_sync = None
    if workspace is not None:
        github_sync = guard(lambda: GitHubSyncArgs.from_config(
            raw("githubSync"), workspace_id=workspace.id, domain=domain, windmill_version=version,
            key_prefix=key("githubSync"),
        ))
        if github_sync is not None and not raw("githubToken"):
            errors.append(ConfigError(
                key("githubToken"),
                "is required when githubSync.repository is set; run pulumi config set --secret githubToken <token>",
            ))

    errors.extend(_plain_credentials(project, raw))
    if errors:
        raise ConfigErrors(errors)
    assert workspace is not None  # no errors means it parsed
    secrets = {name: pulumi.Output.secret(secrets_raw[name]) for name in sorted(secret_names)}
    return Settings(
        project=project,
        role=role,
        domain=domain,
        workspace=workspace,
        secrets=secrets,
        windmill_url=url.rstrip("/") if url else None,
        windmill_token=token if raw("windmillToken") else None,
        windmill_version=version,
        platform_stack=platform_stack,
        windmill_stack=windmill_stack,
        github_sync=github_sync,
        github_token=config.get_secret("githubToken") if github_sync else None,
        # Without wmillSyncToken, the workspace component mints a token limited to the workspace.
        sync_token=config.get_secret("wmillSyncToken") if github_sync and raw("wmillSyncToken") else None,
        platform_link=platform_link,
    )


def _plain_credentials(project: str, raw: Callable[[str], Any]) -> list[ConfigError]:
    """Credential keys set without --secret: refused, since the value sits unencrypted in the stack file.

    Pulumi.yaml cannot declare these optional keys ``secret: true`` (the CLI would refuse their plain
    default), so the program enforces it; the message names the key and the fix, never the value.
    """
    from pulumi.runtime.config import is_config_secret

    problems = []
    for name in sorted(SECRET_KEYS):
        full = f"{project}:{name}"
        if raw(name) and not is_config_secret(full):
            path = " --path 'secrets.<name>'" if name == "secrets" else ""
            problems.append(ConfigError(
                full, f"holds a credential but is stored in plain text; set it again with "
                f"pulumi config set --secret{path} {name if not path else ''}".rstrip() + " (value not shown)",
            ))
    return problems


def _domain(key: str, value: Any) -> str:
    if not value:
        raise ConfigError(key, "is required when role is 'domain' (e.g. financial, media)")
    check_str(key, value, pattern=DOMAIN_PATTERN,
              pattern_help="must be lowercase letters and digits, starting with a letter (e.g. financial)")
    if value == "platform":
        raise ConfigError(key, "'platform' is the platform stack's role, not a domain")
    return str(value)


def _url(key: str, value: Any) -> None:
    check_str(key, value)
    problem = validate_url(value)
    if problem:
        raise ConfigError(key, problem)

