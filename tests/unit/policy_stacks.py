"""Builders for the policy pack's unit tests: resources and stacks as the SDK hands them to a policy
(``ResourceValidationArgs`` / ``StackValidationArgs`` with proxied props), and the stacks several
policy groups are tested on (a platform link, the Docker-hosted Postgres)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.homeops_policy import model

WM = "pulumi-python:dynamic/windmill:"
GENERIC = "pulumi-python:dynamic:Resource"
CONTAINER, VOLUME, IMAGE, PASSWORD = model.CONTAINER, model.VOLUME, model.REMOTE_IMAGE, model.RANDOM_PASSWORD
ACTIONS_SECRET = "github:index/actionsSecret:ActionsSecret"
ACTIONS_VARIABLE = "github:index/actionsVariable:ActionsVariable"
TYPE_NAMES = {"workspace": "Workspace", "folder": "Folder", "group": "Group", "member": "Member",
              "variable": "Variable", "resource": "Resource", "resource_type": "ResourceType", "token": "Token",
              "readiness_gate": "ReadinessGate"}
SECRET_VALUE = "hunter2-0f8a7c6e5d4b3a29"  # a password that must never appear in a message


def urn(typ: str, name: str) -> str:
    return f"urn:pulumi:test::homeops-windmill::{typ}::{name}"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource(typ: str, props: dict[str, Any], *, name: str = "r", protect: bool = False,
             config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(typ, unknown_checking_proxy(props), urn(typ, name), name, options(protect), None,
                                  config)


def wm_props(kind: str, **props: Any) -> dict[str, Any]:
    return {"windmill_kind": kind, **props}


class StackBuilder:
    """Resources of one stack, with the property dependencies the engine reports."""

    def __init__(self) -> None:
        self.resources: list[PolicyResource] = []

    def add(self, typ: str, name: str, props: dict[str, Any], *, protect: bool = False,
            depends: dict[str, list[PolicyResource]] | None = None) -> PolicyResource:
        deps = depends or {}
        entry = PolicyResource(typ, unknown_checking_proxy(props), urn(typ, name), name, options(protect), None, None,
                               [d for ds in deps.values() for d in ds], dict(deps))
        self.resources.append(entry)
        return entry

    def wm(self, kind: str, resource_name: str, /, *, depends: dict[str, list[PolicyResource]] | None = None,
           **props: Any) -> PolicyResource:
        return self.add(WM + TYPE_NAMES[kind], resource_name, wm_props(kind, **props), depends=depends)

    def workspace(self, ws: str, *folders: str) -> None:
        self.wm("workspace", f"{ws}-workspace", workspace_id=ws, name=ws)
        for folder in folders:
            self.wm("folder", f"{ws}-folder-{folder}", workspace=ws, name=folder, summary="", owners=[])

    def args(self, config: dict[str, Any] | None = None) -> StackValidationArgs:
        return StackValidationArgs(self.resources, config)


def violations(policy: Any, args: Any) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def one(policy: Any, args: Any) -> str:
    found = violations(policy, args)
    assert len(found) == 1, found
    return found[0]


def link_stack(token_ws: str, holder_ws: str, scopes: list[str] | str, *, own: str = "homeops-financial",
               own_folders: tuple[str, ...] = ("atom",), description: str = "Runs flows (managed by Pulumi)",
               store: bool = True) -> StackBuilder:
    stack = StackBuilder()
    stack.workspace(own, *own_folders)
    token = stack.wm("token", "link-token", label="link", workspace=token_ws, scopes=scopes)
    if store:
        stack.wm("variable", "link-variable", depends={"value": [token]}, workspace=holder_ws,
                 path="f/deployment/financial_trigger_token" if holder_ws != own else "f/atom/platform_token",
                 value=UNKNOWN_STRING_VALUE, is_secret=True, description=description)
    return stack


POSTGRES = {
    "image": "sha256:pg", "command": ["postgres", "-c", "max_connections=100"],
    "healthcheck": {"tests": ["CMD-SHELL", "pg_isready -U postgres -d windmill"]},
    "volumes": [{"volumeName": "windmill_db_data", "containerPath": "/var/lib/postgresql/data"}],
    "envs": [f"POSTGRES_PASSWORD={SECRET_VALUE}", "POSTGRES_DB=windmill"],
}


def postgres_stack(*, protect_volume: bool = True, protect_password: bool = True,
                   **overrides: Any) -> StackBuilder:
    stack = StackBuilder()
    stack.workspace("homeops-platform", "infrastructure")
    password = stack.add(PASSWORD, "windmill-db-password", {"length": 32.0}, protect=protect_password)
    volume = stack.add(VOLUME, "windmill-db-data", {"name": "windmill_db_data"}, protect=protect_volume)
    stack.add(CONTAINER, "windmill-db", {**POSTGRES, **overrides},
              depends={"envs": [password], "volumes": [volume]})
    return stack
