"""The end-to-end tier: the whole program under mocks, with the dynamic resources really running.

``ProviderEngine`` plays the part of the Pulumi engine for dynamic resources. Its ``outputs`` hook
is handed to the mocks: for every Windmill resource the program registers it decodes the resource's
own serialized ``__provider`` (exactly what the provider host does), configures it with the stack
config, and runs check → create, or check → diff → update / replace against the state it kept from
earlier runs. After a run, ``finish()`` deletes what the program no longer declares; ``refresh()``
reads every resource back like ``pulumi refresh``. Everything else (Docker, GitHub, the component
resources) stays mocked. The provider code is the code users run; only the engine is simulated.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dill
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime.mocks import MockResourceArgs

from testkit.mocking import unwrap_secrets
from testkit.program import DEFAULT_OUTPUTS, PROJECT, ProgramRun, run_program

DYNAMIC = "pulumi-python:dynamic"
PROVIDER_KEY = "__provider"


@dataclass
class Managed:
    """One dynamic resource the engine created, as it would sit in the state file."""

    typ: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    order: int


@dataclass
class RunReport:
    """Which step the engine took for each resource during one program run."""

    steps: dict[str, str] = field(default_factory=dict)  # name -> create|update|replace|same|delete

    def names(self, step: str) -> set[str]:
        return {name for name, taken in self.steps.items() if taken == step}


class ProviderEngine:
    """Runs the program's dynamic resources through their real providers, keeping state between runs."""

    def __init__(self, stack_config: Mapping[str, str]) -> None:
        self.stack_config = {k if ":" in k else f"{PROJECT}:{k}": v for k, v in stack_config.items()}
        self.state: dict[tuple[str, str], Managed] = {}
        self.report = RunReport()
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._counter = 0

    def provider(self, blob: str) -> ResourceProvider:
        provider = dill.loads(base64.b64decode(blob))  # noqa: S301 - our own blob, as the provider host does
        provider.configure(ConfigureRequest(Config(dict(self.stack_config), PROJECT)))
        return provider

    def outputs(self, args: MockResourceArgs) -> Mapping[str, Any]:
        """The mocks' hook: run the resource's provider and return its real outputs."""
        if not args.typ.startswith(DYNAMIC):
            return {}
        inputs = unwrap_secrets(dict(args.inputs))
        key = (args.typ, args.name)
        provider = self.provider(inputs[PROVIDER_KEY])
        with self._lock:
            old = self.state.get(key)
            self._seen.add(key)
        checked = provider.check(old.inputs if old else {}, inputs)
        if checked.failures:
            raise AssertionError(f"{args.name}: check failed: {[(f.property, f.reason) for f in checked.failures]}")
        news = checked.inputs
        if old is None:
            created = provider.create(news)
            managed = Managed(args.typ, args.name, created.id, news, dict(created.outs or {}), self._next())
            step = "create"
        else:
            diff = provider.diff(old.id, old.outputs, news)
            if not diff.changes:
                managed, step = old, "same"
            elif diff.replaces:
                created = provider.create(news)
                self.provider(old.outputs.get(PROVIDER_KEY, news[PROVIDER_KEY])).delete(old.id, old.outputs)
                managed = Managed(args.typ, args.name, created.id, news, dict(created.outs or {}), old.order)
                step = "replace"
            else:
                updated = provider.update(old.id, old.outputs, news)
                managed = Managed(args.typ, args.name, old.id, news, dict(updated.outs or {}), old.order)
                step = "update"
        managed.outputs.setdefault(PROVIDER_KEY, news[PROVIDER_KEY])
        with self._lock:
            self.state[key] = managed
            self.report.steps[args.name] = step
        return {k: v for k, v in managed.outputs.items() if k != PROVIDER_KEY}

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def begin(self) -> None:
        self.report = RunReport()
        self._seen = set()

    def finish(self) -> RunReport:
        """Delete what the last run no longer declared, dependents first (reverse creation order)."""
        gone = sorted((m for k, m in self.state.items() if k not in self._seen), key=lambda m: -m.order)
        for managed in gone:
            self.provider(managed.outputs[PROVIDER_KEY]).delete(managed.id, managed.outputs)
            del self.state[(managed.typ, managed.name)]
            self.report.steps[managed.name] = "delete"
        return self.report

    def refresh(self) -> dict[str, str]:
        """``pulumi refresh``: read every resource; returns name -> "changed" | "gone" | "same"."""
        changes: dict[str, str] = {}
        for key, managed in sorted(self.state.items(), key=lambda item: item[1].order):
            result = self.provider(managed.outputs[PROVIDER_KEY]).read(managed.id, dict(managed.outputs))
            if not result.id:
                del self.state[key]
                changes[managed.name] = "gone"
                continue
            outputs = {**(result.outs or {}), PROVIDER_KEY: managed.outputs[PROVIDER_KEY]}
            inputs = {**(result.inputs or managed.inputs), PROVIDER_KEY: managed.inputs[PROVIDER_KEY]}
            changed = {k: v for k, v in outputs.items() if managed.outputs.get(k) != v} or (
                set(managed.outputs) - set(outputs)
            )
            changes[managed.name] = "changed" if changed else "same"
            self.state[key] = Managed(managed.typ, managed.name, result.id, inputs, outputs, managed.order)
        return changes

    def destroy(self) -> None:
        self._seen = set()
        self.finish()

    def up(
        self,
        config: Mapping[str, Any],
        *,
        secrets: Mapping[str, Any] | None = None,
        stack: str,
        platform_outputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Callable[[MockResourceArgs], Mapping[str, Any]]] | None = None,
    ) -> tuple[ProgramRun, RunReport]:
        """``pulumi up``: run the program, then delete what it no longer declares. ``outputs``
        answers for mocked (non-dynamic) resources, e.g. a RandomPassword's result."""
        self.begin()
        run = run_program(
            config,
            secrets=secrets,
            stack=stack,
            platform_outputs=platform_outputs,
            # Real outputs come from the providers: switch off the mock tier's stand-ins for them.
            outputs={
                **{typ: (lambda args: {}) for typ in DEFAULT_OUTPUTS if typ.startswith(DYNAMIC)},
                **(outputs or {}),
            },
            default_outputs=self.outputs,
        )
        return run, self.finish()
