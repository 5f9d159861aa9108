"""docs/workspaces.md is generated from every Pulumi.<stack>.yaml and is never out of date; a new
domain stack shows up in each part of it; no value from a stack file reaches it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from components.docs import architecture
from components.docs.stacks import domain_tokens, read_stacks

ROOT = Path(__file__).resolve().parents[2]

MEDIA = {
    "config": {
        "homeops-windmill:role": "domain",
        "homeops-windmill:domain": "media",
        "homeops-windmill:workspace": {
            "name": "HomeOps Media",
            "folders": [{"name": "media", "summary": "Media stack automation"}],
            "variables": [{"path": "f/media/jellyfin_api_key", "secret": "jellyfin_api_key"},
                          {"path": "f/media/library_root", "value": "/srv/media-library-root"}],
            "resourceTypes": [{"name": "c_jellyfin", "schema": {"type": "object"}}],
            "resources": [{"path": "f/media/jellyfin", "type": "c_jellyfin",
                           "value": {"url": "http://jellyfin.internal:8096",
                                     "api_key": "$var:f/media/jellyfin_api_key"}}],
            "schedules": [{"path": "f/media/library_scan", "schedule": "0 0 4 * * *", "timezone": "Europe/Paris",
                           "script": "f/media/scan_library", "onFailure": {"script": "f/media/notify"}}],
        },
        "homeops-windmill:platformLink": {
            "services": {"variable": "f/media/platform_services_token", "flows": ["f/monitoring/alert_dispatcher"]},
            "triggers": {"flows": ["f/media/refresh_library"]},
            "alerts": {"dispatcher": "f/monitoring/alert_dispatcher", "forwarder": "f/media/platform_alert_forwarder"},
        },
        "homeops-windmill:githubSync": {"owner": "homeops", "repository": "HomeOps", "branch": "media-release",
                                        "folder": "subprojects/media-stack/windmill", "workflowFile": "media-sync.yml"},
    }
}


def test_the_committed_document_is_up_to_date() -> None:
    expected = architecture.render(read_stacks(ROOT))
    committed = (ROOT / architecture.DOC).read_text()
    assert committed == expected, f"{architecture.DOC} is out of date; run: {architecture.COMMAND}"


def test_it_names_paths_and_types_never_values() -> None:
    text = (ROOT / architecture.DOC).read_text()
    stack_text = "".join(p.read_text() for p in ROOT.glob("Pulumi.*.yaml"))
    for value in ("paper-api.alpaca.markets", "timescaledb.homeops.example", "registry.homeops.example",
                  "homeops-deploy", "$var:"):
        assert value in stack_text  # a value the stack files hold…
        assert value not in text  # …that the document does not show


@pytest.fixture
def with_media(tmp_path: Path) -> Path:
    for name in ("Pulumi.platform.yaml", "Pulumi.financial.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.media.yaml").write_text(yaml.safe_dump(MEDIA))
    return tmp_path


def test_a_media_domain_appears_in_every_part(with_media: Path) -> None:
    views = read_stacks(with_media)
    assert [v.stack for v in views] == ["platform", "financial", "media"]
    text = architecture.render(views)
    assert ("| `homeops-media` | `media` | domain (media) | HomeOps Media | "
            "`subprojects/media-stack/windmill/` |") in text
    assert ("| `subprojects/media-stack/windmill/**` | `media-release` | `.github/workflows/media-sync.yml` | "
            "`homeops-media` | `WMILL_URL_MEDIA`, `WMILL_WORKSPACE_MEDIA` (variables), `WMILL_TOKEN_MEDIA` (secret) |"
            ) in text  # the stack's own branch, not main
    # The calls: media → platform services and alerts, platform → media trigger, as rows and edges.
    assert ("| `homeops-media` | `homeops-platform` | flow `f/monitoring/alert_dispatcher` | "
            "`f/media/platform_services_token` in homeops-media | domain calls a platform service; its job "
            "failures, through the error handler `f/media/platform_alert_forwarder` |") in text
    assert ("| `homeops-platform` | `homeops-media` | flow `f/media/refresh_library` | "
            "`f/deployment/media_trigger_token` in homeops-platform | platform triggers a domain flow |") in text
    assert 'homeops_media -- "flow f/monitoring/alert_dispatcher (alerts)" --> homeops_platform' in text
    assert 'homeops_platform -- "flow f/media/refresh_library" --> homeops_media' in text
    assert "homeops_media -- " in text and "--> homeops_financial" not in text.split("homeops_media --", 1)[1]
    # Its own section: folders, resources by type, the schedule, the error handler.
    media = text.split("## `homeops-media`", 1)[1]
    assert "| `f/media/jellyfin` | `c_jellyfin` |" in media
    assert "| `f/media/library_root` | plain |" in media and "/srv/media-library-root" not in text
    assert "| `f/media/library_scan` | `0 0 4 * * *` (Europe/Paris) | script `f/media/scan_library` |" in media
    assert "created disabled while the sync has not deployed its script or flow yet" in media
    assert ("script `f/media/platform_alert_forwarder` (deployed by Pulumi from "
            "`components/alerting/forwarder.py`)") in media
    assert "jellyfin.internal" not in text


def test_the_platform_lists_every_domain_token_it_holds(with_media: Path) -> None:
    tokens = {t.domain: t.as_output() for t in domain_tokens(read_stacks(with_media))}
    assert tokens["media"] == {"stack": "media", "domain": "media", "workspace": "homeops-media",
                               "variable": "f/deployment/media_trigger_token", "flows": ["f/media/refresh_library"]}
    assert tokens["financial"]["variable"] == "f/deployment/financial_trigger_token"


def test_check_fails_while_the_document_is_stale(with_media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert architecture.main(["--project", str(with_media), "--check"]) == 1
    assert architecture.COMMAND in capsys.readouterr().err
    assert architecture.main(["--project", str(with_media), "--write"]) == 0
    assert architecture.main(["--project", str(with_media), "--check"]) == 0


def test_the_sync_scope_it_states_is_the_generated_wmill_yaml() -> None:
    from components.github_sync import build_wmill_yaml

    kinds = {flag for flag, _ in architecture._SYNC_KINDS}
    assert kinds == {k for k in build_wmill_yaml() if re.fullmatch(r"(skip|include)[A-Z]\w*", k)}
    pushed, left = architecture._sync_scope()
    assert pushed == "scripts, flows, apps, workspace dependencies and data-table migrations"
    assert left.startswith("variables, secrets, resources, resource types, folders, schedules")
