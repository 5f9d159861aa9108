"""Values cut short by a YAML comment are found, and comments that are comments are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.config.yaml_comments import cut_values, cut_values_in_file

ROOT = Path(__file__).resolve().parents[2]


def test_an_unquoted_hash_word_is_reported_with_file_line_and_the_quoted_fix() -> None:
    text = "config:\n  p:workspace:\n    description: Trading alerts to #trading-alerts\n"
    assert yaml.safe_load(text)["config"]["p:workspace"]["description"] == "Trading alerts to"  # what YAML does
    [warning] = cut_values(text, "Pulumi.financial.yaml")
    assert warning.startswith("Pulumi.financial.yaml:3: the value 'Trading alerts to' ends where '#trading-alerts'")
    assert '"Trading alerts to #trading-alerts"' in warning


def test_columns_count_characters_not_bytes() -> None:
    [warning] = cut_values("a:\n  d: Überweisungen — Alerts… to #trading\n  e: ok — fine # a comment\n", "f.yaml")
    assert warning.startswith("f.yaml:2: the value 'Überweisungen — Alerts… to' ends where '#trading' begins")


@pytest.mark.parametrize("text", [
    "a: unix:///var/run/docker.sock  # The local Docker engine\n",  # a comment: '#' then a space
    'color: "#2563eb"\n',  # quoted
    "channel: '#platform-alerts'\n",
    "# whole-line comment #with-tag\nb: 1\n",
    "url: https://example.test/a#fragment\n",  # no space before '#': part of the value
    "not: [valid: yaml\n",  # broken YAML is the parser's to report
])
def test_comments_quoted_values_and_fragments_are_not_reported(text: str) -> None:
    assert cut_values(text, "f.yaml") == []


@pytest.mark.parametrize("name", ["Pulumi.platform.yaml", "Pulumi.financial.yaml"])
def test_the_committed_stack_files_lose_no_value_to_a_comment(name: str) -> None:
    assert cut_values_in_file(ROOT / name, name) == []


def test_a_missing_file_has_nothing_to_report(tmp_path: Path) -> None:
    assert cut_values_in_file(tmp_path / "Pulumi.none.yaml", "Pulumi.none.yaml") == []
