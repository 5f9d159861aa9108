"""Reusable helpers for testing Pulumi code under ``pulumi.runtime.set_mocks``.

Usage::

    env = install_mocks(outputs={"docker:index/remoteImage:RemoteImage": lambda a: {"imageId": "sha"}})
    pulumi.runtime.set_all_config({...})          # optional, after install_mocks

    @pulumi.runtime.test
    def run():
        MyComponent("x", args)                    # build resources

    run()                                         # waits for every registration
    db = env.one("docker:index/container:Container", "x-db")
    assert db.protect and db.parent_type == "homeops:windmill:WindmillStack"
    assert env.plain(db.inputs)["restart"] == "unless-stopped"

What it records per resource (a ``Registration``): type, name, URN, parent URN, inputs as the
engine would see them (camelCase keys, numbers as floats, secret values still *wrapped* so a test
can tell secret from plain), the mock's returned state, and the resource options the SDK sent:
protect, retain_on_delete, delete_before_replace, dependencies (URNs), provider reference,
replace_on_changes, ignore_changes and additional_secret_outputs. The options come from a
``RecordingMonitor`` (a ``MockMonitor`` subclass), because ``MockResourceArgs`` carries none of them
(docs/pulumi-notes.md §14.5).

Assert on registrations *after* the ``@pulumi.runtime.test`` function returns: the decorator waits
for all outstanding RPCs, asserting inside an ``apply`` is racy (docs/pulumi-notes.md §14.2).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

OutputsHook = Callable[[MockResourceArgs], Mapping[str, Any]]
CallHook = Callable[[MockCallArgs], Mapping[str, Any]]

SECRET_PLACEHOLDER = "[secret]"


@dataclass
class Registration:
    """One resource as the mock engine saw it."""

    typ: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    id: str | None
    custom: bool
    urn: str | None = None
    parent: str | None = None
    provider: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    dependencies: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    read: bool = False

    @property
    def parent_type(self) -> str | None:
        """The parent's type token, from its URN (``urn:...::<parentTypes$type>::<name>``)."""
        if not self.parent:
            return None
        return self.parent.split("::")[2].split("$")[-1]

    @property
    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with every secret unwrapped (the values as the provider would receive them)."""
        return unwrap_secrets(self.inputs)


class RecordingMocks(pulumi.runtime.Mocks):
    """A Mocks implementation that records every resource and returns inputs as state.

    ``outputs`` maps a type token to a hook returning extra state for that type (computed outputs
    such as ``imageId``), merged over the inputs; ``default_outputs`` applies to every type.
    ``calls`` answers invokes (default: empty result).
    """

    def __init__(
        self,
        outputs: Mapping[str, OutputsHook] | None = None,
        default_outputs: OutputsHook | None = None,
        calls: CallHook | None = None,
    ) -> None:
        self.outputs = dict(outputs or {})
        self.default_outputs = default_outputs
        self.calls = calls
        self.registrations: list[Registration] = []
        self.call_log: list[MockCallArgs] = []
        self._lock = threading.Lock()
        # Set by RecordingMonitor around each RegisterResource (same thread as new_resource).
        self._current = threading.local()

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        state: dict[str, Any] = dict(args.inputs)
        if self.default_outputs is not None:
            state.update(self.default_outputs(args))
        hook = self.outputs.get(args.typ)
        if hook is not None:
            state.update(hook(args))
        resource_id = args.resource_id or f"{args.name}-id"
        registration = Registration(
            typ=args.typ,
            name=args.name,
            inputs=dict(args.inputs),
            state=state,
            id=resource_id,
            custom=bool(args.custom),
            provider=args.provider or None,
            read=args.custom is None,
        )
        request = getattr(self._current, "request", None)
        if request is not None and request.type == args.typ and request.name == args.name:
            monitor: RecordingMonitor = self._current.monitor
            registration.urn = monitor.make_urn(request.parent, request.type, request.name)
            registration.parent = request.parent or None
            registration.protect = bool(request.protect)
            registration.retain_on_delete = bool(request.retainOnDelete)
            registration.delete_before_replace = bool(request.deleteBeforeReplace)
            registration.dependencies = list(request.dependencies)
            registration.replace_on_changes = list(request.replaceOnChanges)
            registration.ignore_changes = list(request.ignoreChanges)
            registration.additional_secret_outputs = list(request.additionalSecretOutputs)
        with self._lock:
            self.registrations.append(registration)
        return resource_id, state

    def call(self, args: MockCallArgs) -> dict:
        with self._lock:
            self.call_log.append(args)
        return dict(self.calls(args)) if self.calls else {}


class RecordingMonitor(MockMonitor):
    """A MockMonitor that lets RecordingMocks see the full RegisterResource request (options)."""

    def RegisterResource(self, request: Any) -> Any:
        current = self.mocks._current  # type: ignore[attr-defined]
        current.request, current.monitor = request, self
        try:
            return super().RegisterResource(request)
        finally:
            current.request = None


@dataclass
class MockEnvironment:
    """What ``install_mocks`` set up, with finders over the recorded resources."""

    mocks: RecordingMocks
    monitor: RecordingMonitor

    @property
    def registrations(self) -> list[Registration]:
        return list(self.mocks.registrations)

    def find(self, typ: str | None = None, name: str | None = None) -> list[Registration]:
        """Registrations matching a type token and/or a logical name (exact match)."""
        return [
            r for r in self.mocks.registrations if (typ is None or r.typ == typ) and (name is None or r.name == name)
        ]

    def one(self, typ: str, name: str) -> Registration:
        found = self.find(typ, name)
        assert len(found) == 1, f"expected one {typ} named {name!r}, found {len(found)}: " + ", ".join(
            f"{r.typ}::{r.name}" for r in self.mocks.registrations
        )
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        for registration in self.mocks.registrations:
            if registration.urn == urn:
                return registration
        raise AssertionError(f"no resource with URN {urn}")

    def names(self, typ: str) -> list[str]:
        return sorted(r.name for r in self.find(typ))

    def plain(self, value: Any) -> Any:
        """Shortcut for ``unwrap_secrets``."""
        return unwrap_secrets(value)


def install_mocks(
    outputs: Mapping[str, OutputsHook] | None = None,
    *,
    default_outputs: OutputsHook | None = None,
    calls: CallHook | None = None,
    project: str = "homeops-windmill",
    stack: str = "test",
    preview: bool = False,
) -> MockEnvironment:
    """Install a fresh RecordingMocks + RecordingMonitor; call once per test, before building."""
    mocks = RecordingMocks(outputs, default_outputs=default_outputs, calls=calls)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    return MockEnvironment(mocks, monitor)


# --------------------------------------------------------------------------------------------
# Secrets in recorded inputs
# --------------------------------------------------------------------------------------------


def is_secret(value: Any) -> bool:
    """True when a recorded input value is a secret wrapper (as the engine would receive it)."""
    return rpc.is_rpc_secret(value)


def unwrap_secrets(value: Any) -> Any:
    """Recursively replace secret wrappers with their plaintext values."""
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap_secrets(v) for v in value]
    return value


def redact_secrets(value: Any) -> Any:
    """Recursively replace every secret-wrapped value with ``"[secret]"``: what is left is the
    part of the inputs that would be stored and shown in plaintext."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, Mapping):
        return {k: redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_secrets(v) for v in value]
    return value


def plaintext_leaks(registrations: list[Registration], needle: str) -> Iterator[str]:
    """Where ``needle`` (e.g. a generated password) appears outside a secret, as ``type::name``.

    Serialises each resource's redacted inputs, so a secret nested anywhere (an env list, a URL)
    is only found if it escaped its secret wrapper.
    """
    for registration in registrations:
        text = json.dumps(redact_secrets(registration.inputs), default=str)
        if needle in text:
            yield f"{registration.typ}::{registration.name}"
