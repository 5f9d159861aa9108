"""Scale benchmark: one workspace of N objects through the real Pulumi CLI and engine.

For each N (default 100, 1,000 and 2,000 variables and resources, half each, in a workspace file;
``testkit/scale_workspace.py``) it creates a domain stack on a private file backend
(``testkit.engine.PulumiProject``, the CLI built by ``scripts/install-pulumi-cli``) against the
Windmill emulator with 20 ms of latency on every request, and runs what the deploy workflow and an
operator run:

  up        pulumi up --yes --skip-preview          (pulumi/actions and the Automation API do)
  preview   pulumi preview --expect-no-changes     (the no-op preview of a pull request)
  refresh   pulumi refresh --yes --skip-preview
  destroy   pulumi destroy --yes --skip-preview

Per phase it prints the wall time and HTTP requests per object, the peak resident memory of the
program, the provider host and the engine (``benchmarks/process_watch.py``), their CPU seconds,
the state file's size, and the ratio to the provider-only floor of the same objects measured in
the same run (``benchmarks/scale_floor.py``: the provider host's 4 operations in flight against the
same emulator, no program and no engine). Then, at one N (``--settings-size``), the same cycle with
other settings (``--parallel`` values, each with and without ``PULUMI_SKIP_CHECKPOINTS``; every N
also runs without checkpoints), and a census of the file backend's checkpoint writes at N = 100.
Run from the repository root. The tables (as each cycle finishes) and the final report go to stdout;
progress (each step and CLI command as it finishes, a heartbeat every 20 s during a long command,
each with the time since the start) goes to stderr:

    .venv/bin/python -m benchmarks.scale_bench                 # the README's run (about 1 hour on 2 cores)
    .venv/bin/python -m benchmarks.scale_bench --sizes 100 --settings-size 100

Not a test: figures depend on the machine and its load, which the report states.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.process_watch import RoleUsage, TreeWatch
from benchmarks.progress import Progress
from benchmarks.provider_bench import Phase
from benchmarks.scale_floor import PARALLEL as FLOOR_PARALLEL
from benchmarks.scale_floor import provider_floor
from components.windmill.readiness import CONFIRM_SPACING_ENV
from testkit.engine import PulumiProject, Result
from testkit.scale_workspace import STACK, ScaleWorkspace, init_stack
from testkit.served_program import PROGRAM_COMMANDS
from windmill_emulator import WindmillEmulator

CLI_DEFAULT_PARALLEL = 8  # `pulumi up --help`: "(default 8)" on this 2-core machine (4 per CPU)
PHASES: dict[str, tuple[str, ...]] = {
    "up": ("up", "--yes", "--skip-preview"),
    "preview": ("preview", "--expect-no-changes"),
    "refresh": ("refresh", "--yes", "--skip-preview"),
    "destroy": ("destroy", "--yes", "--skip-preview"),
}
ROLES = ("program", "provider host", "engine")


def say(message: str) -> None:
    """A result line: stdout, at once."""
    print(message, flush=True)


progress = Progress()  # progress lines: stderr, with the time since the run started


@dataclass
class EnginePhase:
    """One CLI command of the cycle: what it cost and what it left in the state file."""

    name: str
    objects: int
    seconds: float
    requests: int
    usage: dict[str, RoleUsage]
    state_bytes: int
    checkpoints: tuple[int, int] = (0, 0)  # retained checkpoint files written, their bytes

    @property
    def ms_per_object(self) -> float:
        return self.seconds / self.objects * 1000

    def peak_mib(self, role: str) -> float:
        return self.usage[role].peak_rss_mib if role in self.usage else 0.0

    def cpu(self, role: str) -> float:
        return self.usage[role].cpu_seconds if role in self.usage else 0.0


@dataclass(frozen=True)
class Variant:
    """The settings of one cycle: the CLI's ``--parallel`` and extra environment."""

    label: str
    parallel: int = CLI_DEFAULT_PARALLEL
    env: dict[str, str] = field(default_factory=dict)


class WatchedProject(PulumiProject):
    """A ``PulumiProject`` whose commands are timed and whose process tree is watched."""

    def run(self, *args: str, heartbeat: WindmillEmulator | None = None) -> tuple[Result, float, dict[str, RoleUsage]]:
        if args[0] in PROGRAM_COMMANDS:
            command = [sys.executable, "-m", "testkit.served_program", *args]
        else:
            command = [str(self.bin_dir / "pulumi"), *args]
        with tempfile.TemporaryFile("w+") as output:
            started = time.perf_counter()
            # A session of its own: an interrupted benchmark stops the whole tree (CLI, provider host).
            process = subprocess.Popen(command, cwd=self.dir, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, text=True, start_new_session=True)
            watch = TreeWatch(process.pid).start()
            try:
                with _heartbeat(args[0], started, heartbeat):
                    code = process.wait(timeout=3600)
            finally:
                if process.poll() is None:
                    _stop_group(process)
            seconds = time.perf_counter() - started
            usage = watch.stop()
            output.seek(0)
            result = Result(tuple(args), code, output.read())
        self.history.append(result)
        if code != 0:
            raise AssertionError(str(result)[-4000:])
        return result, seconds, usage

    def state_file(self) -> Path | None:
        found = sorted(self.state.glob(f".pulumi/stacks/*/{STACK}.json"))
        return found[0] if found else None

    def checkpoint_files(self) -> dict[Path, int]:
        """Checkpoints kept by PULUMI_DIY_BACKEND_RETAIN_CHECKPOINTS (``<stack>.json.<unix nanos>``, each
        with the ``.attrs`` sidecar of the gocloud file bucket, not counted)."""
        found = self.state.glob(f".pulumi/stacks/*/{STACK}.json.[0-9]*")
        return {p: p.stat().st_size for p in found if p.suffix != ".attrs"}


def _stop_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the command's process group (the CLI cancels), SIGKILL whatever is left after 15 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        process.poll()  # reap the leader, so only live members keep the group
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def _heartbeat(command: str, started: float, emu: WindmillEmulator | None, every: float = 20.0) -> Iterator[None]:
    """A progress line every ``every`` seconds while a long command runs."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            requests = f", {len(emu.requests)} requests so far" if emu is not None else ""
            progress(f"    … {command}: {time.perf_counter() - started:.0f} s{requests}")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def engine_cycle(
    workspace: ScaleWorkspace, variant: Variant, latency: float, census: bool = False
) -> list[EnginePhase]:
    """up, no-op preview, refresh and destroy of a new stack on a new emulator."""
    emu = WindmillEmulator(latency=latency, workspace_limit=False).start()
    # The readiness gate as operators run it (1 s between its confirming answers), not the test tiers' shortcut.
    env = {CONFIRM_SPACING_ENV: "", **variant.env,
           **({"PULUMI_DIY_BACKEND_RETAIN_CHECKPOINTS": "true"} if census else {})}
    try:
        with tempfile.TemporaryDirectory(prefix="scale-bench-") as base:
            project = WatchedProject(Path(base), extra_env=env)
            init_stack(project, emu.url, emu.admin_token, workspace)
            progress(f"    stack {STACK} initialised ({workspace.objects} objects)")
            phases = []
            for name, args in PHASES.items():
                before, kept = len(emu.requests), project.checkpoint_files()
                _, seconds, usage = project.run(*args, "--stack", STACK, "--parallel", str(variant.parallel),
                                                heartbeat=emu)
                state = project.state_file()
                written = {p: s for p, s in project.checkpoint_files().items() if p not in kept}
                phases.append(EnginePhase(name, workspace.objects, seconds, len(emu.requests) - before, usage,
                                          state.stat().st_size if state else 0, (len(written), sum(written.values()))))
                progress(f"    {name:<8} {seconds:7.1f} s   {phases[-1].requests:6d} requests")
            return phases
    finally:
        emu.stop()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def header(workspace: ScaleWorkspace) -> str:
    pairs, secret = workspace.pairs, len(workspace.secrets())
    return (f"N = {workspace.objects}: {pairs} variables ({secret} secret), {pairs} resources each referencing "
            f"one; + workspace, folder, type")


def phase_table(
    phases: list[EnginePhase], floor: dict[str, Phase], floor_peak: float, latency: float
) -> list[str]:
    lines = [
        f"{'phase':<8} {'ms/obj':>7} {'req/obj':>7} {'floor':>7} {'ratio':>6}   {'peak MiB: program':>17} "
        f"{'provider':>8} {'engine':>6}   {'CPU s: program':>14} {'provider':>8} {'engine':>6}   {'state KiB':>9}",
    ]
    for p in phases:
        base = floor[p.name]
        floor_ms = base.seconds / base.objects * 1000
        lines.append(
            f"{p.name:<8} {p.ms_per_object:7.1f} {p.requests / p.objects:7.2f} {floor_ms:7.1f} "
            f"{p.seconds / base.seconds:5.1f}x   {p.peak_mib('program'):17.0f} {p.peak_mib('provider host'):8.0f} "
            f"{p.peak_mib('engine'):6.0f}   {p.cpu('program'):14.1f} {p.cpu('provider host'):8.1f} "
            f"{p.cpu('engine'):6.1f}   {p.state_bytes / 1024:9.0f}"
        )
    api = ", ".join(f"{k} {v.requests * latency / FLOOR_PARALLEL / v.objects * 1000:.1f}" for k, v in floor.items())
    up = phases[0]
    lines += [
        f"floor: the provider host alone ({FLOOR_PARALLEL} in flight, same objects, same emulator), peak "
        f"{floor_peak:.0f} MiB; the API alone (requests x latency / {FLOOR_PARALLEL}) allows ms/obj: {api}",
        f"state after up: {up.state_bytes / 1024:.0f} KiB, {up.state_bytes / up.objects:.0f} bytes per object",
    ]
    return lines


def settings_table(results: dict[str, list[EnginePhase]], floor: dict[str, Phase]) -> list[str]:
    lines = [f"{'settings':<48} " + " ".join(f"{name:>15}" for name in PHASES) + "   engine CPU s: up, destroy"]
    for label, phases in results.items():
        cells = [f"{p.ms_per_object:6.1f} ({p.seconds / floor[p.name].seconds:4.1f}x)" for p in phases]
        cpu = f"{phases[0].cpu('engine'):6.1f}, {phases[-1].cpu('engine'):6.1f}"
        lines.append(f"{label:<48} " + " ".join(f"{c:>15}" for c in cells) + f"   {cpu:>26}")
    return lines


def census_lines(phases: list[EnginePhase]) -> list[str]:
    lines = []
    for p in phases:
        count, size = p.checkpoints
        if count:
            lines.append(f"  {p.name:<8} {count:5d} checkpoint writes ({count / p.objects:.1f} per object), "
                         f"{size / 2**20:7.1f} MiB written; final state {p.state_bytes / 1024:.0f} KiB")
    return lines


SKIP_CHECKPOINTS = {"PULUMI_SKIP_CHECKPOINTS": "true"}


def variants(parallel: list[int]) -> list[Variant]:
    """The CLI's defaults, other --parallel values, and each of them without checkpoints."""
    found = [Variant(f"--parallel {p}" + (" (default)" if p == CLI_DEFAULT_PARALLEL else ""), parallel=p)
             for p in [CLI_DEFAULT_PARALLEL, *parallel]]
    return found + [Variant(f"PULUMI_SKIP_CHECKPOINTS, {v.label}", v.parallel, SKIP_CHECKPOINTS) for v in found]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 2000])
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every request")
    parser.add_argument("--settings-size", type=int, default=300, help="N of the settings comparison (0: none)")
    parser.add_argument("--parallel", type=int, nargs="*", default=[4, 16], help="--parallel values to compare")
    parser.add_argument("--census-size", type=int, default=100, help="N of the checkpoint census (0: none)")
    args = parser.parse_args(argv)
    progress.restart()
    report: list[str] = [f"scale benchmark: {args.latency * 1000:.0f} ms latency per request, engine --parallel "
                         f"{CLI_DEFAULT_PARALLEL} (CLI default), {os.cpu_count()} CPUs, at start {load()}"]
    say(report[0])
    options = variants(args.parallel)
    main_variants = [options[0], options[len(options) // 2]]  # the defaults, with and without checkpoints
    floors: dict[int, dict[str, Phase]] = {}
    cycles: dict[tuple[int, str], list[EnginePhase]] = {}
    for n in sorted({*args.sizes, args.settings_size} - {0}):
        workspace = ScaleWorkspace(n)
        progress(f"[{header(workspace)}]")
        progress("  provider-only floor …")
        floors[n], floor_peak = provider_floor(workspace, args.latency)
        progress("  provider-only floor: " + ", ".join(f"{k} {v.seconds:.1f} s" for k, v in floors[n].items()))
        if n not in args.sizes:
            continue
        report += ["", header(workspace)]
        for variant in main_variants:
            progress(f"  engine, {variant.label} …")
            phases = cycles[n, variant.label] = engine_cycle(workspace, variant, args.latency)
            table = [f"{variant.label}:", *phase_table(phases, floors[n], floor_peak, args.latency)]
            report += table
            say("\n".join(table))
    if args.settings_size:
        n = args.settings_size
        for variant in options:
            if (n, variant.label) not in cycles:
                progress(f"[settings, N = {n}: {variant.label}] …")
                cycles[n, variant.label] = engine_cycle(ScaleWorkspace(n), variant, args.latency)
        report += ["", f"settings at N = {n}: ms per object (ratio to the floor)",
                   *settings_table({v.label: cycles[n, v.label] for v in options}, floors[n])]
    if args.census_size:
        workspace = ScaleWorkspace(args.census_size)
        progress(f"[checkpoint census, N = {args.census_size}] …")
        phases = engine_cycle(workspace, Variant("census"), args.latency, census=True)
        report += ["", f"file backend checkpoint writes at N = {args.census_size} "
                       "(counted with PULUMI_DIY_BACKEND_RETAIN_CHECKPOINTS):", *census_lines(phases)]
    report.append(f"at end {load()}")
    say("\n" + "=" * 40 + " report " + "=" * 40 + "\n" + "\n".join(report))
    progress("done")


if __name__ == "__main__":
    main()
