"""The program warns, naming file and line, when the stack file or workspace file lost a value to a comment."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from components.config.schema import PROJECT
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, load_stack_config, run_program

ROOT = Path(__file__).resolve().parents[2]


def test_a_description_cut_at_a_hash_is_a_preview_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)  # Pulumi runs the program in the project folder, next to the stack file
    text = (ROOT / "Pulumi.financial.yaml").read_text()
    cut = text.replace('"Trading alerts to #trading-alerts"', "Trading alerts to #trading-alerts")
    assert cut != text
    (tmp_path / "Pulumi.financial.yaml").write_text(cut)
    config = load_stack_config("financial")
    config[f"{PROJECT}:workspace"]["resources"][-1]["description"] = "Trading alerts to"  # as YAML parsed it
    with caplog.at_level(logging.WARNING):
        run_program(config, secrets=FINANCIAL_SECRETS, stack="financial", platform_outputs=PLATFORM_OUTPUTS)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    line = cut.splitlines().index("        description: Trading alerts to #trading-alerts") + 1
    assert any(w.startswith(f"Pulumi.financial.yaml:{line}: the value 'Trading alerts to'") for w in warnings), \
        warnings
