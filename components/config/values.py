"""Typed reading of stack configuration values, with errors that name the config key.

The parsers of this package read every section of stack config through these helpers, so a bad
input fails at preview with a message such as
``homeops-windmill:windmillStack.workerGroups[1].replicas: must be an integer >= 0, got -1``.
Each kind of value (string, integer, boolean) is checked by exactly one function here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")

_MISSING: Any = object()


class Section:
    """A view on one mapping of config values that knows its own key path.

    ``Section(data, "homeops-windmill:windmillStack").int("replicas", default=1, minimum=0)``
    reads ``data["replicas"]`` and raises a ConfigError naming
    ``homeops-windmill:windmillStack.replicas`` when it is not an integer >= 0.
    """

    def __init__(self, data: Any, path: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"must be an object, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}"

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        """Fail on keys this section does not know: a typo must not be silently ignored."""
        allowed_set = set(allowed)
        for name in self.data:
            if name not in allowed_set:
                raise ConfigError(
                    self.key(name), f"unknown key; expected one of: {', '.join(sorted(allowed_set))}"
                )

    def _get(self, name: str, default: Any) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise ConfigError(self.key(name), "is required")
            return default
        return value

    def str(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        pattern: str | None = None,
        pattern_help: str | None = None,
        choices: Iterable[str] | None = None,
        max_length: int | None = None,
        secret: bool = False,
    ) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        return check_str(
            self.key(name),
            value,
            pattern=pattern,
            pattern_help=pattern_help,
            choices=choices,
            max_length=max_length,
            secret=secret,
        )

    def int(
        self, name: str, default: Any = _MISSING, *, minimum: int | None = None, maximum: int | None = None
    ) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        return check_int(self.key(name), value, minimum=minimum, maximum=maximum)

    def bool(self, name: str, default: Any = _MISSING) -> Any:
        return check_bool(self.key(name), self._get(name, default))

    def section(self, name: str, *, required: bool = False) -> Section:
        value = self.data.get(name)
        if value is None and required:
            raise ConfigError(self.key(name), "is required")
        return Section(value, self.key(name))

    def list(self, name: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(name, default)
        if not isinstance(value, list):
            raise ConfigError(self.key(name), f"must be a list, got {type(value).__name__}")
        return value

    def sections(self, name: str) -> list[Section]:
        """A list of objects, each as a Section with its index in the path."""
        return [Section(item, f"{self.key(name)}[{i}]") for i, item in enumerate(self.list(name, []))]

    def mapping(self, name: str, default: Any = _MISSING) -> dict[str, Any]:
        value = self._get(name, default)
        if not isinstance(value, Mapping):
            raise ConfigError(self.key(name), f"must be an object, got {type(value).__name__}")
        return dict(value)

    def parse(self, name: str, parser: Callable[[str, Any], T], default: Any = _MISSING) -> T:
        """Read a value and hand it to ``parser(key, value)`` for domain-specific checks."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        return parser(self.key(name), value)


def check_str(
    key: str,
    value: Any,
    *,
    pattern: str | None = None,
    pattern_help: str | None = None,
    choices: Iterable[str] | None = None,
    max_length: int | None = None,
    secret: bool = False,
) -> str:
    """Validate one string value; ``secret=True`` keeps the value out of the message."""
    shown = "[secret]" if secret else repr(value)
    if not isinstance(value, str):
        raise ConfigError(key, f"must be a string, got {type(value).__name__}")
    if choices is not None:
        options = list(choices)
        if value not in options:
            raise ConfigError(key, f"must be one of {', '.join(options)}, got {shown}")
    if max_length is not None and len(value) > max_length:
        raise ConfigError(key, f"must be at most {max_length} characters, got {len(value)}")
    if pattern is not None and not re.fullmatch(pattern, value):
        rule = pattern_help or f"must match {pattern}"
        raise ConfigError(key, f"{rule}, got {shown}")
    return value


def check_int(key: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate an integer; YAML and the Pulumi wire may hand over 3.0 for 3, which is accepted."""
    if isinstance(value, bool):
        raise ConfigError(key, f"must be an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise ConfigError(key, f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(key, f"must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(key, f"must be an integer <= {maximum}, got {value}")
    return value


def check_bool(key: str, value: Any) -> bool:
    """The one boolean rule: true/false, as YAML booleans or as the strings the CLI writes with
    ``pulumi config set --path`` (any case). Anything else, ``"yes"`` or ``1`` included, is refused,
    so a value can never count as on by accident."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(key, f"must be true or false, got {value!r}")
