"""Peak memory and CPU time of a process tree, by role, from ``/proc`` (Linux).

``pulumi up`` here is three kinds of process: the program (``testkit.served_program``, which serves
``__main__.py`` to the CLI and runs it), the engine (the ``pulumi`` binary) and the provider host
(``python -m pulumi.dynamic``, started by the engine for the dynamic resources). ``TreeWatch``
polls the tree below one process every ``interval`` seconds and keeps, per role, the largest peak
resident set (``VmHWM``: the kernel's own high-water mark, so a peak between two polls still
counts) and the CPU time (``utime + stime``) each process had used at its last poll.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class RoleUsage:
    """What the processes of one role used: peak resident memory and CPU seconds."""

    peak_rss_bytes: int = 0
    cpu_seconds: float = 0.0
    processes: int = 0

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_bytes / 2**20


def pulumi_role(cmdline: list[str]) -> str:
    """``program``, ``provider host``, ``engine`` or ``other``, from a process's command line."""
    if "pulumi.dynamic" in cmdline:
        return "provider host"
    if "testkit.served_program" in cmdline:
        return "program"
    if cmdline and os.path.basename(cmdline[0]) == "pulumi":
        return "engine"
    return "other"


@dataclass
class TreeWatch:
    """Polls a process and its descendants until ``stop()``; ``usage`` maps role -> RoleUsage."""

    root: int
    classify: Callable[[list[str]], str] = pulumi_role
    interval: float = 0.1
    usage: dict[str, RoleUsage] = field(default_factory=dict)
    _seen: dict[int, tuple[str, int, float]] = field(default_factory=dict)  # pid -> role, peak, cpu
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TreeWatch:
        self._thread = threading.Thread(target=self._run, name="tree-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, RoleUsage]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        return self.usage

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        for pid in self._tree():
            sample = _sample(pid)
            if sample is None:
                continue
            if pid in self._seen:  # a zombie reports no VmHWM: keep what the live process reported
                role, peak, cpu = self._seen[pid]
                if role == "other":  # first seen between fork and exec (the plugin is a shell script)
                    role = self.classify(_cmdline(pid))
                self._seen[pid] = (role, max(peak, sample[0]), max(cpu, sample[1]))
            else:
                self._seen[pid] = (self.classify(_cmdline(pid)), *sample)
        usage: dict[str, RoleUsage] = {}
        for role, peak, cpu in self._seen.values():
            entry = usage.setdefault(role, RoleUsage())
            entry.peak_rss_bytes = max(entry.peak_rss_bytes, peak)
            entry.cpu_seconds += cpu
            entry.processes += 1
        self.usage = usage

    def _tree(self) -> list[int]:
        found, pending = [], [self.root]
        while pending:
            pid = pending.pop()
            found.append(pid)
            pending.extend(_children(pid))
        return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            children.extend(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return children


def _cmdline(pid: int) -> list[str]:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _sample(pid: int) -> tuple[int, float] | None:
    """(VmHWM in bytes, CPU seconds) of a live process, or None once it is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    peak = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    fields = stat.rsplit(")", 1)[1].split()
    return peak, (int(fields[11]) + int(fields[12])) / _TICKS
