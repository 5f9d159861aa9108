"""Stack config -> the typed, validated ``Settings`` the program runs on.

``load_settings()`` reads every key Pulumi.yaml declares (with its defaults), decides the stack's
role and parses each section into the Args its component takes. Every problem goes to one
collector and all of them are reported together, each naming its config key::

    invalid stack configuration (2 problem(s)):
      - homeops-windmill:domain: is required when role is 'domain' …
      - homeops-windmill:workspace.variables[1].secret: homeops-windmill:secrets.fmp_api_key is not set …

Secret values are only ever handled as secret Outputs; messages name secrets, never show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from .automation import check_automation, resolve_edition, sync_scope
from .errors import ConfigError, Problems, config_set_command
from .github_sync import GitHubSyncArgs
from .guards import StackView, check_guards
from .instance import InstanceArgs
from .needed_secrets import first_boot_finds_its_way_in, missing_secrets_note, runs_windmill
from .placeholders import accepted_by_environment, check_placeholders
from .platform_link import PlatformLinkArgs
from .rules import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
    check_url,
    validate_workspace_id,
)
from .schema import (
    DEFAULT_PLATFORM_STACK,
    DEFAULT_WINDMILL_VERSION,
    DEFAULTS,
    DOMAIN_PATTERN,
    PLATFORM_WORKSPACE,
    PROJECT,
    ROLES,
    SECRET_KEYS,
    key,
)
from .values import Section, check_bool, check_int, check_str
from .windmill_stack import WindmillStackArgs
from .workspace import WindmillWorkspaceArgs
from .workspace_file import WorkspaceSource, workspace_source
from .yaml_comments import cut_values_in_file


@dataclass(frozen=True)
class ApiConnection:
    """How the program reaches the Windmill API, from stack config: the one source of each setting.

    ``url`` and ``token`` are None when the stack takes them elsewhere (the Docker stack it runs,
    or the platform stack's outputs).
    """

    url: str | None
    token: pulumi.Output[str] | None
    connect_timeout_seconds: int = DEFAULT_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: int = DEFAULT_READ_TIMEOUT_SECONDS


@dataclass(frozen=True)
class Settings:
    """Everything ``__main__.py`` needs, validated.

    ``windmill_stack`` is None unless ``windmillStack.enabled`` is true (and a disabled section is
    not read further); ``github_sync`` is None without ``githubSync.repository``, and then
    ``github_token`` and ``sync_token`` are None too; ``sync_token`` is None when the stack mints
    one (``mints_sync_token``). Credentials are secret Outputs only.
    """

    project: str
    role: str
    domain: str | None
    workspace: WindmillWorkspaceArgs
    secrets: dict[str, pulumi.Output[str]]
    connection: ApiConnection
    windmill_version: str
    platform_stack: str
    windmill_stack: WindmillStackArgs | None
    github_sync: GitHubSyncArgs | None
    github_token: pulumi.Output[str] | None
    sync_token: pulumi.Output[str] | None
    platform_link: PlatformLinkArgs | None
    edition: str = "ce"  # windmillEdition: what the instance runs (ce refuses Enterprise-only settings)
    warnings: tuple[str, ...] = ()  # what the preview logs as warnings (guards.py), each naming its key
    instance: InstanceArgs | None = None  # the platform stack's instance (first boot, users, settings)

    @property
    def mints_sync_token(self) -> bool:
        return self.github_sync is not None and self.sync_token is None

    @property
    def is_platform(self) -> bool:
        return self.role == "platform"

    def key(self, name: str) -> str:
        return f"{self.project}:{name}"


class _Reader:
    """Raw stack config values by key, with Pulumi.yaml's defaults filled in.

    The SDK's own type errors (``pulumi.ConfigTypeError`` for an object key holding a value that is
    not JSON) print the value, a secret included; they are recorded here instead, once per key, with
    the key and the fix, and the key reads as its default.
    """

    def __init__(self, config: pulumi.Config, problems: Problems | None = None) -> None:
        self.config = config
        self.problems = problems if problems is not None else Problems()
        self._refused: set[str] = set()

    def __call__(self, name: str) -> Any:
        default = DEFAULTS[name]
        try:
            value = self.config.get_object(name) if isinstance(default, dict) else self.config.get(name)
        except (pulumi.ConfigTypeError, ValueError):
            if name not in self._refused:
                self._refused.add(name)
                self.problems.add(key(name), _not_an_object(name))
            return default
        return default if value is None else value

    def secret(self, name: str) -> pulumi.Output[str] | None:
        """A credential key as a secret Output, or None when it is not set."""
        return self.config.get_secret(name) if self(name) else None


def load_settings(config: pulumi.Config | None = None) -> Settings:
    """Read and validate the stack config; raise ConfigErrors listing every problem."""
    problems = Problems()
    raw = _Reader(config or pulumi.Config(PROJECT), problems)
    role, domain = _role_and_domain(raw, problems)
    connection = _connection(raw, problems)
    version = problems.check(lambda: check_str(
        key("windmillVersion"), raw("windmillVersion"), pattern=r"\d+\.\d+\.\d+",
        pattern_help=f"must be a pinned Windmill release such as {DEFAULT_WINDMILL_VERSION} (not main or latest)",
    ), DEFAULT_WINDMILL_VERSION)
    platform_stack = problems.check(lambda: check_str(
        key("platformStack"), raw("platformStack"), pattern=r"[\w.-]+(/[\w.-]+){0,2}",
        pattern_help="must be a stack name such as organization/homeops-windmill/platform",
    ), DEFAULT_PLATFORM_STACK)
    secrets = _secrets(raw, problems)
    source = workspace_source(raw("workspace"), raw("workspaceFile"), problems)  # inline or its own file
    # HomeOps' own hosts, e-mails and repository left in: warned at preview, refused by pulumi up (placeholders.yaml).
    check_placeholders({name: raw(name) for name in DEFAULTS if name not in SECRET_KEYS}, source, problems,
                       stack=pulumi.get_stack(), dry_run=pulumi.runtime.is_dry_run(),
                       accepted=accepted_by_environment())
    workspace = _workspace(source, problems, role, domain, set(secrets))
    platform_link = _platform_link(raw, problems, role, domain, workspace)
    windmill_stack = _windmill_stack(raw, problems, role, version, frozenset(secrets))
    version = windmill_stack.version if windmill_stack is not None else version
    edition = resolve_edition(key("windmillEdition"), raw("windmillEdition"),
                              windmill_stack.edition if windmill_stack is not None else None, problems)
    instance = InstanceArgs.from_config(
        raw("instance"), key=key("instance"), secrets_key=key("secrets"), secret_names=set(secrets), role=role,
        stack=windmill_stack, edition=edition, operator_token=bool(raw("windmillToken")), problems=problems,
    )
    _check_instance(raw, problems, role)
    github_sync = _github_sync(raw, problems, domain, workspace, version, source.data if source else None)
    warnings = check_guards(StackView(
        role=role, domain=domain, workspace=workspace, windmill_stack=windmill_stack, github_sync=github_sync,
        windmill_url=connection.url, secrets=secrets,
        allow_insecure_http=problems.check(lambda: check_bool(key("allowInsecureHttp"), raw("allowInsecureHttp")),
                                           False),
    ), problems)
    for warning in [*warnings, *_cut_yaml_values(source)]:
        pulumi.log.warn(str(warning))
    check_automation(key("workspace"), key("platformLink"), workspace, platform_link, edition, problems)
    github_sync = sync_scope(github_sync, platform_link)  # the Pulumi-deployed forwarder stays out of the sync
    problems.errors.extend(_plain_credentials(raw))
    note = missing_secrets_note(problems.errors, pulumi.get_stack())
    if note is not None:
        problems.note(note)
    problems.raise_if_any()
    assert workspace is not None  # no problems means it parsed
    return Settings(
        project=PROJECT, role=role, domain=domain, workspace=workspace,
        secrets={name: pulumi.Output.secret(value) for name, value in secrets.items()},
        connection=connection, windmill_version=version, platform_stack=platform_stack,
        windmill_stack=windmill_stack, github_sync=github_sync,
        github_token=raw.secret("githubToken") if github_sync else None,
        # Without wmillSyncToken, the workspace component mints a token limited to the workspace.
        sync_token=raw.secret("wmillSyncToken") if github_sync else None,
        platform_link=platform_link,
        edition=edition,
        warnings=tuple(str(w) for w in warnings),
        instance=instance,
    )


def _cut_yaml_values(source: WorkspaceSource | None) -> list[str]:
    """Values the stack file (or the workspace file) lost to a YAML comment (yaml_comments.py)."""
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    found = cut_values_in_file(Path.cwd() / stack_file, stack_file)
    if source is not None and source.file is not None:
        found += cut_values_in_file(source.file, source.key)
    return found


def _role_and_domain(raw: _Reader, problems: Problems) -> tuple[str, str | None]:
    role = problems.check(lambda: check_str(key("role"), raw("role"), choices=ROLES)) or "platform"
    if role == "domain":
        return role, problems.check(lambda: _domain(key("domain"), raw("domain")))
    if raw("domain"):
        problems.add(key("domain"), "is only for domain stacks (role: domain); remove it")
    return role, None


def _domain(name: str, value: Any) -> str:
    if not value:
        raise ConfigError(name, "is required when role is 'domain' (e.g. financial, media)")
    check_str(name, value, pattern=DOMAIN_PATTERN,
              pattern_help="must be lowercase letters and digits, starting with a letter (e.g. financial)")
    if value == "platform":
        raise ConfigError(name, "'platform' is the platform stack's role, not a domain")
    return str(value)


def _connection(raw: _Reader, problems: Problems) -> ApiConnection:
    url = raw("windmillUrl") or None
    if url is not None:
        url = problems.check(lambda: check_url(key("windmillUrl"), url).rstrip("/"), url)

    def timeout(name: str) -> int:
        return problems.check(lambda: check_int(key(name), raw(name), minimum=1, maximum=MAX_TIMEOUT_SECONDS),
                              DEFAULTS[name])

    return ApiConnection(
        url=url,
        token=raw.secret("windmillToken"),
        connect_timeout_seconds=timeout("windmillConnectTimeoutSeconds"),
        read_timeout_seconds=timeout("windmillReadTimeoutSeconds"),
    )


def _secrets(raw: _Reader, problems: Problems) -> dict[str, str]:
    """The named secret values that are usable; a bad entry is named, never shown."""
    values = raw("secrets")
    if not isinstance(values, dict):
        problems.add(key("secrets"), "must be an object of named secret values")
        return {}
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            problems.add(f"{key('secrets')}.{name}", "must be a non-empty string (value not shown)")
    return {name: value for name, value in sorted(values.items()) if isinstance(value, str) and value}


def _workspace(
    source: WorkspaceSource | None, problems: Problems, role: str, domain: str | None, secret_names: set[str]
) -> WindmillWorkspaceArgs | None:
    if source is None:  # workspaceFile could not be read; the problem is recorded
        return None
    default_id = PLATFORM_WORKSPACE if role == "platform" else (f"homeops-{domain}" if domain else None)
    workspace = WindmillWorkspaceArgs.from_config(
        source.data, secret_names=secret_names, default_id=default_id,
        key=source.key, secrets_key=key("secrets"), problems=problems, section=source.section,
    )
    if workspace is not None and role == "domain" and workspace.id == PLATFORM_WORKSPACE:
        problems.add(source.field_key("id"), f"a domain stack cannot manage {PLATFORM_WORKSPACE!r}")
    return workspace


def _platform_link(
    raw: _Reader, problems: Problems, role: str, domain: str | None, workspace: WindmillWorkspaceArgs | None
) -> PlatformLinkArgs | None:
    if workspace is None:
        return None
    link = PlatformLinkArgs.from_config(
        raw("platformLink"), role=role, domain=domain, domain_workspace=workspace.id,
        domain_folders={f.name for f in workspace.folders}, platform_workspace=PLATFORM_WORKSPACE,
        key=key("platformLink"), problems=problems,
    )
    taken = {v.path for v in workspace.variables} | {r.path for r in workspace.resources}
    if link is not None and link.service_variable in taken:
        problems.add(
            key("platformLink.services.variable"),
            f"{link.service_variable!r} is already a variable or resource of {key('workspace')}",
        )
    return link


def _windmill_stack(
    raw: _Reader, problems: Problems, role: str, version: str, secret_names: frozenset[str]
) -> WindmillStackArgs | None:
    """The Docker stack's Args when ``windmillStack.enabled`` is true, else None (nothing else in
    the section is read then, so a disabled section keeps whatever it holds)."""
    data = raw("windmillStack")
    section = problems.check(lambda: Section(data, key("windmillStack")))
    if section is None or not problems.check(lambda: section.bool("enabled", False), False):
        return None
    if role != "platform":
        problems.add(key("windmillStack"), "only the platform stack runs Windmill; remove it from this domain stack")
        return None
    return WindmillStackArgs.from_config({"version": version, **data}, key("windmillStack"), problems, secret_names)


def _check_instance(raw: _Reader, problems: Problems, role: str) -> None:
    """Every stack knows which instance it manages, and with which token.

    Decided on the config as written (``needed_secrets``, the rule ``python -m homeops secrets`` asks
    by), not on the parsed sections: a Docker stack or instance section with problems of its own
    is reported at those, without a missing windmillUrl or windmillToken besides.
    """
    url_set, token_set = bool(raw("windmillUrl")), bool(raw("windmillToken"))
    if role == "platform" and not url_set and not runs_windmill(raw):
        problems.add(key("windmillUrl"), "is required on the platform stack unless windmillStack.enabled is true")
    # First boot finds its own way in (the SUPERADMIN_SECRET, or the default admin's password).
    if role == "platform" and not token_set and not first_boot_finds_its_way_in(raw):
        problems.add(
            key("windmillToken"),
            "is required on the platform stack unless first boot runs (windmillStack.enabled, or "
            "instance.firstBoot.enabled): an API token of a Windmill superadmin; run "
            f"{config_set_command('windmillToken', '<token>')}",
        )
    if role == "domain" and url_set != token_set:
        problems.add(
            key("windmillToken" if url_set else "windmillUrl"),
            "set both windmillUrl and windmillToken to use an instance directly, or neither to read them "
            f"from the platform stack ({key('platformStack')})",
        )


def _github_sync(
    raw: _Reader, problems: Problems, domain: str | None, workspace: WindmillWorkspaceArgs | None, version: str,
    written: Any,
) -> GitHubSyncArgs | None:
    # A workspace entry with problems of its own must not hide githubSync's (and githubToken's): the
    # first preview reports every root cause in one round, so fall back to the id as written.
    workspace_id = workspace.id if workspace is not None else _written_workspace_id(written, domain)
    if workspace_id is None:
        return None
    sync = GitHubSyncArgs.from_config(
        raw("githubSync"), workspace_id=workspace_id, domain=domain, windmill_version=version,
        key_prefix=key("githubSync"), problems=problems,
    )
    if sync is not None and not raw("githubToken"):
        problems.add(
            key("githubToken"),
            f"is required when githubSync.repository is set; run {config_set_command('githubToken', '<token>')}",
        )
    return sync


def _written_workspace_id(written: Any, domain: str | None) -> str | None:
    """The workspace id as written, inline or in its file (or its default) when it is a valid id, else None."""
    if isinstance(written, dict) and "id" in written:
        candidate = written["id"]
    else:
        candidate = f"homeops-{domain}" if domain else PLATFORM_WORKSPACE
    return candidate if validate_workspace_id(candidate) is None else None


def _not_an_object(name: str) -> str:
    """The fix for an object key that holds a single value (never shown: it may be a secret)."""
    if name == "secrets":
        return ("must be an object of named secrets, but holds a single value (not shown): it was set without --path. "
                f"Run pulumi config rm --stack {pulumi.get_stack()} secrets, then "
                f"{config_set_command('secrets.<name>')} for each secret")
    return (f"must be an object, but holds a value that is not one (not shown). Set its fields with pulumi config "
            f"set --path '{name}.<field>' <value>, or write it as a YAML object in Pulumi.<stack>.yaml")


def _plain_credentials(raw: _Reader) -> list[ConfigError]:
    """Credential keys set without --secret: refused, since the value sits unencrypted in the stack file.

    Pulumi.yaml cannot declare these optional keys ``secret: true`` (the CLI would refuse their plain
    default), so the program enforces it; the message names the key and the fix, never the value.
    """
    from pulumi.runtime.config import is_config_secret

    problems = []
    for name in sorted(SECRET_KEYS):
        full = key(name)
        if raw(name) and not is_config_secret(full):
            problems.append(ConfigError(
                full, "holds a credential but is stored in plain text; set it again with "
                + config_set_command("secrets.<name>" if name == "secrets" else name) + " (value not shown)",
            ))
    return problems
