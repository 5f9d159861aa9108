"""check and diff of every Windmill resource: valid and invalid inputs, what replaces, what updates.

These run the provider methods directly; the same code runs inside the provider host in
test_provider_lifecycle.py.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.windmill.folders import FolderProvider
from components.windmill.groups import GroupProvider
from components.windmill.members import MemberProvider
from components.windmill.resource_types import ResourceTypeProvider
from components.windmill.resources import ResourceProvider
from components.windmill.tokens import TokenProvider
from components.windmill.variables import VariableProvider
from components.windmill.workspaces import WorkspaceProvider

VALID: dict[type, dict[str, Any]] = {
    WorkspaceProvider: {"workspace_id": "homeops-platform", "name": "HomeOps platform", "color": "#1f6feb"},
    FolderProvider: {"workspace": "homeops-platform", "name": "monitoring", "owners": ["g/platform"]},
    GroupProvider: {"workspace": "homeops-financial", "name": "financial-tracker", "members": ["alice"]},
    MemberProvider: {"workspace": "homeops-financial", "email": "alice@example.com", "role": "admin"},
    VariableProvider: {"workspace": "homeops-financial", "path": "f/atom/alpaca_key", "value": "s3cr3t-value"},
    ResourceProvider: {
        "workspace": "homeops-financial",
        "path": "f/atom/alpaca",
        "resource_type": "c_alpaca",
        "value": {"key_id": "$var:f/atom/alpaca_key_id", "paper": True},
    },
    ResourceTypeProvider: {
        "workspace": "homeops-financial",
        "name": "c_alpaca",
        "schema": {"type": "object", "properties": {"key_id": {"type": "string"}}},
    },
    TokenProvider: {"label": "github-sync", "workspace": "homeops-financial", "scopes": ["jobs:run:flows:f/atom/*"]},
}

IDENTITY = {
    WorkspaceProvider: ["workspace_id"],
    FolderProvider: ["workspace", "name"],
    GroupProvider: ["workspace", "name"],
    MemberProvider: ["workspace", "email"],
    VariableProvider: ["workspace", "path"],
    ResourceProvider: ["workspace", "path"],
    ResourceTypeProvider: ["workspace", "name"],
    TokenProvider: ["label", "workspace", "scopes", "expiration"],
}

MUTABLE_CHANGES: dict[type, dict[str, Any]] = {
    WorkspaceProvider: {"name": "Renamed", "color": "#000000", "deletion_mode": "delete"},
    FolderProvider: {"summary": "new", "owners": ["g/ops"], "extra_perms": {"g/readers": False}},
    GroupProvider: {"summary": "team", "members": ["alice", "bob"]},
    MemberProvider: {"role": "operator"},
    VariableProvider: {"value": "other", "is_secret": False, "description": "d"},
    ResourceProvider: {"value": {"paper": False}, "description": "d", "resource_type": "c_other"},
    ResourceTypeProvider: {"schema": {"type": "object"}, "description": "d"},
    TokenProvider: {"api_token": "rotated-admin-token"},  # only the connection changes in place
}
CONNECTION_CHANGES = {"api_url": "https://other.example", "api_token": "rotated", "api_connect_timeout_seconds": 9,
                      "api_read_timeout_seconds": 90}

KINDS = {
    WorkspaceProvider: "workspace", FolderProvider: "folder", GroupProvider: "group", MemberProvider: "member",
    VariableProvider: "variable", ResourceProvider: "resource", ResourceTypeProvider: "resource_type",
    TokenProvider: "token",
}

NEW_IDENTITY = {
    "workspace_id": "homeops-media",
    "workspace": "homeops-media",
    "name": "renamed",
    "email": "bob@example.com",
    "path": "f/atom/other",
    "label": "renamed",
    "scopes": ["variables:read"],
    "expiration": "2030-01-01T00:00:00Z",
}

INVALID: list[tuple[type, str, Any, str]] = [
    (WorkspaceProvider, "workspace_id", "bad--id", "single hyphens"),
    (WorkspaceProvider, "workspace_id", "-lead", "single hyphens"),
    (WorkspaceProvider, "workspace_id", "x" * 51, "at most 50"),
    (WorkspaceProvider, "workspace_id", "global", "reserved"),
    (WorkspaceProvider, "workspace_id", "admins", "reserved"),
    (WorkspaceProvider, "name", "n" * 51, "at most 50"),
    (WorkspaceProvider, "color", "blue", "#rrggbb"),
    (WorkspaceProvider, "deletion_mode", "drop", "'archive' or 'delete'"),
    (WorkspaceProvider, "adopt", "yes", "true or false"),
    (FolderProvider, "name", "with-hyphen", "no hyphens"),
    (FolderProvider, "owners", ["alice"], "u/<username> or g/<group>"),
    (FolderProvider, "extra_perms", {"g/ops": "write"}, "true (write) or false (read)"),
    (FolderProvider, "workspace", "bad space", "single hyphens"),
    (GroupProvider, "name", "has space", "letters, digits"),
    (GroupProvider, "name", "all", "built-in"),
    (GroupProvider, "members", ["u/alice"], "usernames"),
    (MemberProvider, "email", "Alice@Example.com", "lowercase email"),
    (MemberProvider, "email", "not-an-email", "lowercase email"),
    (MemberProvider, "role", "owner", "admin, developer, operator"),
    (VariableProvider, "path", "atom/key", "u/<user>/<name>"),
    (VariableProvider, "path", "f/only_one", "u/<user>/<name>"),
    (VariableProvider, "path", "f/a/" + "x" * 260, "at most 255"),
    (VariableProvider, "value", "x" * 15001, "at most 15000"),
    (VariableProvider, "value", 42, "must be a string"),
    (VariableProvider, "is_secret", "true", "true or false"),
    (ResourceProvider, "resource_type", "bad type!", "letters, digits"),
    (ResourceProvider, "value", {"password": "$var:not a path"}, "value.password: reference"),
    (ResourceTypeProvider, "schema", {"type": "string"}, "type is 'object'"),
    (ResourceTypeProvider, "name", "x" * 51, "1 to 50"),
    (TokenProvider, "scopes", ["everything"], "jobs:run:flows"),
    (TokenProvider, "expiration", "next week", "RFC 3339"),
    (TokenProvider, "expiration", "2030-01-01T00:00:00", "time zone"),
    (TokenProvider, "workspace", "admins", "reserved"),
    (FolderProvider, "api_url", "https://windmill.example/api", "without /api"),
    (FolderProvider, "api_url", "windmill.example", "http(s) URL"),
    (FolderProvider, "api_connect_timeout_seconds", 0, "> 0"),
    (FolderProvider, "api_read_timeout_seconds", 601, "<= 600"),
    (FolderProvider, "api_read_timeout_seconds", "30", "must be an integer or a number"),
    (FolderProvider, "windmill_kind", "group", "always 'folder'"),
]


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_valid_inputs_pass_check_with_defaults_applied(provider_class: type) -> None:
    result = provider_class().check({}, dict(VALID[provider_class]))
    assert result.failures == []
    for key, value in VALID[provider_class].items():
        assert result.inputs[key] == value
    for spec in provider_class.declaration.all_inputs:
        if spec.default is not None:
            assert spec.name in result.inputs, f"default of {spec.name} not applied"


@pytest.mark.parametrize(("provider_class", "field", "value", "fragment"), INVALID,
                         ids=[f"{c.__name__}-{f}-{i}" for i, (c, f, _, _) in enumerate(INVALID)])
def test_invalid_input_fails_check_naming_the_field(provider_class: type, field: str, value: Any,
                                                    fragment: str) -> None:
    result = provider_class().check({}, {**VALID[provider_class], field: value})
    assert [f.property for f in result.failures] == [field]
    assert fragment in result.failures[0].reason


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_missing_required_field_and_unknown_keys_fail(provider_class: type) -> None:
    required = [s.name for s in provider_class.declaration.inputs if s.required]
    inputs = {k: v for k, v in VALID[provider_class].items() if k != required[-1]}
    inputs["surprise"] = 1
    failures = {f.property: f.reason for f in provider_class().check({}, inputs).failures}
    assert "is required" in failures[required[-1]]
    assert "unknown input" in failures["surprise"]


def test_secret_value_never_appears_in_a_check_failure() -> None:
    secret = "hunter2-" + "x" * 15000
    result = VariableProvider().check({}, {**VALID[VariableProvider], "value": secret})
    assert result.failures
    assert all("hunter2" not in f.reason for f in result.failures)


def test_unknown_values_pass_check_during_preview() -> None:
    unknown = pulumi.output.Unknown()
    result = VariableProvider().check({}, {**VALID[VariableProvider], "workspace": unknown, "value": unknown})
    assert result.failures == []


def _state(provider_class: type) -> dict[str, Any]:
    """Outputs as stored after a create: checked inputs plus the provider blob."""
    inputs = provider_class().check({}, dict(VALID[provider_class])).inputs
    return {**inputs, "__provider": "old-blob"}


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_no_change_means_no_diff_even_when_the_provider_blob_changed(provider_class: type) -> None:
    news = {**provider_class().check({}, dict(VALID[provider_class])).inputs, "__provider": "new-blob"}
    diff = provider_class().diff("id", _state(provider_class), news)
    assert diff.changes is False
    assert diff.replaces == []


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_identity_change_replaces(provider_class: type) -> None:
    for key in IDENTITY[provider_class]:
        news = provider_class().check({}, {**VALID[provider_class], key: NEW_IDENTITY[key]}).inputs
        diff = provider_class().diff("id", _state(provider_class), news)
        assert diff.changes is True
        assert diff.replaces == [key]


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_other_changes_update_in_place(provider_class: type) -> None:
    for key, value in MUTABLE_CHANGES[provider_class].items():
        news = provider_class().check({}, {**VALID[provider_class], key: value}).inputs
        diff = provider_class().diff("id", _state(provider_class), news)
        assert diff.changes is True, key
        assert diff.replaces == [], key


def test_unknown_identity_is_a_conservative_replace_and_unknown_value_an_update() -> None:
    unknown = pulumi.output.Unknown()
    state = _state(VariableProvider)
    diff = VariableProvider().diff("id", state, {**state, "path": unknown})
    assert diff.replaces == ["path"]
    diff = VariableProvider().diff("id", state, {**state, "value": unknown})
    assert diff.changes is True and diff.replaces == []


def test_numbers_from_the_wire_compare_equal_to_ints() -> None:
    state = _state(ResourceProvider)
    state["value"] = {"port": 5432}
    diff = ResourceProvider().diff("id", state, {**state, "value": {"port": 5432.0}})
    assert diff.changes is False


def test_owner_and_member_order_is_not_a_change() -> None:
    state = {**_state(FolderProvider), "owners": ["g/a", "u/b"]}
    assert FolderProvider().diff("id", state, {**state, "owners": ["u/b", "g/a"]}).changes is False
    state = {**_state(GroupProvider), "members": ["alice", "bob"]}
    assert GroupProvider().diff("id", state, {**state, "members": ["bob", "alice"]}).changes is False


def test_connection_change_is_an_update_not_a_replace() -> None:
    state = {**_state(VariableProvider), "api_token": "old"}
    diff = VariableProvider().diff("id", state, {**state, "api_token": "rotated"})
    assert diff.changes is True and diff.replaces == []


def test_folder_owner_without_write_is_refused() -> None:
    result = FolderProvider().check({}, {**VALID[FolderProvider], "extra_perms": {"g/platform": False}})
    assert [f.property for f in result.failures] == ["extra_perms"]


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_every_resource_declares_its_windmill_kind_as_an_input_default(provider_class: type) -> None:
    result = provider_class().check({}, dict(VALID[provider_class]))
    assert result.inputs["windmill_kind"] == KINDS[provider_class] == provider_class.declaration.kind


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_connection_changes_update_in_place(provider_class: type) -> None:
    for key, value in CONNECTION_CHANGES.items():
        news = provider_class().check({}, {**VALID[provider_class], key: value}).inputs
        diff = provider_class().diff("id", _state(provider_class), news)
        assert diff.changes is True and diff.replaces == [], key


@pytest.mark.parametrize("provider_class", list(VALID), ids=lambda c: c.__name__)
def test_state_written_before_a_field_existed_shows_no_diff(provider_class: type) -> None:
    """A field added later with a default (windmill_kind, the timeouts) is not a change for old state."""
    news = provider_class().check({}, dict(VALID[provider_class])).inputs
    old = {k: v for k, v in _state(provider_class).items()
           if k not in ("windmill_kind", "api_connect_timeout_seconds", "api_read_timeout_seconds")}
    assert provider_class().diff("id", old, news).changes is False
    assert provider_class().diff("id", old, {**news, "api_read_timeout_seconds": 31}).changes is True
