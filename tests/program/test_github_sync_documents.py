"""The documents GitHubSync writes to the repository: the sync workflow (triggers, least privilege,
pinned actions, the wmill push) and the ``wmill.yaml`` that keeps Pulumi-owned items out of the sync."""

from __future__ import annotations

import pytest
import yaml

from components import github_sync as gs
from components.config import github_sync as sync_config
from tests.program.github_sync_cases import args_for, load_workflow, parse


@pytest.mark.parametrize("name", ["platform", "financial", "media"])
def test_workflow_structure(name: str) -> None:
    args = args_for(name)
    text = gs.render_workflow(args)
    wf = load_workflow(text)
    suffix = sync_config.secret_suffix(args.domain)

    # The text is a dump of the data: parsing it gives the document back.
    assert wf == gs.build_workflow(args)
    assert text.startswith("# Managed by Pulumi")

    # Triggers: push to the branch, filtered by the workspace folder; manual runs for the first sync.
    assert wf["on"] == {
        "push": {"branches": ["main"], "paths": [f"{args.folder}/**"]},
        "workflow_dispatch": {},
    }
    assert set(wf["jobs"]) == {"sync"}
    job = wf["jobs"]["sync"]
    # Only on the sync branch (a manual run from any other branch is skipped), never for [WM] commits.
    assert job["if"] == (
        "${{ github.ref == 'refs/heads/main' && !startsWith(github.event.head_commit.message, '[WM]') }}"
    )
    assert job["runs-on"] == "ubuntu-latest"
    assert job["environment"] == sync_config.default_environment_name(args.domain)

    # Least privilege: nothing at the top, read-only contents for the one job.
    assert wf["permissions"] == {}
    assert job["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {"group": f"windmill-sync-{args.workspace_id}", "cancel-in-progress": False}

    checkout, node, install, record, push = job["steps"]
    # Who pushed which commit to which workspace is on the run (cross-system calls are visible), and
    # the record step never sees the token.
    assert record["env"]["ACTOR"] == "${{ github.actor }}" and "WMILL_TOKEN" not in record["env"]
    assert record["run"].startswith('echo "::notice title=Windmill sync::$ACTOR pushes $COMMIT to $WMILL_WORKSPACE')
    assert checkout["uses"] == "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
    assert checkout["with"] == {"persist-credentials": False}
    assert node["uses"] == "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020"
    assert node["with"]["package-manager-cache"] is False
    assert install["run"] == "npm install --global windmill-cli@1.819.0"

    assert push["working-directory"] == args.folder
    assert push["env"] == {
        "WMILL_URL": f"${{{{ vars.WMILL_URL{suffix} }}}}",
        "WMILL_WORKSPACE": f"${{{{ vars.WMILL_WORKSPACE{suffix} }}}}",
        "WMILL_TOKEN": f"${{{{ secrets.WMILL_TOKEN{suffix} }}}}",
    }
    command = push["run"].split()
    assert command[:3] == ["wmill", "sync", "push"]
    for flag in ("--yes", "--skip-variables", "--skip-secrets", "--skip-resources"):
        assert flag in command
    assert push["run"].endswith('--workspace "$WMILL_WORKSPACE" --token "$WMILL_TOKEN" --base-url "$WMILL_URL"')
    # Values reach scripts only through env; no expression is expanded into a shell script.
    for step in job["steps"]:
        assert "${{" not in step.get("run", "")
    # Each pinned action carries its tag as a comment for humans and Dependabot.
    assert "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1" in text
    assert "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0" in text


def test_workflows_of_different_workspaces_do_not_share_a_concurrency_group() -> None:
    groups = {gs.build_workflow(args_for(n))["concurrency"]["group"] for n in ("platform", "financial", "media")}
    assert len(groups) == 3


def test_workflow_with_environment_and_self_hosted_runner() -> None:
    args = parse(
        {
            "repository": "HomeOps",
            "owner": "o",
            "branch": "trunk",
            "runsOn": ["self-hosted", "homelab"],
            "cliVersion": "1.650.2",
            "environment": {"name": "windmill-financial"},
        },
        domain="financial",
    )
    wf = load_workflow(gs.render_workflow(args))
    job = wf["jobs"]["sync"]
    assert wf["on"]["push"]["branches"] == ["trunk"]
    assert job["if"].startswith("${{ github.ref == 'refs/heads/trunk' && ")
    assert job["runs-on"] == ["self-hosted", "homelab"]
    assert job["environment"] == "windmill-financial"
    assert job["steps"][2]["run"] == "npm install --global windmill-cli@1.650.2"


def test_wmill_yaml_keeps_pulumi_owned_items_out_of_scope() -> None:
    text = gs.render_wmill_yaml(args_for("platform"))
    document = yaml.safe_load(text)
    assert document == gs.build_wmill_yaml()
    assert document["includes"] == ["f/**"]
    assert document["excludes"] == []
    assert document["defaultTs"] == "bun"
    for key in ("skipVariables", "skipSecrets", "skipResources", "skipResourceTypes"):
        assert document[key] is True, key
    for key in (
        "includeSchedules",
        "includeTriggers",
        "includeUsers",
        "includeGroups",
        "includeSettings",
        "includeKey",
    ):
        assert document[key] is False, key
    # Absent, these fall back to defaults that differ between wmill versions and `wmill init`
    # (found by tests/wmill with wmill 1.819: the legacy sync behaviour v0 was used).
    assert (document["syncBehavior"], document["nonDottedPaths"]) == ("v1", False)
    assert document["skipWorkspaceDependencies"] is False and document["skipDatatableMigrations"] is False
