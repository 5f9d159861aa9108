"""``python -m homeops secrets`` with the real Pulumi CLI: values from the environment or typed at a real
pseudo-terminal, stored encrypted, never shown, never on a command line.

One project copy (testkit/engine.py) with the committed stack files; the tests run in file order on
its stacks. Every ``pulumi`` the command starts goes through a wrapper that records its arguments
before running the real CLI, so the last test can check that no value was ever an argument.
"""

from __future__ import annotations

import os
import pty
import re
import select
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components.config.needed_secrets import needed_secrets
from homeops.secret_setup import env_name
from testkit.engine import PulumiProject, Result

P = "homeops-windmill:"


def value_of(stack: str, name: str, generation: int = 1) -> str:
    return f"{stack}-{name}-typed-or-exported-{generation}-9d4b"


class Setting:
    """The project copy, the wrapper's log and every value the tests handed to the command."""

    def __init__(self, base: Path) -> None:
        wrapper = base / "wrapper"
        wrapper.mkdir()
        self.argv_log = base / "pulumi-argv.log"
        self.project = PulumiProject(base / "engine")
        real = self.project.bin_dir / "pulumi"
        (wrapper / "pulumi").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {self.argv_log}\nexec {real} "$@"\n')
        (wrapper / "pulumi").chmod(0o755)
        self.project.extra_env["PATH"] = f"{wrapper}{os.pathsep}{self.project.env['PATH']}"
        self.values: list[str] = []

    def needs(self, stack: str) -> list[str]:
        """The keys (without project) of the required secrets of ``stack`` as its file stands."""
        config = yaml.safe_load(self.project.stack_file(stack))["config"]
        return [n.name for n in needed_secrets(config) if not n.optional]

    def env_for(self, stack: str, generation: int = 1, keys: list[str] | None = None) -> dict[str, str]:
        config = yaml.safe_load(self.project.stack_file(stack))["config"]
        env = {}
        for need in needed_secrets(config):
            if not need.optional and (keys is None or need.name in keys):
                env[env_name(need)] = value_of(stack, need.name, generation)
        self.values += env.values()
        return env

    def secrets(self, stack: str, *args: str, env: dict[str, str] | None = None, check: bool = True) -> Result:
        python = str(self.project.dir / ".venv" / "bin" / "python")
        return self.project.command(python, "-m", "homeops", "secrets", "--stack", stack, *args, env=env,
                                    check=check)

    def get(self, stack: str, name: str) -> str:
        path = ["--path"] if name.startswith("secrets.") else []
        return self.project.pulumi("config", "get", "--stack", stack, *path, name).output.strip()


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setting]:
    yield Setting(tmp_path_factory.mktemp("secrets-command"))


def secure_values(text: str) -> dict[str, str]:
    """Each secret key of a stack file and its ``secure:`` ciphertext (a plain value fails)."""
    config = yaml.safe_load(text)["config"]
    found = {}
    for key, value in config.items():
        entries = value.items() if key == f"{P}secrets" else [(None, value)] if key.endswith("Token") else []
        for entry, item in entries:
            assert isinstance(item, dict) and set(item) == {"secure"}, f"{key}.{entry} is not a secure value"
            found[f"{key.removeprefix(P)}{'.' + entry if entry else ''}"] = item["secure"]
    return found


def test_a_stack_that_does_not_exist_is_named_with_pulumi_stack_init(setting: Setting) -> None:
    before = setting.project.stack_file("financial")
    result = setting.secrets("financial", env=setting.env_for("financial"), check=False)
    assert result.code == 2
    assert "stack financial does not exist" in result.output and "pulumi stack init financial" in result.output
    assert setting.project.stack_file("financial") == before


def test_without_a_terminal_or_the_variables_it_names_every_key_and_writes_nothing(setting: Setting) -> None:
    setting.project.pulumi("stack", "init", "financial", "--secrets-provider", "passphrase")
    before = setting.project.stack_file("financial")
    result = setting.secrets("financial", check=False)
    assert result.code == 2
    for name in setting.needs("financial"):
        assert f"{P}{name}" in result.output
    assert "HOMEOPS_SECRET_FMP_API_KEY" in result.output and "HOMEOPS_GITHUB_TOKEN" in result.output
    assert setting.project.stack_file("financial") == before


def test_from_the_environment_every_secret_is_stored_encrypted(setting: Setting) -> None:
    result = setting.secrets("financial", env=setting.env_for("financial"))
    needs = setting.needs("financial")
    assert len(needs) == 6 and len(re.findall(r"^stored ", result.output, re.M)) == 6, result.output
    for name in needs:
        assert setting.get("financial", name) == value_of("financial", name)
    text = setting.project.stack_file("financial")
    assert set(secure_values(text)) == set(needs)
    for value in setting.values:
        assert value not in text and value not in result.output


def test_a_second_run_asks_nothing_and_changes_nothing(setting: Setting) -> None:
    before = setting.project.stack_file("financial")
    result = setting.secrets("financial")  # no terminal, no variables: it needs neither
    assert "nothing to do" in result.output
    assert setting.project.stack_file("financial") == before


def test_rotate_replaces_one_secret_and_keeps_the_others(setting: Setting) -> None:
    before = secure_values(setting.project.stack_file("financial"))
    env = setting.env_for("financial", generation=2, keys=["secrets.fmp_api_key"])
    result = setting.secrets("financial", "--rotate", "fmp_api_key", env=env)
    assert "stored homeops-windmill:secrets.fmp_api_key (from HOMEOPS_SECRET_FMP_API_KEY)" in result.output
    assert setting.get("financial", "secrets.fmp_api_key") == value_of("financial", "secrets.fmp_api_key", 2)
    after = secure_values(setting.project.stack_file("financial"))
    assert after.pop("secrets.fmp_api_key") != before.pop("secrets.fmp_api_key")
    assert after == before


def run_in_terminal(setting: Setting, stack: str, answers: list[tuple[str, str]]) -> tuple[int, str]:
    """Run the command on a new pseudo-terminal (its controlling terminal, as a shell gives it); answer
    each prompt matching ``answers[i][0]`` with ``answers[i][1]``; return the exit status and everything
    the terminal showed."""
    project = setting.project
    python = str(project.dir / ".venv" / "bin" / "python")
    env = {**project.env, "TERM": "xterm"}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the terminal's session leader, stdin/stdout/stderr on it
        os.chdir(project.dir)
        os.execve(python, [python, "-m", "homeops", "secrets", "--stack", stack], env)  # noqa: S606 - pty.fork child
    transcript, pending, deadline = b"", list(answers), time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 1)
            if ready:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the child closed the terminal: it has exited
                    break
                if not chunk:
                    break
                transcript += chunk
            if pending and re.search(pending[0][0].encode() + rb"[^\n]*: $", transcript):
                os.write(terminal, pending.pop(0)[1].encode() + b"\n")
                transcript += b"<answered>"
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(terminal)
    return os.waitstatus_to_exitcode(status), transcript.decode(errors="replace")


def test_typed_at_a_terminal_nothing_typed_is_shown(setting: Setting) -> None:
    setting.project.pulumi("stack", "init", "platform", "--secrets-provider", "passphrase")
    needs = setting.needs("platform")
    assert len(needs) == 7  # six workspace secrets and githubToken; windmillToken is optional (first boot)
    answers = [(f"value for {needs[0]}", "")]  # an empty answer is refused and asked again
    answers += [(f"value for {name}", value_of("platform", name)) for name in needs]
    setting.values += [value for _, value in answers if value]
    code, transcript = run_in_terminal(setting, "platform", answers)
    assert code == 0, transcript
    assert f"{P}{needs[0]}: empty; a value is required" in transcript
    assert transcript.count("<answered>") == len(answers) and "Stack platform: 7 secret(s) stored" in transcript
    for _, value in answers[1:]:
        assert value not in transcript
    for name in needs:
        assert setting.get("platform", name) == value_of("platform", name)
    assert set(secure_values(setting.project.stack_file("platform"))) == set(needs)


def test_no_value_was_ever_an_argument_of_pulumi(setting: Setting) -> None:
    calls = setting.argv_log.read_text().splitlines()
    stored = [call for call in calls if call.startswith("config set")]
    assert len(stored) == 6 + 1 + 7, calls  # financial, its rotation, platform
    assert all(call.startswith(("config set --stack", "stack ls --json")) for call in calls), calls
    assert len(setting.values) >= 6 + 1 + 7
    for value in setting.values:
        assert not any(value in call for call in calls), value
