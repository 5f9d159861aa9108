"""``python -m testkit.trial``: see what each stack declares, without a Windmill of your own.

Starts the Windmill emulator (``windmill_emulator``) on a free loopback port, copies the project to
a temporary folder with its own Pulumi backend and passphrase (``testkit.engine.PulumiProject``, the
real-engine tier's harness), and runs the README's quickstart blocks for the platform stack and then
the financial stack with the real Pulumi CLI, printing each command and its output as it goes: the
``pulumi preview --diff`` of each stack is everything it declares. Then it destroys both stacks,
removes the copy and stops the emulator. Your own stacks, backend and ``Pulumi.<stack>.yaml`` files
are never touched.

The secrets the quickstart's ``python -m homeops secrets`` asks for come from the environment
variables the README's table names, each with a generated throwaway value; the token is the
emulator's. The committed stack files' placeholders (HomeOps' hosts and members) are accepted, as
they are for any throwaway instance (``HOMEOPS_ACCEPT_PLACEHOLDERS``). It needs the pinned Pulumi CLI
that ``scripts/install-pulumi-cli`` builds, as the real-engine tier does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from testkit.engine import ROOT, PulumiProject, Result
from testkit.quickstart import Step, run_quickstart
from windmill_emulator import WindmillEmulator

STACKS = ("platform", "financial")


def members(stack: str) -> list[str]:
    """The e-mails a stack file makes workspace members: they must be users of the instance already."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    workspace = config.get("homeops-windmill:workspace") or {}
    return [member["email"] for member in workspace.get("members") or []]


class Printer:
    """Prints each step before it runs and its output when it finishes, with the time it took."""

    def __init__(self) -> None:
        self.started = 0.0

    def starting(self, step: Step) -> None:
        note = "   (the secrets from HOMEOPS_* variables, generated for the trial)" if step.program == "homeops" else ""
        print(f"\n$ {step.line}{note}", flush=True)
        self.started = time.monotonic()

    def finished(self, _step: Step, result: Result) -> None:
        print(result.output.rstrip(), flush=True)
        print(f"[exit {result.code}, {time.monotonic() - self.started:.1f} s]", flush=True)


def run_trial() -> int:
    """Run the trial; the exit status (0 when both stacks deployed and were destroyed)."""
    try:
        with tempfile.TemporaryDirectory(prefix="homeops-trial-") as folder:
            project = PulumiProject(Path(folder))
            status = _with_emulator(project)
        print(f"Removed the project copy and its Pulumi backend ({folder}).")
        return status
    except RuntimeError as error:  # PulumiProject found no CLI
        print(f"python -m testkit.trial: {error}. It builds the pinned Pulumi CLI from the Go module proxy "
              "(needs Go); then run this again.", file=sys.stderr)
        return 2


def _with_emulator(project: PulumiProject) -> int:
    emulator = WindmillEmulator().start()
    printer = Printer()
    try:
        for stack in STACKS:
            for email in members(stack):
                emulator.add_instance_user(email)
        print(f"Windmill emulator at {emulator.url}; project copy in {project.dir} (removed at the end).")
        deployed: list[str] = []
        try:
            for stack in STACKS:
                print(f"\n=== the {stack} stack: the README's quickstart block ===", flush=True)
                run_quickstart(project, stack, url=emulator.url, token=emulator.admin_token,
                               starting=printer.starting, finished=printer.finished)
                deployed.append(stack)
        except AssertionError as failed:  # a command failed; its output is in the message
            print(f"\nFAILED:\n{failed}", file=sys.stderr)
            return 1
        finally:
            _destroy(project, list(reversed(STACKS)), printer)
        workspaces = sorted(w["id"] for w in _workspaces(emulator))
        print(f"\nDone: {', '.join(deployed)} deployed and destroyed; the emulator held the workspaces "
              f"{', '.join(workspaces)} (archived by the destroy, as deletionMode: archive says).")
        return 0
    finally:
        emulator.stop()


def _destroy(project: PulumiProject, stacks: list[str], printer: Printer) -> None:
    """Destroy whichever of ``stacks`` exist, financial first (it reads the platform's outputs)."""
    existing = project.pulumi("stack", "ls", "--json", check=False).output
    print("\n=== clean up: destroy both stacks ===", flush=True)
    for stack in stacks:
        if f'"{stack}"' not in existing:
            continue
        step = Step("pulumi", ("destroy", "--stack", stack, "--yes"))
        printer.starting(step)
        printer.finished(step, project.pulumi(*step.args, check=False))


def _workspaces(emulator: WindmillEmulator) -> list[dict[str, object]]:
    import httpx

    with httpx.Client(base_url=emulator.url + "/api",
                      headers={"Authorization": f"Bearer {emulator.admin_token}"}) as api:
        return [w for w in api.get("/workspaces/list_as_superadmin").json() if w["id"] != "admins"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m testkit.trial",
        description="Run the README's quickstart for the platform and financial stacks against the Windmill "
                    "emulator with the real Pulumi CLI, in a temporary copy of the project; print every command "
                    "and its output (the previews show what each stack declares); destroy both and clean up.",
    )
    parser.parse_args(argv)
    return run_trial()


if __name__ == "__main__":
    sys.exit(main())
