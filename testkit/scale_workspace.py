"""A domain stack whose workspace file declares N objects: half variables, half resources.

Variable ``i`` is a plain value except every ``secret_every``-th, which is a secret taken from the
stack's ``secrets`` config (so the secret values stay in the encrypted stack config, as operators
keep them); resource ``i`` has the custom type ``c_bench`` and references variable ``i`` with
``$var:``, so it waits for it. The workspace, its folder and the type come on top of the N.

``init_stack`` lays the stack out in a ``testkit.engine.PulumiProject`` (the scale benchmark and the
real-engine tier use it); ``floor_objects`` gives the same objects as the provider receives them
(``Declaration.props`` of the same Args), for the benchmark's provider-only floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from components.windmill.base import WindmillProvider
from components.windmill.folders import FolderArgs, FolderProvider
from components.windmill.resource_types import ResourceTypeArgs, ResourceTypeProvider
from components.windmill.resources import ResourceArgs, ResourceProvider
from components.windmill.variables import VariableArgs, VariableProvider
from components.windmill.workspaces import WorkspaceArgs, WorkspaceProvider

if TYPE_CHECKING:
    from testkit.engine import PulumiProject

DOMAIN = "bench"
STACK = DOMAIN
WORKSPACE_FILE = "workspaces/bench.yaml"
WORKSPACE_ID = f"homeops-{DOMAIN}"
FOLDER_NAME = "bench"
TYPE_NAME = "c_bench"
TYPE_SCHEMA = {"type": "object", "properties": {"endpoint": {"type": "string"}, "token": {"type": "string"}}}


@dataclass(frozen=True)
class FloorObject:
    """One object as the provider receives it: its provider, name and inputs (no connection)."""

    provider: type[WindmillProvider]
    name: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class ScaleWorkspace:
    """``objects`` variables and resources (half each) in one workspace."""

    objects: int
    secret_every: int = 10

    @property
    def pairs(self) -> int:
        return self.objects // 2

    def is_secret(self, i: int) -> bool:
        return i % self.secret_every == 0

    def secrets(self) -> dict[str, str]:
        """Plaintext of every secret the workspace names (the benchmark's throwaway values)."""
        return {f"bench_secret_{i:05d}": f"bench-secret-value-{i:05d}" for i in range(self.pairs) if self.is_secret(i)}

    def variable(self, i: int) -> dict[str, Any]:
        entry: dict[str, Any] = {"path": f"f/{FOLDER_NAME}/v_{i:05d}", "description": f"bench variable {i}"}
        if self.is_secret(i):
            entry["secret"] = f"bench_secret_{i:05d}"
        else:
            entry["value"] = f"plain value {i}"
        return entry

    def resource(self, i: int) -> dict[str, Any]:
        return {
            "path": f"f/{FOLDER_NAME}/r_{i:05d}", "type": TYPE_NAME, "description": f"bench resource {i}",
            "value": {"endpoint": f"https://service-{i}.bench.example", "token": f"$var:f/{FOLDER_NAME}/v_{i:05d}"},
        }

    def workspace_file(self) -> dict[str, Any]:
        """The contents of ``workspaces/bench.yaml``: what ``homeops-windmill:workspace`` would hold."""
        return {
            "name": "HomeOps scale benchmark",
            "deletionMode": "delete",  # destroy removes it, so nothing is left between runs
            "folders": [{"name": FOLDER_NAME, "summary": "scale benchmark"}],
            "resourceTypes": [{"name": TYPE_NAME, "schema": TYPE_SCHEMA, "description": "bench type"}],
            "variables": [self.variable(i) for i in range(self.pairs)],
            "resources": [self.resource(i) for i in range(self.pairs)],
        }

    def floor_objects(self) -> tuple[list[FloorObject], list[FloorObject], list[FloorObject]]:
        """(workspace and folder/type, variables, resources) as the program would register them."""
        secrets = self.secrets()
        base = [
            _object(WorkspaceProvider, "workspace", WorkspaceArgs(
                workspace_id=WORKSPACE_ID, name="HomeOps scale benchmark", deletion_mode="delete")),
            _object(FolderProvider, "folder", FolderArgs(
                workspace=WORKSPACE_ID, name=FOLDER_NAME, summary="scale benchmark")),
            _object(ResourceTypeProvider, "type", ResourceTypeArgs(
                workspace=WORKSPACE_ID, name=TYPE_NAME, schema=TYPE_SCHEMA, description="bench type")),
        ]
        variables = []
        for i in range(self.pairs):
            entry = self.variable(i)
            value = secrets[entry["secret"]] if "secret" in entry else entry["value"]
            args = VariableArgs(workspace=WORKSPACE_ID, path=entry["path"], value=value, is_secret="secret" in entry,
                                description=entry["description"])
            variables.append(_object(VariableProvider, f"v_{i:05d}", args))
        resources = []
        for i in range(self.pairs):
            entry = self.resource(i)
            args = ResourceArgs(workspace=WORKSPACE_ID, path=entry["path"], resource_type=TYPE_NAME,
                                value=entry["value"], description=entry["description"])
            resources.append(_object(ResourceProvider, f"r_{i:05d}", args))
        return base, variables, resources


def _object(provider: type[WindmillProvider], name: str, args: Any) -> FloorObject:
    inputs = {k: v for k, v in provider.declaration.props(args).items() if v is not None}
    return FloorObject(provider, name, inputs)


def init_stack(project: PulumiProject, url: str, token: str, workspace: ScaleWorkspace) -> None:
    """The domain stack ``bench`` in ``project``: URL and token set directly (no platform stack),
    contents in ``workspaces/bench.yaml``, secret values set with ``--secret`` in the stack config."""
    (project.dir / "workspaces").mkdir(exist_ok=True)
    (project.dir / WORKSPACE_FILE).write_text(yaml.safe_dump(workspace.workspace_file(), sort_keys=False))
    (project.dir / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": {
        "homeops-windmill:role": "domain", "homeops-windmill:domain": DOMAIN,
        "homeops-windmill:windmillUrl": url, "homeops-windmill:workspaceFile": WORKSPACE_FILE,
    }}))
    project.pulumi("stack", "init", STACK, "--secrets-provider", "passphrase")
    project.pulumi("config", "set", "--stack", STACK, "--secret", "windmillToken", token)
    secrets = [f"--secret=secrets.{name}={value}" for name, value in workspace.secrets().items()]
    if secrets:
        project.pulumi("config", "set-all", "--stack", STACK, "--path", *secrets)
