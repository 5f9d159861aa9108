"""A stack deployed by an earlier release upgrades without changing any resource.

Earlier releases named a stack's components after the workspace id (``homeops-financial``,
``homeops-financial-platform-link``, ``homeops-financial-github-sync``); they are now named by the
stack's concern, with aliases to the old names (components/naming.py). The real engine resolves
those aliases: a stack created under the old names previews with no change under the new ones.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from testkit.engine import ROOT, PulumiProject
from tests.engine.quickstart import secret_value
from windmill_emulator import WindmillEmulator

# How the earlier release's __main__.py named the components (each replacement must apply).
EARLIER_NAMES = {
    'concern = settings.domain or "platform"': "concern = settings.workspace.id",
    '        "platform-link",\n': '        f"{settings.workspace.id}-platform-link",\n',
    '        "github-sync",\n': '        f"{settings.workspace.id}-github-sync",\n',
}
FINANCIAL_SECRETS = ("alpaca_api_key_id", "alpaca_api_secret_key", "fmp_api_key", "trading_db_password",
                     "trading_alerts_slack_webhook")


def earlier_main() -> str:
    text = (ROOT / "__main__.py").read_text()
    for new, old in EARLIER_NAMES.items():
        assert new in text, f"__main__.py no longer has {new!r}: update this test's model of the old names"
        text = text.replace(new, old)
    return text


def test_a_stack_deployed_under_the_workspace_id_names_upgrades_with_no_change(tmp_path: Path) -> None:
    emulator = WindmillEmulator().start()
    try:
        with httpx.Client(base_url=emulator.url + "/api",
                          headers={"Authorization": f"Bearer {emulator.admin_token}"}) as api:
            # The platform workspace the financial stack's trigger token is stored in.
            assert api.post("/workspaces/create", json={"id": "homeops-platform", "name": "p"}).status_code == 200
        for email in ("trader@homeops.example", "analyst@homeops.example"):
            emulator.add_instance_user(email)
        project = PulumiProject(tmp_path)
        main = project.dir / "__main__.py"
        main.unlink()
        main.write_text(earlier_main())
        project.pulumi("stack", "init", "financial", "--secrets-provider", "passphrase")
        project.pulumi("config", "rm", "--stack", "financial", "githubSync")
        # One command (each `config set --secret` pays the passphrase's key derivation again).
        project.pulumi("config", "set-all", "--stack", "financial", "--path", f"--plaintext=windmillUrl={emulator.url}",
                       f"--secret=windmillToken={emulator.admin_token}",
                       *(f"--secret=secrets.{name}={secret_value(name)}" for name in FINANCIAL_SECRETS))
        project.pulumi("up", "--stack", "financial", "--yes")
        old_urns = project.pulumi("stack", "--stack", "financial", "--show-urns").output
        assert "homeops-financial-folder-atom" in old_urns
        assert "homeops-financial-platform-link-services-token" in old_urns

        main.unlink()
        main.symlink_to(ROOT / "__main__.py")
        emulator.clear_requests()
        preview = project.pulumi("preview", "--stack", "financial", "--expect-no-changes", "--diff")
        assert "to create" not in preview.output and "to delete" not in preview.output, preview.output
        project.pulumi("up", "--stack", "financial", "--yes")
        assert [r for r in emulator.requests if r.method != "GET"] == []
        new_urns = project.pulumi("stack", "--stack", "financial", "--show-urns").output
        assert "financial-folder-atom" in new_urns and "homeops-financial-folder-atom" not in new_urns
        assert "platform-link-services-token" in new_urns
    finally:
        emulator.stop()
