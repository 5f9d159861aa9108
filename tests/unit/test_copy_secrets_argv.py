"""``import --copy-secrets`` hands each value to ``pulumi config set`` on standard input, never as an argument."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from homeops.convert import SecretNeed
from homeops.stack_secrets import SecretStatus, copy_missing

VALUE = "copied-secret-value-9d41"


def test_each_value_reaches_the_cli_on_stdin_and_never_in_its_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for the pulumi on PATH that records its arguments and its standard input.
    recorder = tmp_path / "bin" / "pulumi"
    recorder.parent.mkdir()
    recorder.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/argv\ncat >> {tmp_path}/stdin\n')
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{recorder.parent}{os.pathsep}{os.environ['PATH']}")
    needs = [SecretStatus(SecretNeed("fmp_api_key", "f/atom/fmp_api_key"), "missing"),
             SecretStatus(SecretNeed("kept", "f/atom/kept"), "set")]
    result = copy_missing(tmp_path, "financial", needs, lambda path: VALUE)
    assert [s.state for s in result] == ["copied", "set"]
    argv = (tmp_path / "argv").read_text()
    assert argv.split() == ["config", "set", "--stack", "financial", "--secret", "--path", "secrets.fmp_api_key"]
    assert VALUE not in argv
    assert (tmp_path / "stdin").read_text() == VALUE
