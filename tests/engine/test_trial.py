"""``python -m testkit.trial``, the README's *Try it without a Windmill*, as a user runs it.

It starts the emulator, runs both quickstart blocks with the real CLI in a temporary copy, prints
each command and its output, destroys both stacks and removes the copy; without the CLI it says how
to build it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testkit.engine import ROOT
from testkit.quickstart import PLACEHOLDER_URL, quickstart_lines, secret_value


def trial(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "HOMEOPS_"))}
    return subprocess.run([sys.executable, "-m", "testkit.trial"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200, check=False, env={**clean, "TMPDIR": str(tmp_path), **env})


def test_the_trial_runs_both_quickstarts_prints_what_they_declare_and_cleans_up(tmp_path: Path) -> None:
    before = {name: (ROOT / name).read_bytes() for name in ("Pulumi.platform.yaml", "Pulumi.financial.yaml")}
    done = trial(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for stack in ("platform", "financial"):  # each README line, as written, before its output
        for line in quickstart_lines(stack):
            shown = line.split(PLACEHOLDER_URL, 1)[0] if PLACEHOLDER_URL in line else line
            assert f"\n$ {shown}" in out, line
    assert "windmill:Workspace" in out and "homeops-platform" in out and "homeops-financial" in out
    assert out.count("$ pulumi destroy --stack") == 2 and "Done: platform, financial deployed and destroyed" in out
    # Every secret the trial sets ends with the same generated marker: none of them is ever printed.
    marker = secret_value("any").rsplit("-", 1)[1]
    assert marker not in out and marker not in done.stderr
    assert list(tmp_path.iterdir()) == []  # the project copy and its backend are gone
    assert {name: (ROOT / name).read_bytes() for name in before} == before  # the user's files untouched


def test_without_the_cli_it_says_how_to_build_it(tmp_path: Path) -> None:
    done = trial(tmp_path, HOMEOPS_TOOLS_DIR=str(tmp_path / "no-tools"))
    assert done.returncode == 2
    assert "scripts/install-pulumi-cli" in done.stderr and "Traceback" not in done.stderr
