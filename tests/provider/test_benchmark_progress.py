"""The benchmarks show progress on stderr while they run, and keep their results alone on stdout.

Issue 16: the provider benchmark was silent for some 14 s before its table. Both benchmarks run here
with tiny settings (a few objects, no latency) so the test costs a provider host start or two.
"""

from __future__ import annotations

import re
import time

from benchmarks import provider_bench, scale_bench
from benchmarks.scale_bench import EnginePhase, Variant
from testkit.scale_workspace import ScaleWorkspace

PROGRESS_LINE = re.compile(r"^\[\s*(\d+\.\d) s\] (.*)$")


def progress_messages(err: str) -> list[str]:
    """Every stderr line must be a progress line; returns their messages, checking the clock only grows."""
    lines = err.splitlines()
    assert lines, "no progress on stderr"
    parsed = [PROGRESS_LINE.match(line) for line in lines]
    assert all(parsed), f"not progress lines: {[ln for ln, m in zip(lines, parsed, strict=True) if not m]}"
    times = [float(m.group(1)) for m in parsed if m]
    assert times == sorted(times), times
    return [m.group(2) for m in parsed if m]


def test_provider_bench_reports_each_phase_on_stderr_and_the_table_on_stdout(capsys):
    provider_bench.main(["--sizes", "3", "--latency", "0"])
    out, err = capsys.readouterr()

    messages = progress_messages(err)
    assert messages[0] == "N = 3: starting the emulator and the provider host"
    assert "N = 3: provider host ready" in messages
    for phase in ("create", "plan", "refresh", "update", "delete"):
        assert any(re.fullmatch(rf"  {phase} of 3: \d+\.\d\d s, \d+ requests", m) for m in messages), (phase, messages)
    assert messages[-1] == "done: 1 size(s)"

    # stdout is the table the README quotes, nothing else.
    lines = out.splitlines()
    assert lines[0] == "plain variables, 0 ms latency per request, 4 operations in flight"
    assert lines[1].split() == ["phase", "N", "requests", "per", "obj", "connections", "ms", "per", "obj"]
    assert [line.split()[0] for line in lines[2:]] == ["create", "plan", "refresh", "update", "delete"]
    assert all(re.fullmatch(r"\w+ +3 +\d+ +\d+\.\d\d +\d+ +\d+\.\d", line) for line in lines[2:]), lines


def fake_engine_cycle(workspace: ScaleWorkspace, variant: Variant, latency: float, census: bool = False):
    """Stands in for the real CLI's cycle (minutes of engine time); the floor before it is real."""
    scale_bench.progress(f"    up        0.1 s   {workspace.objects} requests")
    return [EnginePhase(name, workspace.objects, 0.1, workspace.objects, {}, 1024) for name in scale_bench.PHASES]


def test_scale_bench_reports_its_steps_on_stderr_and_its_tables_on_stdout(capsys, monkeypatch):
    monkeypatch.setattr(scale_bench, "engine_cycle", fake_engine_cycle)
    scale_bench.main(["--sizes", "4", "--settings-size", "0", "--census-size", "0", "--latency", "0"])
    out, err = capsys.readouterr()

    messages = progress_messages(err)
    assert messages[0] == "[N = 4: 2 variables (1 secret), 2 resources each referencing one; + workspace, folder, type]"
    assert messages[1] == "  provider-only floor …"
    assert re.fullmatch(r"  provider-only floor: up \d+\.\d s, preview \d+\.\d s, refresh \d+\.\d s, "
                        r"destroy \d+\.\d s", messages[2]), messages[2]
    assert "  engine, --parallel 8 (default) …" in messages
    assert "  engine, PULUMI_SKIP_CHECKPOINTS, --parallel 8 (default) …" in messages
    assert messages[-1] == "done"

    assert out.startswith("scale benchmark: 0 ms latency per request, engine --parallel 8 (CLI default)")
    assert "=" * 40 + " report " + "=" * 40 in out
    assert out.count("phase     ms/obj req/obj   floor  ratio") == 4  # two tables as they finish, two in the report
    assert "provider-only floor …" not in out and "engine, --parallel" not in out


def test_scale_bench_heartbeat_goes_to_stderr_while_a_command_runs(capsys):
    with scale_bench._heartbeat("up", time.perf_counter(), None, every=0.05):
        time.sleep(0.3)
    out, err = capsys.readouterr()
    assert out == ""
    assert "    … up: 0 s" in progress_messages(err)

