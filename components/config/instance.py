"""``instance``: the Windmill instance itself, as the platform stack declares it, and its parser.

* ``firstBoot``: unattended first boot (on by default when the stack runs Windmill on Docker and no
  ``windmillToken`` is set; an operator's token means the instance was taken over by hand): the
  bootstrap credential becomes an automation superadmin and the program's expiring API token; the
  default admin ``admin@windmill.dev`` is removed (preferred once an operator superadmin is declared)
  or given a generated password. See docs/instance.md.
* ``users`` and ``groups``: instance users (superadmin/devops flags, disabled) and instance groups.
* ``settings`` and ``workerGroups``: instance settings (base URL, retention, SMTP, license key,
  critical alert channels) and worker-group configs, each key managed on its own.
* the edition comes from ``windmillEdition`` (or ``windmillStack.edition``): Enterprise-only settings
  and worker-group configs are refused on ``ce`` at load time.

Credentials (the SMTP password, the license key, a provided ``SUPERADMIN_SECRET``) are names in the
stack's ``secrets`` map, never values here. Every problem names its key, like every config parser.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from .errors import Problems, collected, config_set_command
from .rules import (
    DEFAULT_AUTOMATION_EMAIL,
    WORKER_CONFIG_FIELDS,
    check_email,
    check_instance_group_name,
    check_worker_group_name,
    setting_problems,
)
from .values import Section
from .windmill_stack import WindmillStackArgs

SECRET_NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # noqa: S105 - a name pattern, not a secret
DEFAULT_ADMIN_ACTIONS = ("remove", "rotate")
_KEYS = ("firstBoot", "users", "groups", "settings", "workerGroups")
_FIRST_BOOT_KEYS = ("enabled", "superadminSecret", "tryDefaultPassword", "automationEmail", "tokenLifetimeDays",
                    "renewDaysBefore", "defaultAdmin", "defaultAdminSecured")
_USER_KEYS = ("email", "name", "superAdmin", "devops", "disabled", "adopt")
_GROUP_KEYS = ("name", "summary", "members", "adopt")
_SETTING_KEYS = ("baseUrl", "retentionPeriodSecs", "smtp", "licenseKeySecret", "criticalAlertChannels")
_SMTP_KEYS = {"host": "smtp_host", "port": "smtp_port", "username": "smtp_username", "from": "smtp_from",
              "tlsImplicit": "smtp_tls_implicit", "disableTls": "smtp_disable_tls"}
_CHANNEL_KEYS = {"email": "email", "slackChannel": "slack_channel", "teamsChannel": "teams_channel"}


@dataclass(frozen=True)
class FirstBootSettings:
    """Unattended first boot; ``superadmin_secret`` is a name in ``secrets`` (an instance reached by
    URL that was started with that ``SUPERADMIN_SECRET``)."""

    enabled: bool
    superadmin_secret: str | None = None
    try_default_password: bool = True
    automation_email: str = DEFAULT_AUTOMATION_EMAIL
    token_lifetime_days: int = 90
    renew_days_before: int = 30
    default_admin: str = "rotate"
    default_admin_secured: bool = False


@dataclass(frozen=True)
class UserEntry:
    """An instance user."""

    email: str
    name: str = ""
    super_admin: bool = False
    devops: bool = False
    disabled: bool = False
    adopt: bool = False


@dataclass(frozen=True)
class GroupEntry:
    """An instance group and the emails in it."""

    name: str
    summary: str = ""
    members: tuple[str, ...] = ()
    adopt: bool = False


@dataclass(frozen=True)
class SettingEntry:
    """One global setting: ``value`` (plain JSON) and, from ``secrets``, ``secret`` at ``secret_field``."""

    key: str
    value: Any = None
    secret: str | None = None
    secret_field: str = ""


@dataclass(frozen=True)
class InstanceArgs:
    """The instance as declared; ``published_at`` is where the Docker stack publishes Windmill beyond
    loopback (``0.0.0.0:80``), None when it does not."""

    edition: str
    first_boot: FirstBootSettings
    users: tuple[UserEntry, ...] = ()
    groups: tuple[GroupEntry, ...] = ()
    settings: tuple[SettingEntry, ...] = ()
    worker_groups: tuple[tuple[str, dict[str, Any]], ...] = ()
    published_at: str | None = None

    @property
    def has_operator(self) -> bool:
        return any(u.super_admin and not u.disabled for u in self.users)

    @property
    def manages_anything(self) -> bool:
        return self.first_boot.enabled or bool(self.users or self.groups or self.settings or self.worker_groups)

    @classmethod
    def from_config(
        cls, data: Any, *, key: str, secrets_key: str, secret_names: set[str], role: str,
        stack: WindmillStackArgs | None, edition: str = "ce", operator_token: bool = False,
        problems: Problems | None = None,
    ) -> InstanceArgs | None:
        """Validate ``instance`` (None when the stack declares nothing about its instance).

        First boot is on by default when the stack runs Windmill on Docker and no ``windmillToken``
        is set (an operator's token means the instance was taken over by hand).
        """
        if problems is None:
            return collected(lambda found: cls.from_config(
                data, key=key, secrets_key=secrets_key, secret_names=secret_names, role=role, stack=stack,
                edition=edition, operator_token=operator_token, problems=found))
        with problems.scope() as found:
            root = found.check(lambda: Section(data, key))
            if root is None:
                return None
            if role != "platform":
                if root.data:
                    found.add(key, "only the platform stack manages the instance; remove it from this domain stack")
                return None
            found.check(lambda: root.reject_unknown(_KEYS))
            parser = _Parser(root, found, secrets_key, secret_names, stack, boot_by_default=stack is not None and
                             not operator_token)
            args = parser.parse(edition)
        return None if found or args is None or not args.manages_anything else args


class _Parser:
    """Reads one ``instance`` section into InstanceArgs, recording every problem with its key."""

    def __init__(self, root: Section, problems: Problems, secrets_key: str, secret_names: set[str],
                 stack: WindmillStackArgs | None, boot_by_default: bool) -> None:
        self.root, self.problems, self.secrets_key, self.secret_names, self.stack = (
            root, problems, secrets_key, secret_names, stack)
        self.boot_by_default = boot_by_default

    def parse(self, edition: str) -> InstanceArgs | None:
        users = self._users()
        first_boot = self._first_boot(users)
        args = InstanceArgs(
            edition=edition, first_boot=first_boot or FirstBootSettings(enabled=False), users=users,
            groups=self._groups(), settings=self._settings(edition), worker_groups=self._worker_groups(edition),
            published_at=published_at(self.stack),
        )
        self._check_exposure(args)
        return None if first_boot is None else args

    def _secret(self, section: Section, name: str) -> str | None:
        secret = self.problems.check(lambda: section.str(name, None, pattern=SECRET_NAME,
                                                         pattern_help="must be a name in secrets"))
        if secret is not None and secret not in self.secret_names:
            self.problems.add(section.key(name), f"{self.secrets_key}.{secret} is not set; run: "
                                                 f"{config_set_command(f'secrets.{secret}')}")
        return secret

    def _first_boot(self, users: tuple[UserEntry, ...]) -> FirstBootSettings | None:
        check = self.problems.check
        with self.problems.scope() as found:
            s = check(lambda: self.root.section("firstBoot"))
            if s is None:
                return None
            check(lambda: s.reject_unknown(_FIRST_BOOT_KEYS))
            operator = any(u.super_admin and not u.disabled for u in users)
            action = check(lambda: s.str("defaultAdmin", "remove" if operator else "rotate",
                                         choices=DEFAULT_ADMIN_ACTIONS), "rotate")
            settings = FirstBootSettings(
                enabled=check(lambda: s.bool("enabled", self.boot_by_default), False),
                superadmin_secret=self._secret(s, "superadminSecret"),
                try_default_password=check(lambda: s.bool("tryDefaultPassword", True), True),
                automation_email=check(lambda: check_email(s.key("automationEmail"), s.data.get(
                    "automationEmail", DEFAULT_AUTOMATION_EMAIL)), DEFAULT_AUTOMATION_EMAIL),
                token_lifetime_days=check(lambda: s.int("tokenLifetimeDays", 90, minimum=1, maximum=3650), 90),
                renew_days_before=check(lambda: s.int("renewDaysBefore", 30, minimum=0, maximum=3649), 30),
                default_admin=action,
                default_admin_secured=check(lambda: s.bool("defaultAdminSecured", False), False),
            )
            if settings.renew_days_before >= settings.token_lifetime_days:
                lifetime, before = settings.token_lifetime_days, settings.renew_days_before
                found.add(s.key("renewDaysBefore"), f"must be less than tokenLifetimeDays ({lifetime}), got {before}")
            if settings.default_admin == "remove" and not operator:
                found.add(s.key("defaultAdmin"), "remove needs an operator: declare at least one instance.users "
                                                 "entry with superAdmin: true, or use rotate")
            if any(u.email == settings.automation_email for u in users):
                found.add(s.key("automationEmail"), "is first boot's automation user; do not declare it in users")
        return None if found else settings

    def _users(self) -> tuple[UserEntry, ...]:
        users: list[UserEntry] = []
        for entry in self.problems.check(lambda: self.root.sections("users"), []):
            with self.problems.scope() as found:
                check = found.check
                check(lambda e=entry: e.reject_unknown(_USER_KEYS))
                user = UserEntry(
                    email=check(lambda e=entry: check_email(e.key("email"), e.data.get("email")), ""),
                    name=check(lambda e=entry: e.str("name", "", max_length=255), ""),
                    super_admin=check(lambda e=entry: e.bool("superAdmin", False), False),
                    devops=check(lambda e=entry: e.bool("devops", False), False),
                    disabled=check(lambda e=entry: e.bool("disabled", False), False),
                    adopt=check(lambda e=entry: e.bool("adopt", False), False),
                )
                if user.email and user.email in {u.email for u in users}:
                    found.add(entry.key("email"), f"{user.email} is declared twice")
            if not found:
                users.append(user)
        return tuple(users)

    def _groups(self) -> tuple[GroupEntry, ...]:
        groups: list[GroupEntry] = []
        for entry in self.problems.check(lambda: self.root.sections("groups"), []):
            with self.problems.scope() as found:
                check = found.check
                check(lambda e=entry: e.reject_unknown(_GROUP_KEYS))
                members = check(lambda e=entry: e.list("members", []), [])
                group = GroupEntry(
                    name=check(lambda e=entry: check_instance_group_name(e.key("name"), e.data.get("name")), ""),
                    summary=check(lambda e=entry: e.str("summary", ""), ""),
                    members=tuple(check(lambda e=entry, i=i, m=m: check_email(f"{e.key('members')}[{i}]", m), "")
                                  for i, m in enumerate(members)),
                    adopt=check(lambda e=entry: e.bool("adopt", False), False),
                )
                if group.name and group.name in {g.name for g in groups}:
                    found.add(entry.key("name"), f"{group.name} is declared twice")
            if not found:
                groups.append(group)
        return tuple(groups)

    def _settings(self, edition: str) -> tuple[SettingEntry, ...]:
        s = self.problems.check(lambda: self.root.section("settings"))
        if s is None:
            return ()
        self.problems.check(lambda: s.reject_unknown(_SETTING_KEYS))
        entries: list[tuple[str, SettingEntry]] = []
        if "baseUrl" in s.data:
            entries.append(("baseUrl", SettingEntry("base_url", s.data["baseUrl"])))
        if "retentionPeriodSecs" in s.data:
            entries.append(("retentionPeriodSecs", SettingEntry("retention_period_secs", self.problems.check(
                lambda: s.int("retentionPeriodSecs", minimum=1), s.data["retentionPeriodSecs"]))))
        if "smtp" in s.data:
            entries.append(("smtp", self._smtp(s)))
        if "licenseKeySecret" in s.data:
            entries.append(("licenseKeySecret", SettingEntry("license_key", None, self._secret(s, "licenseKeySecret"))))
        if "criticalAlertChannels" in s.data:
            entries.append(("criticalAlertChannels", self._channels(s)))
        for name, entry in entries:
            for _field, problem in setting_problems(entry.key, entry.value, "[secret]" if entry.secret else None,
                                                    entry.secret_field, edition):
                self.problems.add(s.key(name), problem)
        return tuple(entry for _, entry in entries)

    def _smtp(self, settings: Section) -> SettingEntry:
        smtp = self.problems.check(lambda: settings.section("smtp"), Section({}, settings.key("smtp")))
        self.problems.check(lambda: smtp.reject_unknown((*_SMTP_KEYS, "passwordSecret")))
        value = {_SMTP_KEYS[k]: v for k, v in smtp.data.items() if k in _SMTP_KEYS}
        secret = self._secret(smtp, "passwordSecret")
        return SettingEntry("smtp_settings", value, secret, "smtp_password" if secret else "")

    def _channels(self, settings: Section) -> SettingEntry:
        channels = []
        for entry in self.problems.check(lambda: settings.sections("criticalAlertChannels"), []):
            if len(entry.data) != 1 or next(iter(entry.data)) not in _CHANNEL_KEYS:
                self.problems.add(entry.path, "must be one of {email: …}, {slackChannel: …} or "
                                              "{teamsChannel: {team_id, team_name, channel_id, channel_name}}")
                continue
            name, value = next(iter(entry.data.items()))
            channels.append({_CHANNEL_KEYS[name]: value})
        return SettingEntry("critical_error_channels", channels)

    def _worker_groups(self, edition: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        groups = self.problems.check(lambda: self.root.mapping("workerGroups", {}), {})
        if groups and edition == "ce":
            self.problems.add(self.root.key("workerGroups"), "worker group configs are an Enterprise Edition "
                              "feature (the Community Edition refuses them): set edition: ee with the EE image and "
                              "a license key, or remove workerGroups")
            return ()
        out = []
        for name, config in sorted(groups.items()):
            where = self.root.key(f"workerGroups.{name}")
            if self.problems.check(lambda n=name, w=where: check_worker_group_name(w, n)) is None:
                continue
            if not isinstance(config, dict) or set(config) - WORKER_CONFIG_FIELDS:
                self.problems.add(where, f"must be an object of Windmill's worker group config fields "
                                         f"({', '.join(sorted(WORKER_CONFIG_FIELDS))})")
                continue
            out.append((name, dict(config)))
        return tuple(out)

    def _check_exposure(self, args: InstanceArgs) -> None:
        if args.published_at is None or args.first_boot.enabled or args.first_boot.default_admin_secured:
            return
        self.problems.add(
            self.root.key("firstBoot.enabled"),
            f"windmillStack publishes Windmill on {args.published_at}, beyond loopback, and nothing replaces the "
            "default admin's published password (admin@windmill.dev / changeme): set instance.firstBoot.enabled "
            "to true, or instance.firstBoot.defaultAdminSecured to true once you have changed or removed it, or "
            "bind windmillStack.caddy.bindAddress to 127.0.0.1",
        )


def published_at(stack: WindmillStackArgs | None) -> str | None:
    """Where the Docker stack publishes Windmill beyond the host's loopback, or None."""
    if stack is None:
        return None
    if stack.caddy.enabled:
        if stack.caddy.domain:
            return f"{stack.caddy.domain} ({stack.caddy.bind_address}:{stack.caddy.port})"
        bind, port = stack.caddy.bind_address, stack.caddy.port
    else:
        bind, port = stack.server.bind_address, stack.server.port
    if port is None or ipaddress.ip_address(bind).is_loopback:
        return None
    return f"{bind}:{port}"
