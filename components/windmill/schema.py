"""One declaration per Windmill resource: its fields are written once and drive everything else.

A resource module writes a ``Declaration``: its ``windmill_kind``, its Pulumi type name and its
inputs and outputs as ``Field``s (name, JSON type, default, secret, replace-on-change, validator,
description). From that one declaration:

* ``DeclaredProvider`` (below) implements ``check`` and ``diff``;
* ``args_class`` builds the program-side ``<Type>Args`` dataclass, and ``base.WindmillResource``
  the resource class's constructor, props and output annotations;
* ``reference.py`` renders the README's resource tables (a unit test keeps them equal).

Example (``folders.py``)::

    FOLDER = Declaration(
        kind="folder", type_name="Folder", label="folder", summary="A folder of a workspace …",
        inputs=(
            WORKSPACE_INPUT,
            Field("name", str, "folder name", required=True, replace_on_change=True,
                  validate=rules.validate_folder_name),
            Field("summary", str, "shown in the Windmill UI", default=""),
        ),
    )

    class FolderProvider(WindmillProvider):   # check and diff come from the declaration
        declaration = FOLDER
        ...                                    # object_id and the four *_object hooks

    FolderArgs = args_class(FOLDER, __name__)  # FolderArgs(workspace, name, summary="", ...)

    class Folder(WindmillResource, provider=FolderProvider):  # Folder(name, FolderArgs(...), opts, connection)
        ...

Every declaration also has the input and output ``windmill_kind`` (a constant such as ``"folder"``)
so a policy can tell the resources apart: every dynamic resource has the same provider, and
the type token is the only other hint. Windmill resources add the connection inputs
(``CONNECTION_INPUTS``).

``check`` validates every field locally and names it in the failure, so bad input fails at preview
before any request; unknown values (preview of a not-yet-created dependency) pass and are checked
when known. ``diff`` compares only declared inputs (never ``__provider`` or outputs): a change to a
``replace_on_change`` field replaces, anything else updates in place; an unknown identity is
reported as a replacement, the conservative answer. A field missing from old state counts as its
default, so a field added in a later version does not show as a change.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, CheckResult, DiffResult, ResourceProvider

from . import rules
from .values import integral, is_unknown, json_equal

PROVIDER_KEY = "__provider"
KIND_KEY = "windmill_kind"
JSON_TYPES = (dict, list, str, int, float, bool)
NUMBER = (int, float)

_TYPE_PHRASES = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
                 dict: "an object", list: "a list"}
_TYPE_LABELS = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "list"}
_TYPE_ANNOTATIONS = {str: "str", bool: "bool", int: "int", float: "float", dict: "dict[str, Any]",
                     list: "list[str]"}


@dataclass(frozen=True)
class Field:
    """One input or output of a resource.

    ``type`` is the JSON type expected (a tuple allows several); ``replace_on_change`` marks
    identity fields; ``secret`` keeps the value out of failure messages, wraps it as a Pulumi
    secret in the program and lists it as a secret output; ``normalize`` maps a value to the form
    ``diff`` compares (e.g. a sorted list for an unordered set); ``local`` marks a setting of the
    provider itself, never sent to Windmill: a change is recorded in state without an API call.
    """

    name: str
    type: type | tuple[type, ...]
    description: str
    required: bool = False
    default: Any = None
    replace_on_change: bool = False
    secret: bool = False
    validate: rules.Validator | None = None
    normalize: Callable[[Any], Any] | None = None
    local: bool = False

    def normalized(self, value: Any) -> Any:
        return self.normalize(value) if self.normalize and value is not None else value

    def default_value(self) -> Any:
        return copy.deepcopy(self.default)

    @property
    def types(self) -> tuple[type, ...]:
        return self.type if isinstance(self.type, tuple) else (self.type,)

    @property
    def type_label(self) -> str:
        """The JSON type as the README names it."""
        if self.type == JSON_TYPES:
            return "JSON"
        if self.type == NUMBER:
            return "number"
        return " or ".join(_TYPE_LABELS[t] for t in self.types)

    @property
    def annotation(self) -> str:
        """The Python type of the value, for generated annotations."""
        if self.type == NUMBER:
            return "float"
        return _TYPE_ANNOTATIONS.get(self.type, "Any") if isinstance(self.type, type) else "Any"

    def problem(self, value: Any) -> str | None:
        """What is wrong with a known, non-None value, without ever showing a secret."""
        if not isinstance(value, self.type) or (bool not in self.types and isinstance(value, bool)):
            expected = " or ".join(_TYPE_PHRASES[t] for t in self.types)
            return f"must be {expected}, got {type(value).__name__}"
        problem = self.validate(value) if self.validate else None
        if problem and self.secret and str(value) in problem:
            return "is invalid (the value is secret and not shown)"
        return problem


def positive_seconds(maximum: float) -> rules.Validator:
    def validate(value: Any) -> str | None:
        return None if 0 < value <= maximum else f"must be a number of seconds > 0 and <= {maximum:g}, got {value!r}"

    return validate


WORKSPACE_INPUT = Field(
    "workspace", str, "id of the workspace the object lives in", required=True, replace_on_change=True,
    validate=rules.validate_workspace_id,
)

CONNECTION_INPUTS = (
    Field("api_url", str, "root URL of the Windmill instance (no `/api`); the program passes `windmillUrl` "
          "or the platform stack's `windmillApiUrl`", validate=rules.validate_instance_url),
    Field("api_token", str, "API token the calls use; always a secret, never in the serialized provider",
          secret=True),
    Field("api_connect_timeout_seconds", NUMBER, "TCP connect timeout of each call "
          "(`windmillConnectTimeoutSeconds`)", default=rules.DEFAULT_CONNECT_TIMEOUT_SECONDS,
          validate=positive_seconds(rules.MAX_TIMEOUT_SECONDS)),
    Field("api_read_timeout_seconds", NUMBER, "read timeout of each call (`windmillReadTimeoutSeconds`)",
          default=rules.DEFAULT_READ_TIMEOUT_SECONDS, validate=positive_seconds(rules.MAX_TIMEOUT_SECONDS)),
    Field("api_identity", str, "who `api_token` authenticates as, when the program knows (the first-boot "
          "automation user); a `Token` is replaced when it changes, since a token belongs to its minting user"),
)

# Adoption (``base.WindmillProvider.create``): a create that finds the object already in Windmill
# takes it over when its content matches; with ``adopt`` it also writes the declared fields that
# differ. Unset (None) rather than false by default, so only adopting resources show it in a diff.
ADOPT_INPUT = Field(
    "adopt", bool, "take over an object that already exists, writing only the fields declared differently "
    "(without it, only an object whose content already matches is taken over)", local=True,
)
ADOPTED_OUTPUT = Field("adopted", bool, "true when the create took over an object that already existed")


@dataclass(frozen=True)
class Declaration:
    """Everything about one kind of resource that is not an API call.

    ``kind`` is the ``windmill_kind`` value; ``type_name`` the last part of the Pulumi type token
    (``pulumi-python:dynamic/windmill:<type_name>``) and of the ``<type_name>Args`` class;
    ``label`` names the kind in messages; ``summary`` describes its behaviour in the README.
    """

    kind: str
    type_name: str
    label: str
    summary: str
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...] = ()
    connection: bool = True

    @cached_property
    def kind_field(self) -> Field:
        expected = self.kind

        def validate(value: Any) -> str | None:
            return None if value == expected else f"is always {expected!r} for a {self.label}, got {value!r}"

        return Field(KIND_KEY, str, "what this resource is, for policies and queries (constant)",
                     default=expected, validate=validate)

    @cached_property
    def all_inputs(self) -> tuple[Field, ...]:
        """Own inputs, the connection inputs (Windmill API resources) and ``windmill_kind``."""
        return (*self.inputs, *(CONNECTION_INPUTS if self.connection else ()), self.kind_field)

    @cached_property
    def input_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.all_inputs)

    @cached_property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.outputs)

    def known_inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The declared inputs present in ``props`` (whole-number floats back to ints)."""
        return {k: integral(v) for k, v in props.items() if k in self.input_names and v is not None}

    def known_outputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in self.output_names if props.get(k) is not None}

    def changed_inputs(self, olds: Mapping[str, Any], news: Mapping[str, Any],
                       fields: tuple[Field, ...] | None = None) -> list[Field]:
        """Fields whose value differs (an unknown new value counts as a change; a missing one as its default)."""
        changed = []
        for spec in self.all_inputs if fields is None else fields:
            old, new = olds.get(spec.name, spec.default), news.get(spec.name, spec.default)
            if is_unknown(new) or not json_equal(spec.normalized(old), spec.normalized(new)):
                changed.append(spec)
        return changed

    def props(self, args: Any) -> dict[str, Any]:
        """Program-side props from an Args object (or a mapping): the declared default for None,
        ``windmill_kind``, and every output present (as None) so the resource exposes it."""
        props: dict[str, Any] = {}
        for spec in self.inputs:
            value = args.get(spec.name) if isinstance(args, Mapping) else getattr(args, spec.name)
            props[spec.name] = spec.default_value() if value is None else value
        props[KIND_KEY] = self.kind
        props.update(dict.fromkeys(self.output_names))
        return props

    def annotations(self) -> dict[str, str]:
        """Output annotations of the program-side class, one per input and output."""
        fields = (*self.inputs, self.kind_field, *self.outputs)
        return {f.name: f"pulumi.Output[{f.annotation}]" for f in fields}


def args_class(declaration: Declaration, module: str) -> type:
    """The frozen ``<Type>Args`` dataclass of a declaration: one keyword argument per own input,
    required ones first, with the declared (immutable) default, or None meaning "the default"."""
    fields: list[Any] = []
    for spec in sorted(declaration.inputs, key=lambda f: not f.required):
        annotation = f"pulumi.Input[{spec.annotation}]"
        if spec.required:
            fields.append((spec.name, annotation))
        else:
            default = spec.default if isinstance(spec.default, str | bool | int | float) else None
            fields.append((spec.name, f"{annotation} | None", dataclasses.field(default=default)))
    doc = f"Inputs of a Windmill {declaration.label} (generated from its declaration): " + ", ".join(
        f"``{f.name}`` ({f.description})" for f in declaration.inputs
    )
    cls = dataclasses.make_dataclass(f"{declaration.type_name}Args", fields, frozen=True, namespace={"__doc__": doc})
    cls.__module__ = module
    return cls


class DeclaredProvider(ResourceProvider):
    """``check`` and ``diff`` of a dynamic provider, from its class's ``declaration``."""

    # The blob is tiny and holds no secret; keeping it plain avoids an encryption round trip
    # per resource (docs/pulumi-notes.md §7, #15538).
    serialize_as_secret_always = False

    declaration: ClassVar[Declaration]

    def check_object(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        """Cross-field rules; ``inputs`` has defaults applied and may hold unknowns."""
        return []

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        declaration = self.declaration
        allowed = declaration.input_names | set(declaration.output_names) | {PROVIDER_KEY}
        failures = [
            CheckFailure(key, f"unknown input for a Windmill {declaration.label}") for key in news if key not in allowed
        ]
        inputs: dict[str, Any] = {}
        for spec in declaration.all_inputs:
            value = news.get(spec.name)
            if value is None:
                if spec.required:
                    failures.append(CheckFailure(spec.name, f"is required for a Windmill {declaration.label}"))
                elif spec.default is not None:
                    inputs[spec.name] = spec.default_value()
                continue
            if not is_unknown(value):
                value = integral(value)
                problem = spec.problem(value)
                if problem:
                    failures.append(CheckFailure(spec.name, problem))
                    continue
            inputs[spec.name] = value
        if not failures:
            failures.extend(self.check_object(inputs))
        if PROVIDER_KEY in news:
            inputs[PROVIDER_KEY] = news[PROVIDER_KEY]
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = self.declaration.changed_inputs(olds, news)
        replaces = [spec.name for spec in changed if spec.replace_on_change]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)
