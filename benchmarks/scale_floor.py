"""The provider-only floor of the scale benchmark: the same objects, without program or engine.

The objects of ``testkit.scale_workspace.ScaleWorkspace`` go through the SDK's real provider host (``python -m
pulumi.dynamic``) with the engine's step logic of ``testkit.provider_host`` and 4 operations in
flight (the host serves 4 at a time), as ``benchmarks/provider_bench.py`` does for variables: what
the Windmill API's latency and the provider host allow, whatever the program and the engine do.
Dependencies are kept: the workspace first, then its folder and type, then the variables, then the
resources that reference them (and the reverse on destroy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.process_watch import TreeWatch
from benchmarks.provider_bench import Phase, measure
from components.windmill.rules import DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_READ_TIMEOUT_SECONDS
from testkit.provider_host import Engine, ProviderHost, ResourceState
from testkit.scale_workspace import FloorObject, ScaleWorkspace
from windmill_emulator import WindmillEmulator

PARALLEL = 4  # pulumi/dynamic/__main__.py serves the engine with ThreadPoolExecutor(max_workers=4)
# The engine phase each floor phase stands for.
PHASES = {"up": "create", "preview": "plan", "refresh": "refresh", "destroy": "delete"}


def provider_floor(workspace: ScaleWorkspace, latency: float) -> tuple[dict[str, Phase], float]:
    """Floor phases by engine phase name (``up``, ``preview``, ``refresh``, ``destroy``) and the
    provider host's peak resident memory in MiB."""
    emu = WindmillEmulator(latency=latency, workspace_limit=False).start()
    try:
        with ProviderHost() as host:
            host.configure({})
            watch = TreeWatch(host.process.pid, classify=lambda _: "provider host").start()
            engine = Engine(host, connection={
                "api_url": emu.url, "api_token": emu.admin_token,
                "api_connect_timeout_seconds": DEFAULT_CONNECT_TIMEOUT_SECONDS,
                "api_read_timeout_seconds": DEFAULT_READ_TIMEOUT_SECONDS,
            })
            with ThreadPoolExecutor(PARALLEL) as pool:
                phases = _phases(workspace, emu, _Steps(engine, pool))
            peak = watch.stop()["provider host"].peak_rss_mib
            return phases, peak
    finally:
        emu.stop()


class _Steps:
    """The engine's steps for groups of objects, ``PARALLEL`` at a time, group after group."""

    def __init__(self, engine: Engine, pool: ThreadPoolExecutor) -> None:
        self.engine, self.pool = engine, pool
        self.states: dict[str, ResourceState] = {}

    def run(self, groups: Sequence[Sequence[FloorObject]], step: Callable[[FloorObject], Any]) -> None:
        for group in groups:
            list(self.pool.map(step, group))

    def urn(self, obj: FloorObject) -> str:
        return self.engine.urn(obj.provider.declaration.type_name, obj.name)

    def create(self, obj: FloorObject) -> None:
        self.states[obj.name] = self.engine.up(self.urn(obj), obj.provider(), obj.inputs).state

    def plan(self, obj: FloorObject) -> None:
        diff = self.engine.preview(self.urn(obj), obj.provider(), obj.inputs, self.states[obj.name])
        assert not diff.diffs, f"{obj.name}: the floor's no-op plan found changes {list(diff.diffs)}"

    def refresh(self, obj: FloorObject) -> None:
        refreshed = self.engine.refresh(self.states[obj.name])
        assert refreshed is not None, f"{obj.name} is gone"
        self.states[obj.name] = refreshed

    def delete(self, obj: FloorObject) -> None:
        self.engine.destroy(self.states.pop(obj.name))


def _phases(workspace: ScaleWorkspace, emu: WindmillEmulator, steps: _Steps) -> dict[str, Phase]:
    base, variables, resources = workspace.floor_objects()
    create_order = [base[:1], base[1:], variables, resources]
    delete_order = list(reversed(create_order))
    everything = [base + variables + resources]
    n = workspace.objects
    work = {
        "up": lambda: steps.run(create_order, steps.create),
        "preview": lambda: steps.run(everything, steps.plan),
        "refresh": lambda: steps.run(everything, steps.refresh),
        "destroy": lambda: steps.run(delete_order, steps.delete),
    }
    return {name: measure(PHASES[name], emu, n, run)[0] for name, run in work.items()}
