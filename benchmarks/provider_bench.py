"""Benchmark the Windmill provider through the real provider host against the emulator.

For N variables (default 10, 100 and 300) it runs, like the engine would, with 4 resource
operations in flight (the provider host serves 4 at a time):

  create    Check + Create of N variables
  plan      Check + Diff of N variables with nothing changed (a no-op preview or up)
  refresh   Read of N variables
  update    Check + Diff + Update of N variables (a new value)
  delete    Delete of N variables

and prints per phase the HTTP requests the emulator received, the TCP connections it accepted and
the wall time per object, with 20 ms of latency on every request. The table goes to stdout; progress
(each step and phase as it finishes, with the time since the start) goes to stderr. Run from the
repository root:

    .venv/bin/python -m benchmarks.provider_bench                 # plain variables
    .venv/bin/python -m benchmarks.provider_bench --secret        # secret variables
    .venv/bin/python -m benchmarks.provider_bench --sizes 10 100 --latency 0.05

Not a test: figures depend on the machine. The README quotes a run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.progress import Progress
from components.windmill.variables import VariableProvider
from testkit.provider_host import Engine, ProviderHost, ResourceState
from windmill_emulator import WindmillEmulator

WORKSPACE = "bench"
PARALLEL = 4


@dataclass
class Phase:
    """Measured cost of one phase."""

    name: str
    objects: int
    requests: int
    connections: int
    seconds: float

    def row(self) -> str:
        per_object = self.seconds / self.objects * 1000
        return (f"{self.name:<8} {self.objects:>5} {self.requests:>9} {self.requests / self.objects:>9.2f} "
                f"{self.connections:>12} {per_object:>12.1f}")


def measure(
    name: str, emu: WindmillEmulator, count: int, work: Callable[[], Any], progress: Progress | None = None
) -> tuple[Phase, Any]:
    requests, connections = len(emu.requests), emu.connections_opened
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    phase = Phase(name, count, len(emu.requests) - requests, emu.connections_opened - connections, elapsed)
    if progress is not None:
        progress(f"  {name} of {count}: {elapsed:.2f} s, {phase.requests} requests")
    return phase, result


def run(size: int, latency: float, secret: bool, progress: Progress | None = None) -> list[Phase]:
    say = progress or (lambda _: None)
    say(f"N = {size}: starting the emulator and the provider host")
    emu = WindmillEmulator(latency=latency, workspace_limit=False).start()
    try:
        with httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {emu.admin_token}"}) as api:
            api.post("/workspaces/create", json={"id": WORKSPACE, "name": "Bench"}).raise_for_status()
            api.post(f"/w/{WORKSPACE}/folders/create", json={"name": "bench"}).raise_for_status()
        with ProviderHost() as host:
            host.configure({})
            engine = Engine(host, connection={"api_url": emu.url, "api_token": emu.admin_token})
            provider = VariableProvider()

            def inputs(i: int, value: str) -> dict[str, Any]:
                return {"workspace": WORKSPACE, "path": f"f/bench/v{i}", "value": value, "is_secret": secret}

            urns = [engine.urn("Variable", f"v{i}") for i in range(size)]
            pool = ThreadPoolExecutor(PARALLEL)

            def each(func: Callable[[int], Any]) -> list[Any]:
                return list(pool.map(func, range(size)))

            say(f"N = {size}: provider host ready")
            phases = []
            phase, states = measure("create", emu, size, lambda: each(
                lambda i: engine.up(urns[i], provider, inputs(i, f"value-{i}")).state), progress)
            phases.append(phase)
            phase, _ = measure("plan", emu, size, lambda: each(
                lambda i: engine.up(urns[i], provider, inputs(i, f"value-{i}"), states[i])), progress)
            phases.append(phase)
            phase, refreshed = measure("refresh", emu, size, lambda: each(lambda i: engine.refresh(states[i])),
                                       progress)
            phases.append(phase)
            current: list[ResourceState] = [r or s for r, s in zip(refreshed, states, strict=True)]
            phase, updated = measure("update", emu, size, lambda: each(
                lambda i: engine.up(urns[i], provider, inputs(i, f"new-{i}"), current[i]).state), progress)
            phases.append(phase)
            phase, _ = measure("delete", emu, size, lambda: each(lambda i: engine.destroy(updated[i])), progress)
            phases.append(phase)
            pool.shutdown()
            return phases
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every request")
    parser.add_argument("--secret", action="store_true", help="benchmark secret variables")
    args = parser.parse_args(argv)
    progress = Progress()
    kind = "secret" if args.secret else "plain"
    print(f"{kind} variables, {args.latency * 1000:.0f} ms latency per request, {PARALLEL} operations in flight")
    print(f"{'phase':<8} {'N':>5} {'requests':>9} {'per obj':>9} {'connections':>12} {'ms per obj':>12}", flush=True)
    for size in args.sizes:
        for phase in run(size, args.latency, args.secret, progress):
            print(phase.row(), flush=True)
    progress(f"done: {len(args.sizes)} size(s)")


if __name__ == "__main__":
    main()
