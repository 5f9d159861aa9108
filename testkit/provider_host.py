"""Drive the SDK's real dynamic provider host over gRPC, the way the Pulumi engine does.

``ProviderHost`` starts ``python -m pulumi.dynamic`` as a subprocess with the project root as its
working directory (exactly what the CLI's ``pulumi-resource-pulumi-python`` plugin does), reads the
port from its first stdout line and exposes one method per RPC. It follows docs/pulumi-notes.md §12.3:
Configure once with the full namespaced config (secrets in plaintext), Check with old inputs,
Diff/Update/Delete with old outputs, no secret markers, and unknowns as the ``rpc.UNKNOWN``
sentinel during preview. The host's stderr goes to a file so tests can assert on what it logged.

``Engine`` adds the engine's step logic on top (create, update, replace, refresh, delete) for one
resource at a time, so lifecycle tests read like ``pulumi up`` / ``refresh`` / ``destroy``. Its
``connection`` (``api_url``, ``api_token``, …) joins the inputs of every resource it declares, as
the program's ``Connection`` does: the provider's only source for where to connect.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2 as pb
from pulumi.runtime.proto import provider_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "homeops-windmill"
PROVIDER_KEY = "__provider"
UNKNOWN = rpc.UNKNOWN


def to_struct(props: dict[str, Any]) -> Any:
    # A private loop, not asyncio.run: that leaves the main thread with no current loop (set_event_loop(None)),
    # and the SDK's mocks, which later tiers run in the same process, ask for the current one.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: Any) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct))


class ProviderError(Exception):
    """A provider method raised: the host aborted the RPC with the Python traceback as details."""

    def __init__(self, error: grpc.RpcError) -> None:
        self.details = error.details() or ""
        super().__init__(self.details)


@dataclass
class CheckOutcome:
    """What Check answered: the checked inputs and ``(property, reason)`` failures."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


class ProviderHost:
    """A running ``python -m pulumi.dynamic`` subprocess and a gRPC stub to it."""

    def __init__(self, env: dict[str, str] | None = None, project: str = PROJECT) -> None:
        self.project = project
        self._stderr = tempfile.NamedTemporaryFile(prefix="provider-host-", suffix=".log", delete=False)  # noqa: SIM115
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("WINDMILL_", "PULUMI_CONFIG"))}
        environment.update({"PULUMI_PROJECT": project, "PYTHONPATH": str(ROOT)})
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=20)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def logs(self) -> str:
        """Everything the host wrote to stderr so far."""
        return Path(self._stderr.name).read_text(errors="replace")

    def close(self) -> None:
        # The host first: closing a channel whose server still runs waits some 0.2 s (gRPC's goodbye), and the
        # provider tier starts and stops a host in most of its tests.
        self.process.kill()
        self.process.wait(timeout=10)
        self.channel.close()
        self._stderr.close()

    def __enter__(self) -> ProviderHost:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as error:
            raise ProviderError(error) from None

    def configure(self, config: dict[str, str]) -> None:
        """Send the stack config the way the engine does: keys namespaced by project."""
        namespaced = {k if ":" in k else f"{self.project}:{k}": v for k, v in config.items()}
        self._call("Configure", pb.ConfigureRequest(args=to_struct(namespaced)))

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> CheckOutcome:
        response = self._call("Check", pb.CheckRequest(urn=urn, olds=to_struct(olds), news=to_struct(news)))
        return CheckOutcome(
            from_struct(response.inputs), [(f.property, f.reason) for f in response.failures]
        )

    def diff(self, id_: str, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return self._call("Diff", pb.DiffRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news)))

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._call("Create", pb.CreateRequest(urn=urn, properties=to_struct(props)))
        return response.id, from_struct(response.properties)

    def update(self, id_: str, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        request = pb.UpdateRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news))
        return from_struct(self._call("Update", request).properties)

    def read(
        self, id_: str, urn: str, props: dict[str, Any], inputs: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        request = pb.ReadRequest(id=id_, urn=urn, properties=to_struct(props), inputs=to_struct(inputs or {}))
        response = self._call("Read", request)
        return response.id, from_struct(response.properties), from_struct(response.inputs)

    def delete(self, id_: str, urn: str, props: dict[str, Any]) -> None:
        self._call("Delete", pb.DeleteRequest(id=id_, urn=urn, properties=to_struct(props)))


@dataclass
class ResourceState:
    """What the engine keeps for one resource between operations."""

    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class UpResult:
    """The step the engine took for a resource in one ``up``."""

    op: str  # "create", "update", "replace", "same"
    state: ResourceState
    replaces: list[str] = field(default_factory=list)


class Engine:
    """The engine's step logic for single resources, over a ProviderHost."""

    def __init__(self, host: ProviderHost, connection: dict[str, Any] | None = None) -> None:
        self.host = host
        self.connection = dict(connection or {})

    @staticmethod
    def urn(type_name: str, name: str) -> str:
        return f"urn:pulumi:test::{PROJECT}::pulumi-python:dynamic/windmill:{type_name}::{name}"

    _blobs: dict[type, str] = {}
    _blob_lock = threading.Lock()

    @classmethod
    def blob(cls, provider: ResourceProvider) -> str:
        # serialize_provider patches the pickler globally while it runs, so concurrent calls nest
        # the patch; a program serializes on one thread, and so does this (once per class).
        with cls._blob_lock:
            if type(provider) not in cls._blobs:
                cls._blobs[type(provider)] = serialize_provider(provider)
            return cls._blobs[type(provider)]

    def up(
        self,
        urn: str,
        provider: ResourceProvider,
        inputs: dict[str, Any],
        state: ResourceState | None = None,
    ) -> UpResult:
        news = {**self.connection, **inputs, PROVIDER_KEY: self.blob(provider)}
        checked = self.host.check(urn, state.inputs if state else {}, news)
        if checked.failures:
            raise AssertionError(f"check failed: {checked.failures}")
        if state is None:
            id_, outs = self.host.create(urn, checked.inputs)
            return UpResult("create", ResourceState(urn, id_, checked.inputs, outs))
        diff = self.host.diff(state.id, urn, state.outputs, checked.inputs)
        if diff.changes != pb.DiffResponse.DIFF_SOME:
            return UpResult("same", state)
        if diff.replaces:
            if diff.deleteBeforeReplace:  # the provider asks to delete first (the object's name is reused)
                self.host.delete(state.id, urn, state.outputs)
                id_, outs = self.host.create(urn, checked.inputs)
                return UpResult("replace", ResourceState(urn, id_, checked.inputs, outs), list(diff.replaces))
            # Create-before-delete, the engine's default when deleteBeforeReplace is false.
            id_, outs = self.host.create(urn, checked.inputs)
            self.host.delete(state.id, urn, state.outputs)
            return UpResult("replace", ResourceState(urn, id_, checked.inputs, outs), list(diff.replaces))
        outs = self.host.update(state.id, urn, state.outputs, checked.inputs)
        return UpResult("update", ResourceState(urn, state.id, checked.inputs, outs))

    def preview(self, urn: str, provider: ResourceProvider, inputs: dict[str, Any], state: ResourceState) -> Any:
        """Check and Diff only, as during ``pulumi preview``; returns the DiffResponse."""
        news = {**self.connection, **inputs, PROVIDER_KEY: self.blob(provider)}
        checked = self.host.check(urn, state.inputs, news)
        if checked.failures:
            raise AssertionError(f"check failed: {checked.failures}")
        return self.host.diff(state.id, urn, state.outputs, checked.inputs)

    def refresh(self, state: ResourceState) -> ResourceState | None:
        id_, outs, inputs = self.host.read(state.id, state.urn, state.outputs, state.inputs)
        if not id_:
            return None
        return ResourceState(state.urn, id_, {**inputs} if inputs else state.inputs, outs)

    def destroy(self, state: ResourceState) -> None:
        self.host.delete(state.id, state.urn, state.outputs)
