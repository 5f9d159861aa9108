"""``python __main__.py`` without the Pulumi engine says how to run the program."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_running_the_program_with_plain_python_says_to_use_pulumi() -> None:
    done = subprocess.run([sys.executable, "__main__.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode != 0
    assert "This is a Pulumi program: run it with `pulumi preview --stack <stack>`" in done.stderr
    assert "Traceback" not in done.stderr and "is required" not in done.stderr
