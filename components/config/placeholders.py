"""Placeholders in a stack's config: values an operator must replace before the first ``pulumi up``.

The committed stack files describe HomeOps' own site (``postgres.homeops.example``, members such as
``trader@homeops.example``, the sync repository ``homeops/HomeOps``). An outsider who deploys them
unchanged gets resources that point nowhere, or a sync workflow written to someone else's
repository. Two sources say what is a placeholder:

* ``placeholders.yaml`` at the project root (beside ``Pulumi.yaml`` and the stack files it describes,
  where an operator finds it; it is data, so it is not in this package): per committed stack, and for
  every stack, the config key path, the placeholder value and what to put there;
* a rule, so copies into new domain stacks are caught too: any host name, URL or e-mail address under
  a domain reserved for examples by RFC 2606 (the ``.example`` top-level domain, ``example.com``,
  ``example.net``, ``example.org``) anywhere in the stack's config, including its workspaceFile.
  Not ``.invalid``, ``.test`` or ``.localhost`` (RFC 2606 and 6761 reserve those too): they name
  addresses that are meant never to resolve or to stay on this machine (the automation user's
  ``windmill-automation@homeops.invalid``), which are correct values, not stand-ins.

Secret keys (``secrets``, the tokens) are never read here: their values are not placeholders anyone
committed, and a message must never show them.

What happens (``check_placeholders``, called by ``settings.load_settings`` before any resource is
registered): at preview each placeholder is a warning, so a reviewer can still preview the committed
files; at ``pulumi up`` they are problems of the one configuration report, so nothing is created or
deleted. The environment variable ``HOMEOPS_ACCEPT_PLACEHOLDERS=1`` lets ``up`` go ahead, for trials
against a throwaway instance or the emulator; it is an environment variable and never a config key,
because a key would be committed with the placeholders and switch the check off for everyone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from .errors import ConfigError, Problems
from .schema import PROJECT_FILE, SECRET_KEYS
from .schema import key as config_key
from .workspace_file import WorkspaceSource

PLACEHOLDERS_FILE = PROJECT_FILE.parent / "placeholders.yaml"
EVERY_STACK = "every stack"
ACCEPT_ENV = "HOMEOPS_ACCEPT_PLACEHOLDERS"
LIST_COMMAND = "python -m homeops placeholders --stack {stack}"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A host name (with an e-mail's local part, when there is one) under .example or example.com/.net/.org,
# as a whole name: not "example.community", not "notexample.com", not the word "example".
RESERVED_EXAMPLE = re.compile(
    rf"(?<![a-z0-9.-])(?:[\w.+-]+@)?(?:{_LABEL}\.)*(?:{_LABEL}\.example|example\.(?:com|net|org))"
    r"(?![a-z0-9-]|\.[a-z0-9])",
    re.IGNORECASE,
)
RULE_WHAT = ("a value of your own: {found} is under a domain reserved for examples (RFC 2606: .example, "
             "example.com, example.net, example.org)")
_SHOWN_MAX = 100
_PATH_PART = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")

Part = str | int


def parse_path(text: str) -> tuple[Part, ...]:
    """``workspace.members[0].email`` -> ``("workspace", "members", 0, "email")`` (``pulumi config --path``)."""
    parts: list[Part] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if match is None or (match.group(0).startswith(".") and not parts):
            raise ValueError(f"{text!r} is not a config key path such as workspace.members[0].email")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts:
        raise ValueError("a config key path is empty")
    return tuple(parts)


def format_path(parts: Sequence[Part]) -> str:
    """The inverse of ``parse_path``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def reserved_example(value: str) -> str | None:
    """The first host name or e-mail address of ``value`` under a reserved example domain, or None."""
    match = RESERVED_EXAMPLE.search(value)
    return match.group(0) if match else None


@dataclass(frozen=True)
class ListedPlaceholder:
    """One entry of placeholders.yaml: a key path, the value committed there, what to put instead."""

    key: str
    value: str
    what: str

    @property
    def parts(self) -> tuple[Part, ...]:
        return parse_path(self.key)


@dataclass(frozen=True)
class Placeholder:
    """A placeholder found in a stack's config.

    ``parts`` is its path from the config's root (``workspace``, ``resources``, 0, …), or from the
    workspace file's root when ``file`` (the workspaceFile as written) holds it.
    """

    parts: tuple[Part, ...]
    value: str
    what: str
    file: str | None = None

    @property
    def path(self) -> str:
        """The key path as ``pulumi config set --path`` takes it (in a workspace file: the field)."""
        return format_path(self.parts)

    @property
    def key(self) -> str:
        """The name in messages, as every config problem is named."""
        return f"{self.file}: {self.path}" if self.file else config_key(self.path)

    @property
    def shown(self) -> str:
        """The value, or for a long one the reserved name in it, so a message stays one line."""
        if len(self.value) <= _SHOWN_MAX and "\n" not in self.value:
            return self.value
        return f"…{reserved_example(self.value) or self.value[:_SHOWN_MAX]}…"


def read_list(file: Path = PLACEHOLDERS_FILE) -> dict[str, list[ListedPlaceholder]]:
    """Every section of placeholders.yaml (``every stack`` and one per stack); none when it is absent."""
    if not file.exists():
        return {}
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(file.name, f"is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(file.name, "must map 'every stack' and stack names to lists of {key, value, what}")
    sections: dict[str, list[ListedPlaceholder]] = {}
    for section, entries in data.items():
        sections[str(section)] = [_entry(file.name, f"{section}[{i}]", e) for i, e in enumerate(entries or [])]
    return sections


def _entry(file: str, where: str, entry: Any) -> ListedPlaceholder:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in ("key", "value", "what")):
        raise ConfigError(f"{file}: {where}", "must be a mapping with the strings key, value and what")
    try:
        parse_path(entry["key"])
    except ValueError as error:
        raise ConfigError(f"{file}: {where}.key", str(error)) from None
    return ListedPlaceholder(entry["key"], entry["value"], entry["what"])


def listed_for(stack: str, sections: Mapping[str, list[ListedPlaceholder]]) -> list[ListedPlaceholder]:
    """The entries that apply to ``stack``: its own and those of every stack."""
    return [*sections.get(EVERY_STACK, []), *sections.get(stack, [])]


def _leaves(value: Any, parts: tuple[Part, ...]) -> Iterator[tuple[tuple[Part, ...], str]]:
    """Every string value under ``value`` with its path, in document order (mapping keys are names, not values)."""
    if isinstance(value, str):
        yield parts, value
    elif isinstance(value, Mapping):
        for name, child in value.items():
            yield from _leaves(child, (*parts, str(name)))
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            yield from _leaves(child, (*parts, index))


def find_placeholders(
    config: Mapping[str, Any], listed: Sequence[ListedPlaceholder], workspace_file: WorkspaceSource | None = None
) -> list[Placeholder]:
    """The placeholders of one stack, in document order.

    ``config`` maps key names (``githubSync``) to their values; secret keys are skipped unread.
    ``workspace_file`` is the stack's workspaceFile source, whose contents the rule checks too.
    """
    by_parts = {entry.parts: entry for entry in listed}
    found: list[Placeholder] = []
    for name, value in config.items():
        if name in SECRET_KEYS:
            continue
        for parts, text in _leaves(value, (name,)):
            entry = by_parts.get(parts)
            if entry is not None and text == entry.value:
                found.append(Placeholder(parts, text, entry.what))
            elif (example := reserved_example(text)) is not None:
                found.append(Placeholder(parts, text, RULE_WHAT.format(found=repr(example))))
    if workspace_file is not None and workspace_file.file is not None:
        for parts, text in _leaves(workspace_file.data, ()):
            if (example := reserved_example(text)) is not None:
                found.append(Placeholder(parts, text, RULE_WHAT.format(found=repr(example)), workspace_file.key))
    return found


def accepted_by_environment() -> bool:
    """True when ``HOMEOPS_ACCEPT_PLACEHOLDERS=1``: ``pulumi up`` goes ahead with placeholders."""
    return os.environ.get(ACCEPT_ENV, "").strip() == "1"


def check_placeholders(
    config: Mapping[str, Any], workspace_file: WorkspaceSource | None, problems: Problems, *, stack: str,
    dry_run: bool, accepted: bool, list_file: Path = PLACEHOLDERS_FILE,
) -> list[Placeholder]:
    """Find the stack's placeholders; warn about each at preview (or when ``accepted``), else record
    each as a problem, so ``pulumi up`` stops before any resource is registered. Returns them."""
    sections = problems.check(lambda: read_list(list_file), {})
    found = find_placeholders(config, listed_for(stack, sections), workspace_file)
    if not found:
        return found
    listing = LIST_COMMAND.format(stack=stack)
    if dry_run or accepted:
        for placeholder in found:
            pulumi.log.warn(f"{placeholder.key}: {placeholder.shown!r} is a placeholder; put {placeholder.what}. "
                            f"pulumi up refuses it until it is replaced ({listing})")
        if not dry_run:
            pulumi.log.warn(f"{ACCEPT_ENV}=1: pulumi up goes ahead with {len(found)} placeholder(s) unchanged; "
                            "only for a throwaway instance or the emulator")
        return found
    for placeholder in found:
        problems.add(placeholder.key, f"still holds the placeholder {placeholder.shown!r}; put {placeholder.what}")
    problems.note(
        f"pulumi up refuses a stack that still holds placeholders ({PLACEHOLDERS_FILE.name} lists them; {listing} "
        f"shows each with its line). Replace each (pulumi config set --stack {stack} --path '<key>' <value>); "
        f"preview only warns. For a throwaway instance or the emulator only: {ACCEPT_ENV}=1 pulumi up …"
    )
    return found
