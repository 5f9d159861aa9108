"""Which secret config keys a stack needs, read from its raw config by the rules the program applies.

``needed_secrets(config, workspace_file)`` takes the ``config:`` map of ``Pulumi.<stack>.yaml`` as
written (``secure:`` values stay encrypted; they are never read) and, when the stack sets
``workspaceFile``, that file's mapping, and lists every secret the stack needs:

* ``secrets.<name>`` for each name the stack refers to: a workspace variable's ``secret``, the
  instance's ``firstBoot.superadminSecret``, ``settings.smtp.passwordSecret`` and
  ``settings.licenseKeySecret``, the Docker stack's ``postgres.remoteAccess`` TLS material, and the
  Kubernetes runtime's ``licenseSecret`` and ``postgres.urlSecret`` (each ``is not set; run …`` in
  this package);
* ``windmillToken`` on the platform stack unless first boot finds its own way in (``settings``'
  ``_check_instance``), and on a domain stack that sets ``windmillUrl``;
* ``githubToken`` when ``githubSync.repository`` is set, and ``wmillSyncToken`` (optional) with it.

An optional secret is one the program runs without. ``python -m homeops secrets`` sets what this
lists; a program-tier test keeps the two agreeing: on a fresh stack the required keys listed here
are exactly the keys the program reports as not set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .schema import DEFAULTS, SCHEMA, key
from .workspace import SECRET_NAME
from .workspace_file import FILE_KEY

SECRETS_KEY = key("secrets")


@dataclass(frozen=True)
class NeededSecret:
    """One secret config key a stack needs.

    ``key`` is the full config key (``homeops-windmill:secrets.fmp_api_key``,
    ``homeops-windmill:githubToken``); an entry of ``secrets`` is set with ``--path``.
    ``referenced_by`` is the config key that asks for it.
    """

    key: str
    description: str
    optional: bool = False
    referenced_by: str = ""

    @property
    def name(self) -> str:
        """The key without the project: what ``pulumi config set`` takes (``secrets.fmp_api_key``)."""
        return self.key.split(":", 1)[1]

    @property
    def path(self) -> bool:
        """Whether it is an entry of ``secrets``, set with ``pulumi config set --path``."""
        return self.key.startswith(SECRETS_KEY + ".")

    @property
    def secret_name(self) -> str | None:
        """The entry of ``secrets`` (``fmp_api_key``), None for a key of its own."""
        return self.key.removeprefix(SECRETS_KEY + ".") if self.path else None


def needed_secrets(config: Mapping[str, Any], workspace_file: Mapping[str, Any] | None = None) -> list[NeededSecret]:
    """Every secret the stack needs, in the order its config names them (each key once).

    ``config`` is the stack file's ``config:`` map (keys with or without the project prefix);
    ``workspace_file`` the mapping of the file ``workspaceFile`` names, required when it names one.
    """
    raw = _Raw(config)
    found: dict[str, NeededSecret] = {}
    for need in _all_needs(raw, workspace_file):
        if need.key not in found or (found[need.key].optional and not need.optional):
            found[need.key] = need
    return list(found.values())


def _all_needs(raw: _Raw, workspace_file: Mapping[str, Any] | None) -> Iterator[NeededSecret]:
    role = raw("role")
    yield from _connection(raw, role)
    yield from _workspace(raw, workspace_file)
    if role == "platform":
        yield from _instance(raw.mapping("instance"))
        stack = raw.mapping("windmillStack")
        if stack.get("enabled") is True:
            yield from _windmill_stack(stack)
    yield from _github(raw)


class _Raw:
    """The raw config by key name, with Pulumi.yaml's defaults."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.values = {name if ":" in name else key(name): value for name, value in config.items()}

    def __call__(self, name: str) -> Any:
        value = self.values.get(key(name))
        return DEFAULTS.get(name) if value is None else value

    def mapping(self, name: str) -> Mapping[str, Any]:
        value = self(name)
        return value if isinstance(value, Mapping) else {}


def _connection(raw: _Raw, role: str) -> Iterator[NeededSecret]:
    """``windmillToken``: the instance's token, unless first boot mints the program's own."""
    if role == "platform":
        yield _own_key("windmillToken", optional=first_boot_finds_its_way_in(raw))
    elif role == "domain" and raw("windmillUrl"):
        yield _own_key("windmillToken", referenced_by=key("windmillUrl"))


def runs_windmill(read: Callable[[str], Any]) -> bool:
    """Whether the stack declares a Windmill of its own (``windmillStack.enabled: true``), whatever
    problems the rest of that section has. ``read`` gives a config value by key name, defaults filled in."""
    stack = read("windmillStack")
    return isinstance(stack, Mapping) and stack.get("enabled") is True


def first_boot_finds_its_way_in(read: Callable[[str], Any]) -> bool:
    """Whether a platform stack runs without ``windmillToken``: its Docker stack gives the servers a
    bootstrap secret (``bootstrapToken``, on by default), or first boot runs (``instance.firstBoot.enabled``,
    on by default with a Windmill the stack runs). Decided on the config as written, so the program
    (``settings._check_instance``) and ``python -m homeops secrets`` apply the same rule, and a
    section with problems of its own adds no missing token to them."""
    stack, instance = read("windmillStack"), read("instance")
    own = runs_windmill(read)
    if own and _mapping(stack).get("bootstrapToken", True) is not False:
        return True
    first_boot = _mapping(_mapping(instance).get("firstBoot"))
    return first_boot.get("enabled", own) is True


def _workspace(raw: _Raw, workspace_file: Mapping[str, Any] | None) -> Iterator[NeededSecret]:
    """Each workspace variable's ``secret``, described by the variable's own description."""
    file_name = raw("workspaceFile")
    if file_name:
        if workspace_file is None:
            raise ConfigError(FILE_KEY, f"names {file_name}; pass that file's contents to list its secrets")
        data, where = _mapping(workspace_file), f"{file_name}: variables"
    else:
        data, where = raw.mapping("workspace"), key("workspace.variables")
    variables = data.get("variables")
    for index, variable in enumerate(variables if isinstance(variables, list) else []):
        variable = _mapping(variable)
        name = variable.get("secret")
        if _is_name(name) and variable.get("value") is None:
            description = variable.get("description") or f"the value of workspace variable {variable.get('path')}"
            yield _entry(name, _one_line(str(description)), f"{where}[{index}].secret")


def _instance(instance: Mapping[str, Any]) -> Iterator[NeededSecret]:
    """The instance's credentials: a provided SUPERADMIN_SECRET, the SMTP password, the license key."""
    where = key("instance")
    first_boot, settings = _mapping(instance.get("firstBoot")), _mapping(instance.get("settings"))
    yield from _named(first_boot.get("superadminSecret"), "SUPERADMIN_SECRET of the instance first boot signs in "
                      "with", f"{where}.firstBoot.superadminSecret")
    if "smtp" in settings:
        yield from _named(_mapping(settings["smtp"]).get("passwordSecret"), "password of the instance's SMTP "
                          "server", f"{where}.settings.smtp.passwordSecret")
    yield from _named(settings.get("licenseKeySecret"), "Windmill Enterprise license key",
                      f"{where}.settings.licenseKeySecret")


def _windmill_stack(stack: Mapping[str, Any]) -> Iterator[NeededSecret]:
    """The runtime's credentials: remote workers' Postgres TLS (Docker), the database URL and license
    (Kubernetes)."""
    where = key("windmillStack")
    if stack.get("runtime", "docker") == "kubernetes":
        kubernetes = _mapping(stack.get("kubernetes"))
        postgres = _mapping(kubernetes.get("postgres"))
        if postgres.get("mode") != "demo":
            yield from _named(postgres.get("urlSecret"), "URL of Windmill's Postgres database (Kubernetes Secret "
                              "windmill-database)", f"{where}.kubernetes.postgres.urlSecret")
        yield from _named(kubernetes.get("licenseSecret"), "Windmill Enterprise license key (Kubernetes Secret "
                          "windmill-license)", f"{where}.kubernetes.licenseSecret")
        return
    access = _mapping(_mapping(stack.get("postgres")).get("remoteAccess"))
    for field, what in (("tlsCertificate", "TLS certificate (PEM) Postgres presents to remote workers"),
                        ("tlsPrivateKey", "TLS private key (PEM) of that certificate"),
                        ("tlsCa", "CA certificate (PEM) remote workers verify Postgres with")):
        yield from _named(access.get(field), what, f"{where}.postgres.remoteAccess.{field}")


def _github(raw: _Raw) -> Iterator[NeededSecret]:
    """``githubToken`` with a sync repository; ``wmillSyncToken`` optional (the stack mints one)."""
    repository = raw.mapping("githubSync").get("repository")
    if isinstance(repository, str) and repository:
        where = key("githubSync.repository")
        yield _own_key("githubToken", referenced_by=where)
        yield _own_key("wmillSyncToken", optional=True, referenced_by=where)


def missing_secrets_note(errors: Iterable[ConfigError], stack: str) -> str | None:
    """The line a problems report ends with when secrets are missing: the one command that sets them all."""
    missing = re.compile(rf"{re.escape(SECRETS_KEY)}\.\w+ is not set")
    credentials = {key(name) for name in ("windmillToken", "githubToken")}
    if not any(missing.match(e.problem) or (e.key in credentials and "plain text" not in e.problem) for e in errors):
        return None
    return (f"Set every missing secret in one go: python -m homeops secrets --stack {stack} (it asks for each, input "
            "hidden, or reads its HOMEOPS_* variable; --list shows them).")


def _named(name: Any, description: str, referenced_by: str) -> Iterator[NeededSecret]:
    if _is_name(name):
        yield _entry(name, description, referenced_by)


def _entry(name: str, description: str, referenced_by: str) -> NeededSecret:
    return NeededSecret(f"{SECRETS_KEY}.{name}", description, referenced_by=referenced_by)


def _own_key(name: str, *, optional: bool = False, referenced_by: str = "") -> NeededSecret:
    """A credential key of its own, described by Pulumi.yaml's first sentence without the --secret hint."""
    text = _one_line(SCHEMA[name].get("description", name))
    sentence = re.split(r"(?<=\.)\s", text, maxsplit=1)[0]
    sentence = re.sub(r",? \(?set with --secret\)?", "", sentence).rstrip(".")
    return NeededSecret(key(name), sentence, optional=optional, referenced_by=referenced_by)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(SECRET_NAME, value) is not None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _one_line(text: str) -> str:
    return " ".join(text.split())

