"""The alert forwarder Pulumi deploys survives the sync: the real ``wmill sync push`` with the
generated ``wmill.yaml`` leaves it alone because the domain's sync scope excludes its path, and
without that exclude the same push deletes it (so the exclude is what protects it)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from components.alerting import FORWARDER_SCHEMA, FORWARDER_SUMMARY, forwarder_content
from components.config.automation import sync_scope
from components.config.platform_link import PlatformLinkArgs
from components.windmill.scripts import ScriptProvider
from testkit.wmill_site import FIXTURES, provision, runner_for, sync_args
from windmill_emulator import WindmillEmulator

FORWARDER = "f/ops/platform_alert_forwarder"  # in the fixture's folder, which the push owns


def deploy_forwarder(emulator: WindmillEmulator, workspace: str) -> None:
    """What the domain's PlatformLink does on `pulumi up`."""
    provider = ScriptProvider()
    inputs = {"workspace": workspace, "path": FORWARDER, "content": forwarder_content(), "language": "python3",
              "summary": FORWARDER_SUMMARY, "schema": FORWARDER_SCHEMA,
              "api_url": emulator.url, "api_token": emulator.admin_token}
    checked = provider.check({}, inputs)
    assert not checked.failures
    provider.create(checked.inputs)


@pytest.mark.parametrize("excluded", [True, False], ids=["excluded", "without-the-exclude"])
def test_a_push_never_prunes_the_forwarder(excluded: bool, wmill: Path, emulator: WindmillEmulator,
                                           tmp_path: Path) -> None:
    link = PlatformLinkArgs(
        domain="financial", domain_workspace="homeops-financial", platform_workspace="homeops-platform",
        service_variable="f/ops/platform_services_token", service_flows=("f/monitoring/alert_dispatcher",),
        alert_dispatcher="f/monitoring/alert_dispatcher", alert_forwarder=FORWARDER,
    )
    args = sync_scope(sync_args("financial"), link) if excluded else sync_args("financial")
    assert (FORWARDER + ".*" in args.excludes) is excluded
    site = provision(emulator, args.workspace_id)
    deploy_forwarder(emulator, site.workspace)
    runner = runner_for(args, site, wmill, tmp_path / "repo")
    runner.checkout(FIXTURES / "windmill")

    _record, push = runner.run_job()
    assert push.returncode == 0, push.output
    headers = {"Authorization": f"Bearer {emulator.admin_token}"}
    live = httpx.get(f"{emulator.url}/api/w/{site.workspace}/scripts/get/p/{FORWARDER}", headers=headers)
    touched = [f"{r.method} {r.path}" for r in push.mutating if FORWARDER in r.path]
    if excluded:
        assert touched == [], push.output
        assert live.status_code == 200 and not live.json()["archived"]
        assert live.json()["content"] == forwarder_content()
    else:
        assert touched, push.output  # the push deletes what the repository folder does not hold
        assert live.status_code == 404 or live.json()["archived"] or live.json()["deleted"]
