"""Progress lines of the benchmarks: on stderr, each with the time since the run started.

The results go to stdout in the format the README quotes; progress goes to stderr so a user sees the
run working (a benchmark can be silent for seconds to minutes between result lines) and
``> results.txt`` still captures the results alone.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    """Writes ``[  12.3 s] <message>`` lines to ``stream`` (stderr unless given), flushed at once."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self._lock = threading.Lock()  # the scale benchmark's heartbeat thread writes too

    def restart(self) -> None:
        """Count from now (a module-level ``Progress`` is made at import, a run starts later)."""
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        stream = self.stream or sys.stderr  # looked up late: pytest's capsys replaces sys.stderr
        with self._lock:
            print(f"[{self.elapsed:7.1f} s] {message}", file=stream, flush=True)
