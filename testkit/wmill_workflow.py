"""Run the GitHub sync workflow that ``GitHubSync`` generates with the real ``wmill`` against the emulator.

The workflow's ``run:`` steps execute verbatim, in a git checkout laid out like the HomeOps
repository, with GitHub's default shell (``bash --noprofile --norc -eo pipefail``) and the step's
``env:``. ``${{ vars.X }}`` and ``${{ secrets.X }}`` are the only expressions substituted (with the
emulator URL, the workspace id and the token the stack mints); any other expression fails the run.
The ``npm install --global windmill-cli@X`` step cannot run offline: it is checked to pin the
version ``scripts/install-wmill-cli`` installed, whose ``wmill`` is then put first on ``PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config.github_sync import GitHubSyncArgs
from components.github_sync import render_wmill_yaml, render_workflow
from windmill_emulator import RecordedRequest, WindmillEmulator

INSTALL_PREFIX = "npm install --global windmill-cli@"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_CONTEXT_VALUE = re.compile(r"(vars|secrets)\.([A-Z0-9_]+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
GITHUB_CONTEXT = {"github.actor": "homeops-ci", "github.sha": "0123456789abcdef0123456789abcdef01234567"}


def run_steps(args: GitHubSyncArgs) -> list[dict[str, Any]]:
    """The ``run:`` steps of the generated workflow's job, in order."""
    (job,) = yaml.safe_load(render_workflow(args))["jobs"].values()
    return [step for step in job["steps"] if "run" in step]


@dataclass(frozen=True)
class StepRun:
    """One executed ``run:`` step: its output and the requests the emulator received meanwhile."""

    name: str
    command: str
    returncode: int
    stdout: str
    stderr: str
    requests: list[RecordedRequest]

    @property
    def output(self) -> str:
        """stdout and stderr without colour codes."""
        return _ANSI.sub("", self.stdout + self.stderr)

    @property
    def mutating(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method in MUTATING]


@dataclass
class WorkflowRunner:
    """A checkout of the repository the workflow syncs, and the Actions values it reads."""

    args: GitHubSyncArgs
    wmill: Path
    emulator: WindmillEmulator
    root: Path
    variables: dict[str, str]
    secrets: dict[str, str]
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = self.root.parent / f"{self.root.name}-home"
        self.home.mkdir(parents=True, exist_ok=True)

    @property
    def sync_steps(self) -> list[dict[str, Any]]:
        """The job's ``run:`` steps, in order."""
        return run_steps(self.args)

    def checkout(self, folder_content: Path | None) -> Path:
        """A git repository on ``branch`` with the workflow, ``wmill.yaml`` and the folder's files."""
        shutil.rmtree(self.root, ignore_errors=True)
        folder = self.root / self.args.folder
        if folder_content is not None:
            shutil.copytree(folder_content, folder)
        folder.mkdir(parents=True, exist_ok=True)
        (self.root / self.args.workflow_path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / self.args.workflow_path).write_text(render_workflow(self.args))
        (self.root / self.args.wmill_yaml_path).write_text(render_wmill_yaml(self.args))
        git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid"]
        subprocess.run([*git, "init", "-q", "-b", self.args.branch, str(self.root)], check=True)
        subprocess.run([*git, "-C", str(self.root), "add", "-A"], check=True)
        subprocess.run([*git, "-C", str(self.root), "commit", "-q", "-m", "checkout"], check=True)
        return folder

    def substitute(self, text: str) -> str:
        """Replace ``${{ vars.X }}`` / ``${{ secrets.X }}``; anything else is an error."""

        def value(match: re.Match[str]) -> str:
            if match.group(1) in GITHUB_CONTEXT:  # what Actions sets for the run that pushed
                return GITHUB_CONTEXT[match.group(1)]
            found = _CONTEXT_VALUE.fullmatch(match.group(1))
            if found is None:
                raise AssertionError(f"the test runner does not evaluate ${{{{ {match.group(1)} }}}}")
            context = self.variables if found.group(1) == "vars" else self.secrets
            return context[found.group(2)]

        return _EXPRESSION.sub(value, text)

    def environment(self, step_env: Mapping[str, str]) -> dict[str, str]:
        """A runner's environment: the installed CLI first on PATH, a fresh HOME, the step's env."""
        base = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        base.update(
            PATH=f"{self.wmill.parent}{os.pathsep}{base.get('PATH', '')}",
            HOME=str(self.home),
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(self.root),
        )
        base.update({k: self.substitute(str(v)) for k, v in step_env.items()})
        return base

    def run_command(self, name: str, command: str, step: Mapping[str, Any]) -> StepRun:
        """Run one script as the step ``step`` would (its working directory and env)."""
        cwd = self.root / step.get("working-directory", ".")
        script = self.root.parent / f"{self.root.name}-step.sh"
        script.write_text(command + "\n")
        self.emulator.clear_requests()
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=self.environment(step.get("env", {})),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return StepRun(name, command, done.returncode, done.stdout, done.stderr, self.emulator.requests)

    def run_job(self) -> list[StepRun]:
        """Every ``run:`` step of the job, in order, the CLI install replaced by the installed CLI."""
        runs = []
        for step in self.sync_steps:
            command = step["run"]
            if command.startswith(INSTALL_PREFIX):
                pinned = command.removeprefix(INSTALL_PREFIX)
                installed = self.wmill.parent.parent / "windmill-cli"
                assert installed.is_dir() and pinned == self.wmill.parents[2].name, (
                    f"the workflow installs windmill-cli {pinned}, the test runs {self.wmill.parents[2].name}"
                )
                continue
            runs.append(self.run_command(step["name"], command, step))
            assert runs[-1].returncode == 0, f"step {step['name']!r} failed:\n{runs[-1].output}"
        return runs

    def push_step(self) -> dict[str, Any]:
        """The step that runs ``wmill sync push``."""
        (step,) = [s for s in self.sync_steps if "wmill sync push" in s["run"]]
        return step
