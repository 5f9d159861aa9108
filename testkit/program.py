"""Run the whole Pulumi program (``__main__.py``) under mocks, with a stack's configuration.

``load_stack_config("financial")`` reads ``Pulumi.financial.yaml`` as the CLI would (minus
decryption); ``run_program(config, secrets=...)`` installs recording mocks, sets the config (the
``secrets`` map and secret keys marked secret, as ``pulumi config set --secret`` makes them), runs
``__main__.py`` with ``runpy`` and returns what was registered and exported.

``mocks_for`` lets a test decide what each resource returns: plain mocks (inputs echoed back) for
the unit tier, or the real dynamic providers running against the emulator for the end-to-end tier.
"""

from __future__ import annotations

import asyncio
import json
import os
import runpy
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockResourceArgs

from components.config.placeholders import ACCEPT_ENV
from components.config.schema import DEFAULT_WINDMILL_VERSION, PROJECT, SECRET_KEYS
from testkit.mocking import MockEnvironment, install_mocks

ROOT = Path(__file__).resolve().parents[1]

StackOutputs = Mapping[str, Any]

# Plaintext stand-ins for what operators set with `pulumi config set --secret`.
PLATFORM_SECRETS = {
    "windmillToken": "platform-superadmin-token-0123456789",
    "githubToken": "ghp_platformtoken0123456789",
    "wmillSyncToken": "wm-sync-token-platform-012345",
    "secrets": {
        "platform_postgres_password": "pg-pass-8c1e",
        "platform_redis_password": "redis-pass-77aa",
        "platform_timescaledb_password": "tsdb-pass-5b2f",
        "platform_alerts_slack_webhook": "https://hooks.slack.example/T0/B0/platformsecret",
        "github_api_token": "ghp_deploytoken9876543210",
        "docker_registry_password": "registry-pass-41de",
    },
}
FINANCIAL_SECRETS = {
    "githubToken": "ghp_financialtoken0123456789",
    "wmillSyncToken": "wm-sync-token-financial-0123",
    "secrets": {
        "alpaca_api_key_id": "PKALPACAKEYID0001",
        "alpaca_api_secret_key": "alpaca-secret-key-xyz",
        "fmp_api_key": "fmp-key-123abc",
        "trading_db_password": "trading-db-pass-9f",
        "trading_alerts_slack_webhook": "https://hooks.slack.example/T0/B1/tradingsecret",
    },
}
PLATFORM_OUTPUTS = {
    "windmillUrl": "https://windmill.homeops.example",
    "windmillApiUrl": "https://windmill.homeops.example",
    "windmillToken": "platform-superadmin-token-0123456789",
    "windmillVersion": DEFAULT_WINDMILL_VERSION,
    "workspaceId": "homeops-platform",
}


def load_stack_config(stack: str) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml``, keys as written (``project:key``)."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return dict(document.get("config") or {})


def member_username(args: MockResourceArgs) -> dict[str, Any]:
    """What Windmill would name a member: the email's local part without other characters."""
    email = str(args.inputs.get("email", ""))
    return {"username": "".join(ch for ch in email.split("@")[0] if ch.isalnum() or ch == "_")}


DEFAULT_OUTPUTS = {
    "pulumi-python:dynamic/windmill:Member": member_username,
    "docker:index/remoteImage:RemoteImage": lambda a: {"imageId": f"sha256:{a.name}"},
    "pulumi-python:dynamic/windmill:ReadinessGate": lambda a: {"version": f"CE v{DEFAULT_WINDMILL_VERSION}"},
    "pulumi-python:dynamic/windmill:Token": lambda a: {"token": f"minted-{a.name}-token", "token_prefix": "minted-tok"},
}


@dataclass
class ProgramRun:
    """What one program run registered and exported."""

    env: MockEnvironment
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)

    def of_type(self, typ: str) -> list[Any]:
        return self.env.find(typ)


def _config_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def run_program(
    config: Mapping[str, Any],
    *,
    secrets: Mapping[str, Any] | None = None,
    stack: str = "test",
    platform_outputs: StackOutputs | None = None,
    outputs: Mapping[str, Callable[[MockResourceArgs], Mapping[str, Any]]] | None = None,
    default_outputs: Callable[[MockResourceArgs], Mapping[str, Any]] | None = None,
    seen: list[MockEnvironment] | None = None,
    plain_keys: tuple[str, ...] = (),
    preview: bool = False,
    accept_placeholders: bool = True,
) -> ProgramRun:
    """Run ``__main__.py`` under mocks with ``config`` plus ``secrets`` (plaintext, marked secret).

    ``platform_outputs`` answers the domain stacks' StackReference to the platform stack;
    ``default_outputs`` runs for every resource (the end-to-end tier runs real providers there);
    ``seen`` receives the mock environment before the program runs, so a test can inspect what was
    registered even when the program fails; ``plain_keys`` names credential keys to pass as if set
    without ``--secret``; ``preview`` runs it as ``pulumi preview`` does (else as ``pulumi up``).

    ``accept_placeholders`` sets ``HOMEOPS_ACCEPT_PLACEHOLDERS=1`` for the run: the mock tier runs the
    committed stack files (and copies of them) as ``up``, placeholders included, and only the tests of
    the placeholder check itself (tests/program/test_placeholders_program.py) turn it off.
    """
    hooks = {**DEFAULT_OUTPUTS, **(outputs or {})}
    if platform_outputs is not None:
        reference = dict(platform_outputs)
        hooks["pulumi:pulumi:StackReference"] = lambda args: {
            "outputs": reference,
            "secretOutputNames": ["windmillToken"],
        }
    # A fresh root Stack per run: set_mocks keeps an existing one, and with it the previous run's exports.
    pulumi.runtime.settings.ROOT.set(None)
    env = install_mocks(hooks, default_outputs=default_outputs, stack=stack, preview=preview)
    if seen is not None:
        seen.append(env)
    values = {k if ":" in k else f"{PROJECT}:{k}": v for k, v in config.items()}
    values.update({f"{PROJECT}:{k}" if ":" not in k else k: v for k, v in (secrets or {}).items()})
    secret_keys = [
        k for k in values if k.split(":", 1)[1] in SECRET_KEYS and k.split(":", 1)[1] not in plain_keys
    ]
    pulumi.runtime.set_all_config({k: _config_value(v) for k, v in values.items()}, secret_keys)

    run = ProgramRun(env)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        stack_outputs = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
        names = list(stack_outputs)

        def record(values: list[Any]) -> None:
            run.exports.update(zip(names, values, strict=True))

        async def secret_flags() -> None:
            for name in names:
                if await pulumi.Output.from_input(stack_outputs[name]).is_secret():
                    run.secret_exports.add(name)

        flags = pulumi.Output.from_input(asyncio.ensure_future(secret_flags()))
        return pulumi.Output.all(flags, *(stack_outputs[n] for n in names)).apply(lambda v: record(v[1:]))

    with _placeholders_accepted(accept_placeholders):
        program()
    return run


@contextmanager
def _placeholders_accepted(accepted: bool) -> Iterator[None]:
    before = os.environ.pop(ACCEPT_ENV, None)
    if accepted:
        os.environ[ACCEPT_ENV] = "1"
    try:
        yield
    finally:
        os.environ.pop(ACCEPT_ENV, None)
        if before is not None:
            os.environ[ACCEPT_ENV] = before
