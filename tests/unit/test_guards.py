"""The cross-section guards (components/config/guards.py): which workspace a stack may manage, the
platform paths a domain owns, plain http to a remote API, Windmill's limits, and the warnings."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.errors import Problems
from components.config.github_sync import GitHubSyncArgs
from components.config.guards import StackView, check_guards, is_loopback_url
from components.config.windmill_stack import WindmillStackArgs
from components.config.workspace import WindmillWorkspaceArgs
from components.windmill.rules import MAX_SECRET_VALUE_BYTES, encrypted_length

PREFIX = "homeops-windmill:"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a bind address under test, nothing binds here


def workspace(**data: Any) -> WindmillWorkspaceArgs:
    parsed = WindmillWorkspaceArgs.from_config(
        {"folders": [{"name": "ops"}], **data}, secret_names={"big", "small", "fine"}, default_id="homeops-platform"
    )
    assert parsed is not None
    return parsed


def stack(**data: Any) -> WindmillStackArgs:
    parsed = WindmillStackArgs.from_config({"enabled": True, **data})
    assert parsed is not None
    return parsed


def sync(domain: str | None = None, **data: Any) -> GitHubSyncArgs:
    ws = "homeops-platform" if domain is None else f"homeops-{domain}"
    parsed = GitHubSyncArgs.from_config({"repository": "HomeOps", "owner": "o", **data}, workspace_id=ws,
                                        domain=domain, windmill_version="1.819.0")
    assert parsed is not None
    return parsed


def run(**view: Any) -> tuple[set[str], list[str], list[str]]:
    """(keys with a problem, problem texts, warning texts) for a StackView with these fields."""
    defaults: dict[str, Any] = {
        "role": "platform", "domain": None, "workspace": None, "windmill_stack": None, "github_sync": None,
        "windmill_url": None, "allow_insecure_http": False, "secrets": {},
    }
    problems = Problems()
    warnings = check_guards(StackView(**{**defaults, **view}), problems)
    return ({e.key.removeprefix(PREFIX) for e in problems.errors}, [str(e) for e in problems.errors],
            [str(w) for w in warnings])


def test_the_committed_shapes_raise_nothing() -> None:
    assert run(workspace=workspace(), windmill_stack=stack(), github_sync=sync()) == (set(), [], [])


# -- which workspace a stack manages ------------------------------------------------------------


@pytest.mark.parametrize(("role", "domain", "workspace_id", "refused"), [
    ("domain", "media", "homeops-financial", True),       # another domain's workspace
    ("platform", None, "homeops-financial", True),        # the platform taking a domain's
    ("domain", "media", "media-workspace", True),         # outside the homeops- namespace
    ("platform", None, "ops", True),
    ("domain", "media", "homeops-media", False),
    ("domain", "financial", "homeops-financial-v2", False),
    ("platform", None, "homeops-platform-v2", False),
    ("domain", "fin", "homeops-financial", True),         # a prefix of another domain is not its own
])
def test_a_stack_manages_only_its_own_workspace(
    role: str, domain: str | None, workspace_id: str, refused: bool
) -> None:
    keys, texts, _ = run(role=role, domain=domain, workspace=workspace(id=workspace_id))
    assert keys == ({"workspace.id"} if refused else set())
    if refused and workspace_id.startswith("homeops-financial"):
        assert "domain financial's workspace" in texts[0]


def test_the_platform_may_not_declare_a_path_a_domain_link_owns() -> None:
    ws = workspace(folders=[{"name": "deployment"}],
                   variables=[{"path": "f/deployment/financial_trigger_token", "value": "x"},
                              {"path": "f/deployment/github_api_token", "value": "y"}],
                   resources=[{"path": "f/deployment/media_trigger_x", "type": "postgresql"}])
    keys, _, _ = run(workspace=ws)
    assert keys == {"workspace.variables[0].path", "workspace.resources[0].path"}


# -- plain http to a remote API -----------------------------------------------------------------


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8000", True), ("http://localhost", True), ("http://[::1]:80", True),
    ("http://windmill.localhost", True), ("http://10.0.0.5", False), ("http://nas.home.arpa:8080", False),
    ("https://windmill.example.com", False),
])
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_plain_http_to_a_remote_windmill_url_is_refused_unless_allowed() -> None:
    keys, texts, warnings = run(windmill_url="http://windmill.lan")
    assert keys == {"windmillUrl"} and "allowInsecureHttp" in texts[0] and warnings == []
    keys, _, warnings = run(windmill_url="http://windmill.lan", allow_insecure_http=True)
    assert keys == set() and len(warnings) == 1 and warnings[0].startswith(f"{PREFIX}windmillUrl: ")
    assert run(windmill_url="https://windmill.lan")[0] == set()
    assert run(windmill_url="http://127.0.0.1:8000")[0] == set()


def test_the_derived_api_url_of_a_remote_docker_host_is_refused_in_plain_http() -> None:
    """Issue 10, 6: dockerHost ssh:// with Caddy on 0.0.0.0 derived http://<host>, so the superadmin
    token crossed the LAN in clear."""
    remote = stack(dockerHost="ssh://deploy@nas.home.arpa", caddy={"bindAddress": ALL_INTERFACES, "port": 8080})
    assert remote.api_url == "http://nas.home.arpa:8080"
    keys, texts, _ = run(windmill_stack=remote)
    assert keys == {"windmillStack.apiUrl"} and "SSH tunnel" in texts[0]
    tunnel = stack(dockerHost="ssh://deploy@nas.home.arpa", apiUrl="http://127.0.0.1:18080")
    assert run(windmill_stack=tunnel)[0] == set()
    # With GitHub sync, the workflow sends its token to the public URL too.
    lan = stack(caddy={"bindAddress": ALL_INTERFACES}, baseUrl="http://windmill.home.arpa", apiUrl="http://127.0.0.1")
    assert run(windmill_stack=lan)[0] == set()
    assert run(windmill_stack=lan, github_sync=sync())[0] == {"windmillStack.baseUrl"}


# -- Windmill's limits --------------------------------------------------------------------------


def test_a_secret_too_long_once_encrypted_is_refused_without_showing_it() -> None:
    assert encrypted_length("x" * MAX_SECRET_VALUE_BYTES) == 15000
    assert encrypted_length("x" * (MAX_SECRET_VALUE_BYTES + 1)) > 15000
    assert encrypted_length("é" * 6000) > 15000  # bytes count, not characters
    big, fine = "S" * 14000, "s" * MAX_SECRET_VALUE_BYTES
    ws = workspace(variables=[{"path": "f/ops/big", "secret": "big"}, {"path": "f/ops/fine", "secret": "fine"}])
    keys, texts, _ = run(workspace=ws, secrets={"big": big, "fine": fine})
    assert keys == {"workspace.variables[0].secret"}
    assert big not in texts[0] and "secrets.big" in texts[0] and "value not shown" in texts[0]


def test_folder_owners_and_permissions_name_groups_of_the_workspace() -> None:
    ws = workspace(
        members=[{"email": "a@example.com"}],
        groups=[{"name": "team", "members": ["a@example.com"]}],
        folders=[{"name": "ops", "owners": ["g/team", "g/ghosts", "u/alice", "g/all"],
                  "extraPerms": {"g/readers": False, "g/team": True}}],
    )
    keys, texts, _ = run(workspace=ws)
    assert keys == {"workspace.folders[0].owners[1]", "workspace.folders[0].extraPerms.g/readers"}
    assert "declared: all, team" in texts[0]


# -- warnings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("view", "key"), [
    ({"windmill_stack": stack(caddy={"domain": "windmill.example.com"})}, "windmillStack.caddy.domain"),
    ({"windmill_stack": stack(caddy={"image": "caddy:2"})}, "windmillStack.caddy.image"),
    ({"windmill_stack": stack(extra={"image": "ghcr.io/windmill-labs/windmill-extra:1.819"})},
     "windmillStack.extra.image"),
    ({"windmill_stack": stack(dockerSshOpts=["-o", "StrictHostKeyChecking=no"], dockerHost="ssh://me@nas",
                              apiUrl="http://127.0.0.1:9000")}, "windmillStack.dockerSshOpts"),
    ({"windmill_stack": stack(dockerSshOpts=["-oUserKnownHostsFile=/dev/null"])}, "windmillStack.dockerSshOpts"),
    ({"windmill_stack": stack(readiness={"timeoutSeconds": 900})}, "windmillStack.readiness.timeoutSeconds"),
    ({"role": "domain", "domain": "media", "github_sync": sync("media", workflowFile="windmill-sync.yml")},
     "githubSync.workflowFile"),
    ({"github_sync": sync(workflowFile="deploy.yml")}, "githubSync.workflowFile"),
    ({"github_sync": sync(environment={"enabled": False})}, "githubSync.environment.enabled"),
])
def test_accepted_but_worth_a_warning(view: dict[str, Any], key: str) -> None:
    keys, _, warnings = run(**view)
    assert keys == set()
    assert [w.split(": ", 1)[0] for w in warnings] == [f"{PREFIX}{key}"]


def test_no_warning_for_pinned_images_kept_host_keys_and_default_names() -> None:
    quiet = stack(caddy={"image": "caddy:2.8.4"}, dockerSshOpts=["-o", "StrictHostKeyChecking=yes"],
                  readiness={"timeoutSeconds": 180})
    assert run(windmill_stack=quiet, github_sync=sync(workflowFile="windmill-sync.yml"))[2] == []
    assert run(role="domain", domain="media", github_sync=sync("media", overwriteWorkflow=False,
                                                               workflowFile="other.yml"))[2] == []
