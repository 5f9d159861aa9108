"""Every committed stack, read from its ``Pulumi.<stack>.yaml`` with the program's own parsers.

The architecture document (``architecture.py``) and the platform stack's ``domainTokens`` output
are derived from the stack files, never from Windmill: what the repository declares is what a
reviewer approves. Secret values are never read (a variable's ``secret`` is only a name here), so
the model holds paths, names and types, never values. A stack file the program would refuse is
refused here too, with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.errors import ConfigErrors, Problems
from components.config.github_sync import GitHubSyncArgs
from components.config.platform_link import PlatformLinkArgs
from components.config.schema import DEFAULTS, PLATFORM_WORKSPACE, PROJECT
from components.config.workspace import WindmillWorkspaceArgs
from components.config.workspace_file import workspace_source

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StackView:
    """What one stack declares, as the program parses it."""

    stack: str
    role: str
    domain: str | None
    workspace: WindmillWorkspaceArgs
    link: PlatformLinkArgs | None
    sync: GitHubSyncArgs | None

    @property
    def is_platform(self) -> bool:
        return self.role == "platform"


@dataclass(frozen=True)
class DomainToken:
    """A token a domain stack keeps in the platform workspace: the platform may run these flows."""

    stack: str
    domain: str
    workspace: str
    variable: str
    flows: tuple[str, ...]

    def as_output(self) -> dict[str, Any]:
        return {"stack": self.stack, "domain": self.domain, "workspace": self.workspace, "variable": self.variable,
                "flows": list(self.flows)}


def stack_files(project_dir: Path = ROOT) -> list[Path]:
    """``Pulumi.<stack>.yaml`` files of the project, the platform first, then by name."""
    files = [p for p in project_dir.glob("Pulumi.*.yaml") if p.name.count(".") == 2]
    return sorted(files, key=lambda p: (p.name != "Pulumi.platform.yaml", p.name))


def _config(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text()) or {}
    prefix = f"{PROJECT}:"
    values = {k[len(prefix):]: v for k, v in (document.get("config") or {}).items() if k.startswith(prefix)}
    return {**DEFAULTS, **values}


def _secret_names(workspace: Any) -> set[str]:
    """Every secret name the workspace refers to: values are never needed here."""
    variables = workspace.get("variables") if isinstance(workspace, dict) else None
    return {str(v["secret"]) for v in variables or () if isinstance(v, dict) and v.get("secret")}


def read_stack(path: Path, project_dir: Path = ROOT) -> StackView:
    """Parse one stack file; ConfigErrors list every problem, as a preview would."""
    stack = path.name.split(".")[1]
    config = _config(path)
    problems = Problems()
    role = config.get("role") or "platform"
    domain = (config.get("domain") or None) if role == "domain" else None
    source = workspace_source(config.get("workspace"), config.get("workspaceFile"), problems, project_dir)
    workspace = None
    if source is not None:
        default_id = PLATFORM_WORKSPACE if role == "platform" else f"homeops-{domain}"
        workspace = WindmillWorkspaceArgs.from_config(
            source.data, secret_names=_secret_names(source.data), default_id=default_id, key=source.key,
            problems=problems, section=source.section,
        )
    link = sync = None
    if workspace is not None:
        link = PlatformLinkArgs.from_config(
            config.get("platformLink"), role=role, domain=domain, domain_workspace=workspace.id,
            domain_folders={f.name for f in workspace.folders}, platform_workspace=PLATFORM_WORKSPACE,
            problems=problems,
        )
        sync = GitHubSyncArgs.from_config(
            config.get("githubSync"), workspace_id=workspace.id, domain=domain,
            windmill_version=str(config.get("windmillVersion")), problems=problems,
        )
    if problems.errors or workspace is None:
        raise ConfigErrors(list(problems.errors))
    return StackView(stack=stack, role=role, domain=domain, workspace=workspace, link=link, sync=sync)


def read_stacks(project_dir: Path = ROOT) -> list[StackView]:
    """Every stack of the project; a stack file with problems names itself in the error."""
    views = []
    for path in stack_files(project_dir):
        try:
            views.append(read_stack(path, project_dir))
        except ConfigErrors as error:
            error.add_note(f"while reading {path.name}")
            raise
    return views


def domain_tokens(views: list[StackView]) -> list[DomainToken]:
    """The trigger tokens domain stacks keep in the platform workspace, by stack."""
    return [
        DomainToken(stack=v.stack, domain=v.link.domain, workspace=v.link.domain_workspace,
                    variable=v.link.trigger_variable, flows=v.link.trigger_flows)
        for v in views if v.link is not None and v.link.trigger_variable is not None
    ]


def held_domain_tokens(project_dir: Path) -> tuple[list[DomainToken], list[str]]:
    """The domain tokens declared by every readable domain stack file in ``project_dir``, and a
    sentence for each file that could not be read (so one broken domain file cannot fail the
    platform stack, which only reports what the domains declare)."""
    views, unreadable = [], []
    for path in stack_files(project_dir):
        try:
            views.append(read_stack(path, project_dir))
        except (ConfigErrors, OSError, yaml.YAMLError) as error:
            unreadable.append(f"{path.name} could not be read, so its tokens are not listed: {error}")
    return domain_tokens(views), unreadable
