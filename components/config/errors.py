"""Config errors and the one collector every parser reports into.

Each problem is a :class:`ConfigError` naming the full key (``project:key.sub[0].field``). Parsers do
not stop at the first problem: they record it in a :class:`Problems` collector and carry on with a
fallback value, so one preview lists every problem of the stack configuration at once::

    invalid stack configuration (2 problem(s)):
      - homeops-windmill:domain: is required when role is 'domain' …
      - homeops-windmill:workspace.variables[1].secret: homeops-windmill:secrets.fmp_api_key is not set …
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import pulumi
from pulumi.errors import RunError

T = TypeVar("T")
F = TypeVar("F")


class ConfigError(ValueError):
    """A stack configuration value is missing or invalid.

    ``key`` is the full config key path (``project:key.sub[0].field``) so an operator can find and
    fix the exact entry; the message never contains the offending value when the key is secret.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class ConfigErrors(ValueError, RunError):
    """Every problem of one configuration, reported together so one preview shows all of them.

    A ``RunError``: the Pulumi language hosts (and the Automation API's) print its message alone, where
    any other exception is shown with a Python traceback, which the real-engine tier found. ``notes``
    follow the list: what applies to several problems at once (e.g. how to list the placeholders).
    """

    def __init__(self, errors: list[ConfigError], notes: Sequence[str] = ()) -> None:
        lines = "\n".join(f"  - {e}" for e in errors)
        message = f"invalid stack configuration ({len(errors)} problem(s)):\n{lines}"
        super().__init__("\n".join([message, *notes]))
        self.errors = errors
        self.notes = tuple(notes)

    @property
    def keys(self) -> set[str]:
        return {error.key for error in self.errors}


class Problems:
    """Collects ConfigErrors from every parser, so all of them are reported in one go.

    ``check(func, fallback)`` runs one independent check and records what it raises;
    ``add(key, problem)`` records a cross-field problem; ``note(text)`` a line printed once after the
    list; ``raise_if_any()`` raises ConfigErrors.
    """

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.notes: list[str] = []

    def __len__(self) -> int:
        return len(self.errors)

    def add(self, key: str, problem: str) -> None:
        self.errors.append(ConfigError(key, problem))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def record(self, error: ConfigError | ConfigErrors) -> None:
        self.errors.extend(error.errors if isinstance(error, ConfigErrors) else [error])
        for text in error.notes if isinstance(error, ConfigErrors) else ():
            self.note(text)

    def check(self, func: Callable[[], T], fallback: F = None) -> T | F:  # type: ignore[assignment]
        """``func()``, or ``fallback`` after recording the problem(s) it raised."""
        try:
            return func()
        except (ConfigError, ConfigErrors) as error:
            self.record(error)
        return fallback

    @contextmanager
    def scope(self) -> Iterator[Problems]:
        """A nested collector whose problems join this one when the block ends, so a parser can ask
        whether *its* part had problems (``if not nested: …``) while everything is still reported."""
        nested = Problems()
        try:
            yield nested
        finally:
            self.errors.extend(nested.errors)
            for text in nested.notes:
                self.note(text)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ConfigErrors(list(self.errors), self.notes)


def collected(parse: Callable[[Problems], T]) -> T:
    """Run ``parse`` with a fresh collector and raise ConfigErrors when it recorded any problem."""
    problems = Problems()
    result = parse(problems)
    problems.raise_if_any()
    return result


def config_set_command(name: str, value: str = "<value>", *, secret: bool = True) -> str:
    """The exact ``pulumi config set`` that fixes ``name``, naming the stack the program runs for.

    ``--stack`` is always there: a command pasted after ``pulumi stack select`` or ``stack init`` of
    another stack would otherwise write to that one. A dotted ``secrets.<x>`` is set with ``--path``.
    """
    path = f" --path '{name}'" if "." in name else f" {name}"
    return f"pulumi config set --stack {pulumi.get_stack()}{' --secret' if secret else ''}{path} {value}"
