"""The lifecycle every Windmill dynamic resource shares, written once.

A resource module declares its inputs as ``Field``s and implements four small hooks
(``create_object``, ``read_object``, ``update_object``, ``delete_object``); this base turns them into
the Pulumi dynamic provider protocol:

* ``check`` validates every field locally and names it in the failure, so bad input fails at
  preview before any request; unknown values (preview of a not-yet-created dependency) are let
  through and checked when known.
* ``diff`` compares only the fields it owns (never ``__provider`` or output-only keys); a change to a
  field marked ``replace_on_change`` (workspace, path, name) replaces, anything else updates in place.
  An unknown value in an identity field is reported as a replacement, the conservative answer.
* ``read`` returns refreshed outputs *and* refreshed inputs (``ReadResult.inputs``), so after
  ``pulumi refresh`` the next preview shows exactly the drift; an object deleted out of band reads
  as gone (``ReadResult(None, {})``) and is dropped from state.
* ``update`` always returns the full outputs.

Connection settings (windmill-api.md §2): the instance URL and API token come from the resource's
``api_url`` / ``api_token`` inputs when given (e.g. a domain stack passing the platform stack's
outputs), else from stack config through ``configure()`` (``<project>:windmillUrl`` and
``<project>:windmillToken``), else from the ``WINDMILL_URL`` / ``WINDMILL_TOKEN`` environment
variables. The provider object itself holds no settings when it is pickled: ``__getstate__`` drops
everything ``configure()`` stored, so a token can never reach the serialized ``__provider``.
"""

from __future__ import annotations

import copy
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .client import ConnectionSettings, WindmillClient
from .pickling import leaves_pickler_as_found

PROVIDER_KEY = "__provider"
CONNECTION_FIELDS = ("api_url", "api_token")

URL_CONFIG_KEY = "windmillUrl"
TOKEN_CONFIG_KEY = "windmillToken"  # noqa: S105 - a config key name, not a secret
CONNECT_TIMEOUT_CONFIG_KEY = "windmillConnectTimeoutSeconds"
READ_TIMEOUT_CONFIG_KEY = "windmillReadTimeoutSeconds"

Validator = Callable[[Any], str | None]


def is_unknown(value: Any) -> bool:
    """True for a value the engine does not know yet (preview), at any depth."""
    if isinstance(value, pulumi.output.Unknown) or value == pulumi.runtime.rpc.UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def json_equal(a: Any, b: Any) -> bool:
    """Compare JSON-like values the way the Pulumi wire hands them over (8080 arrives as 8080.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def integral(value: Any) -> Any:
    """Turn wire floats that are whole numbers back into ints, recursively (for API bodies)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [integral(v) for v in value]
    return value


def pattern(regex: str, rule: str) -> Validator:
    """A validator for strings that must fully match ``regex``; ``rule`` explains it to a human."""
    compiled = re.compile(regex)

    def validate(value: Any) -> str | None:
        if not compiled.fullmatch(value):
            return f"{rule}; got {value!r}"
        return None

    return validate


def max_length(limit: int) -> Validator:
    def validate(value: Any) -> str | None:
        return f"must be at most {limit} characters, got {len(value)}" if len(value) > limit else None

    return validate


def all_of(*validators: Validator) -> Validator:
    def validate(value: Any) -> str | None:
        for validator in validators:
            problem = validator(value)
            if problem:
                return problem
        return None

    return validate


@dataclass(frozen=True)
class Field:
    """One input of a Windmill resource.

    ``kind`` is the JSON type expected; ``replace_on_change`` marks identity fields (a change
    replaces the object); ``secret`` keeps the value out of every failure message; ``normalize``
    maps a value to the form compared by ``diff`` (e.g. a sorted list for an unordered set).
    """

    name: str
    kind: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    replace_on_change: bool = False
    secret: bool = False
    validate: Validator | None = None
    normalize: Callable[[Any], Any] | None = None

    def normalized(self, value: Any) -> Any:
        return self.normalize(value) if self.normalize and value is not None else value


WORKSPACE_ID_RULE = (
    "must be letters, digits and '_' in runs separated by single hyphens (^\\w+(-\\w+)*$), "
    "at most 50 characters, and not 'global', 'admins' or 'starter'"
)


def validate_workspace_id(value: Any) -> str | None:
    # windmill-api.md §3: DB check proper_id, VARCHAR(50), 'global' refused, admins/starter protected.
    if not re.fullmatch(r"\w+(-\w+)*", value, flags=re.ASCII) or len(value) > 50:
        return f"{WORKSPACE_ID_RULE}; got {value!r}"
    if value in ("global", "admins", "starter"):
        return f"{value!r} is reserved by Windmill; {WORKSPACE_ID_RULE}"
    return None


WORKSPACE_FIELD = Field(
    "workspace", str, required=True, replace_on_change=True, validate=validate_workspace_id
)

ITEM_PATH_RULE = (
    "must look like u/<user>/<name>, f/<folder>/<name> or g/<group>/<name> "
    "(^[ufg](/[\\w-]+){2,}$, at most 255 characters)"
)
validate_item_path = all_of(pattern(r"[ufg](/[\w-]+){2,}", ITEM_PATH_RULE), max_length(255))


def validate_url(value: Any) -> str | None:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        example = "https://windmill.example.com"
        return f"must be an http(s) URL of the Windmill instance, e.g. {example}; got {value!r}"
    if value.rstrip("/").endswith("/api"):
        return f"must be the instance root without /api (the client adds it); got {value!r}"
    return None


CONNECTION_SPECS = (
    Field("api_url", str, validate=validate_url),
    Field("api_token", str, secret=True),
)


class ProviderConfigError(Exception):
    """The provider cannot tell which Windmill instance to talk to, or with which token."""


class WindmillProvider(ResourceProvider, ABC):
    """Base of every Windmill dynamic provider: see the module docstring for the contract.

    Subclasses set ``kind`` (used in messages), ``fields``, optionally ``computed`` (output-only
    keys) and implement the four ``*_object`` hooks.
    """

    # The blob is tiny and holds no secret (see __getstate__); keeping it plain avoids an
    # encryption round trip per resource (pulumi-notes.md §7, #15538).
    serialize_as_secret_always = False

    kind: ClassVar[str] = "object"
    fields: ClassVar[tuple[Field, ...]] = ()
    computed: ClassVar[tuple[str, ...]] = ()

    # -- configuration -------------------------------------------------------------------

    def configure(self, req: ConfigureRequest) -> None:
        self._config = {
            "url": req.config.get(URL_CONFIG_KEY),
            "token": req.config.get(TOKEN_CONFIG_KEY),
            "connect_timeout": req.config.get(CONNECT_TIMEOUT_CONFIG_KEY),
            "read_timeout": req.config.get(READ_TIMEOUT_CONFIG_KEY),
        }

    def __getstate__(self) -> dict[str, Any]:
        # Whatever configure() stored (the token among it) must never be pickled into state.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def connection(self, props: Mapping[str, Any]) -> ConnectionSettings:
        config: dict[str, Any] = getattr(self, "_config", {})
        url = props.get("api_url") or config.get("url") or os.environ.get("WINDMILL_URL")
        token = props.get("api_token") or config.get("token") or os.environ.get("WINDMILL_TOKEN")
        if not url:
            raise ProviderConfigError(
                f"No Windmill URL for this {self.kind}: set the stack config "
                f"'pulumi config set {URL_CONFIG_KEY} https://…', pass api_url, or export WINDMILL_URL"
            )
        if not token:
            raise ProviderConfigError(
                f"No Windmill API token for this {self.kind}: set the stack config "
                f"'pulumi config set --secret {TOKEN_CONFIG_KEY} …', pass api_token, or export WINDMILL_TOKEN"
            )
        return ConnectionSettings(
            url=url,
            token=token,
            connect_timeout=float(config.get("connect_timeout") or 5.0),
            read_timeout=float(config.get("read_timeout") or 30.0),
        )

    def client(self, props: Mapping[str, Any]) -> WindmillClient:
        return WindmillClient(self.connection(props))

    # -- hooks for subclasses ------------------------------------------------------------

    @abstractmethod
    def object_id(self, outputs: Mapping[str, Any]) -> str:
        """The Pulumi id, from the outputs of a create (inputs and computed values)."""

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        """Cross-field rules; ``inputs`` has defaults applied and may hold unknowns."""
        return []

    @abstractmethod
    def create_object(self, client: WindmillClient, inputs: dict[str, Any]) -> dict[str, Any]:
        """Create the object; return output-only values (``computed``)."""

    @abstractmethod
    def read_object(
        self, client: WindmillClient, id_: str, state: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Return refreshed outputs (inputs and computed keys), or None when the object is gone."""

    @abstractmethod
    def update_object(
        self, client: WindmillClient, olds: dict[str, Any], news: dict[str, Any], changed: set[str]
    ) -> dict[str, Any]:
        """Apply ``changed`` fields with the fewest calls; return refreshed computed values."""

    @abstractmethod
    def delete_object(self, client: WindmillClient, state: dict[str, Any]) -> None:
        """Delete; an object that is already gone is a success."""

    def state_from_id(self, id_: str) -> dict[str, Any]:
        """Identity fields recovered from an id, for a read without prior state (import/get)."""
        return {}

    def rolled_back(self, client: WindmillClient, inputs: dict[str, Any], error: Exception) -> Exception:
        """Undo a create whose later steps failed, so a failed run leaves no object Pulumi does not
        know about (the next run would otherwise stop on "already exists"). Returns ``error``."""
        try:
            self.delete_object(client, inputs)
        except Exception as cleanup:
            error.add_note(f"Rolling back the partly created {self.kind} also failed: {cleanup}")
        return error

    # -- the protocol ----------------------------------------------------------------------

    def all_fields(self) -> tuple[Field, ...]:
        return (*self.fields, *CONNECTION_SPECS)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        specs = self.all_fields()
        known = {spec.name for spec in specs} | {PROVIDER_KEY}
        for key in news:
            if key not in known and key not in self.computed:
                failures.append(CheckFailure(key, f"unknown input for a Windmill {self.kind}"))
        inputs: dict[str, Any] = {}
        for spec in specs:
            value = news.get(spec.name)
            if value is None:
                if spec.required:
                    failures.append(CheckFailure(spec.name, f"is required for a Windmill {self.kind}"))
                elif spec.default is not None:
                    inputs[spec.name] = copy.deepcopy(spec.default)
                continue
            if is_unknown(value):
                inputs[spec.name] = value
                continue
            value = integral(value)
            if not isinstance(value, spec.kind) or (spec.kind is not bool and isinstance(value, bool)):
                expected = _type_name(spec.kind)
                failures.append(CheckFailure(spec.name, f"must be {expected}, got {type(value).__name__}"))
                continue
            problem = spec.validate(value) if spec.validate else None
            if problem:
                if spec.secret and str(value) in problem:
                    problem = "is invalid (the value is secret and not shown)"
                failures.append(CheckFailure(spec.name, problem))
                continue
            inputs[spec.name] = value
        if not failures:
            failures.extend(self.check_object(inputs))
        if PROVIDER_KEY in news:
            inputs[PROVIDER_KEY] = news[PROVIDER_KEY]
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces: list[str] = []
        changed: list[str] = []
        for spec in self.all_fields():
            old, new = olds.get(spec.name), news.get(spec.name)
            if is_unknown(new) or not json_equal(spec.normalized(old), spec.normalized(new)):
                (replaces if spec.replace_on_change else changed).append(spec.name)
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self._inputs(props)
        outputs = {**inputs, **self.create_object(self.client(props), inputs)}
        return CreateResult(self.object_id(outputs), outputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        state = {**self.state_from_id(id_), **self._inputs(props), **self._computed(props)}
        live = self.read_object(self.client(props), id_, state)
        if live is None:
            return ReadResult(None, {})
        connection = {k: props[k] for k in CONNECTION_FIELDS if props.get(k) is not None}
        outs = {**live, **connection}
        inputs = {spec.name: outs[spec.name] for spec in self.all_fields() if outs.get(spec.name) is not None}
        return ReadResult(id_, outs, inputs=inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self._inputs(news)
        changed = {
            spec.name
            for spec in self.fields
            if not json_equal(spec.normalized(olds.get(spec.name)), spec.normalized(inputs.get(spec.name)))
        }
        computed = self._computed(olds)
        if changed:
            computed.update(self.update_object(self.client(news), self._state(olds), inputs, changed))
        return UpdateResult({**inputs, **computed})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        state = {**self.state_from_id(_id), **self._state(props)}
        self.delete_object(self.client(props), state)

    # -- helpers -------------------------------------------------------------------------

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        names = {spec.name for spec in self.all_fields()}
        return {k: integral(v) for k, v in props.items() if k in names and v is not None}

    def _computed(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in self.computed if props.get(k) is not None}

    def _state(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {**self._inputs(props), **self._computed(props)}


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
             dict: "an object", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def split_id(id_: str) -> tuple[str, str]:
    """Ids of workspace items are ``<workspace>/<path or name>``."""
    workspace, _, rest = id_.partition("/")
    return workspace, rest


@dataclass(frozen=True)
class Connection:
    """Explicit connection settings for Windmill resources, overriding stack config.

    Use it when the URL or token is produced elsewhere, e.g. a domain stack reading them from the
    platform stack through a StackReference. The token is always stored as a secret.
    """

    url: pulumi.Input[str] | None = None
    token: pulumi.Input[str] | None = None


class WindmillResource(pulumi.dynamic.Resource):
    """Program-side base of Windmill resources: wires connection inputs and secret outputs."""

    @leaves_pickler_as_found  # the SDK's serializer leaks a pickler patch per registration
    def __init__(
        self,
        provider: WindmillProvider,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None,
        connection: Connection | None = None,
        secret_outputs: tuple[str, ...] = (),
    ) -> None:
        props = dict(props)
        if connection is not None:
            props["api_url"] = connection.url
            if connection.token is not None:
                props["api_token"] = pulumi.Output.secret(connection.token)
        for key in provider.computed:
            props.setdefault(key, None)
        # Re-marking by the engine only covers outputs whose same-named input was secret;
        # computed outputs (ciphertexts, tokens) need to be listed explicitly (pulumi-notes.md §7).
        secret = pulumi.ResourceOptions(additional_secret_outputs=["api_token", *secret_outputs])
        super().__init__(provider, name, props, pulumi.ResourceOptions.merge(opts, secret))
