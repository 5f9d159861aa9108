"""The README's quickstart as the engine tier uses it: the parser and runner live in testkit/quickstart.py
(``python -m testkit.trial`` runs the same lines); this module keeps the tier's imports short."""

from __future__ import annotations

from testkit.quickstart import (
    PLACEHOLDER_URL,
    SecretRow,
    Step,
    quickstart_lines,
    quickstart_secret_env,
    quickstart_secret_names,
    quickstart_steps,
    run_quickstart,
    run_step,
    secret_value,
    secrets_table,
)

__all__ = [
    "PLACEHOLDER_URL",
    "SecretRow",
    "Step",
    "quickstart_lines",
    "quickstart_secret_env",
    "quickstart_secret_names",
    "quickstart_steps",
    "run_quickstart",
    "run_step",
    "secret_value",
    "secrets_table",
]
