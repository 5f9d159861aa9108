"""The architecture document that writes itself: ``docs/workspaces.md`` from every stack file.

``python -m components.docs.architecture`` prints the document; ``--write`` writes it;
``--check`` exits 1 (naming the command to run) when the committed file is out of date, and
tests/unit/test_architecture_doc.py does the same in the suite. It follows the HomeOps
architecture document's shape (docs/architecture.md): the workspaces and their git folders, the CI/CD mapping (path →
workflow → workspace), each workspace's folders, variables, resources and schedules by name and
type (never a value), its error handling, and the cross-workspace calls that are allowed, as a
table and a diagram. A new domain stack appears the moment its ``Pulumi.<domain>.yaml`` is added.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from components.alerting import FORWARDER_FILE
from components.config.workspace_settings import WorkspaceSettingsSpec
from components.github_sync import build_wmill_yaml

from .stacks import ROOT, StackView, read_stacks

DOC = Path("docs") / "workspaces.md"
COMMAND = "python -m components.docs.architecture --write"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _table(header: Iterable[str], rows: list[tuple[object, ...]]) -> list[str]:
    names = list(header)
    if not rows:
        return ["_none declared_", ""]
    return [_row(*names), _row(*("---" for _ in names)), *(_row(*r) for r in rows), ""]


def _code(text: str | None) -> str:
    return f"`{text}`" if text else ""


def _role(view: StackView) -> str:
    return "platform" if view.is_platform else f"domain ({view.domain})"


def render(views: list[StackView]) -> str:
    """The whole document (deterministic: stacks in file order, items as declared)."""
    lines = [
        "# HomeOps workspaces",
        "",
        f"<!-- Generated from every Pulumi.<stack>.yaml by `{COMMAND}`; do not edit by hand. "
        "tests/unit/test_architecture_doc.py fails while this file is out of date. -->",
        "",
        "One Windmill workspace per concern: `homeops-platform` holds how the system runs (and the shared "
        "services every domain may call), each domain workspace holds what the system does. This file lists "
        "what the stacks declare: names, paths and types, never a value.",
        "",
        *_workspaces(views),
        *_cicd(views),
        *_calls(views),
    ]
    for view in views:
        lines.extend(_workspace_section(view))
    return "\n".join(lines).rstrip("\n") + "\n"


def _workspaces(views: list[StackView]) -> list[str]:
    rows = [(_code(v.workspace.id), _code(v.stack), _role(v), v.workspace.name,
             _code(f"{v.sync.folder}/") if v.sync else "no sync workflow") for v in views]
    return ["## Workspaces", "", *_table(("workspace", "stack", "role", "name", "git folder"), rows)]


def _cicd(views: list[StackView]) -> list[str]:
    rows = []
    for v in views:
        if v.sync is None:
            continue
        names = v.sync.names
        values = f"`{names.url_variable}`, `{names.workspace_variable}` (variables), `{names.token_secret}` (secret)"
        rows.append((_code(f"{v.sync.folder}/**"), _code(v.sync.branch), _code(v.sync.workflow_path),
                     _code(v.workspace.id), values))
    pushed, left = _sync_scope()
    return [
        "## CI/CD mapping", "",
        f"A push to the branch under the path runs the workflow, which runs `wmill sync push` into the workspace: "
        f"{pushed} (the generated `wmill.yaml`); {left} stay out of it. The stack declares the variables, "
        "secrets, resources, resource types, folders, schedules and settings itself.", "",
        *_table(("path", "branch", "workflow", "workspace", "Actions values"), rows),
    ]


# What each wmill.yaml key of components/github_sync.py puts in or leaves out of `wmill sync push`.
_SYNC_KINDS = (
    ("skipScripts", "scripts"), ("skipFlows", "flows"), ("skipApps", "apps"),
    ("skipWorkspaceDependencies", "workspace dependencies"), ("skipDatatableMigrations", "data-table migrations"),
    ("skipVariables", "variables"), ("skipSecrets", "secrets"), ("skipResources", "resources"),
    ("skipResourceTypes", "resource types"), ("skipFolders", "folders"), ("includeSchedules", "schedules"),
    ("includeSettings", "settings"), ("includeTriggers", "triggers"), ("includeUsers", "users"),
    ("includeGroups", "groups"), ("includeKey", "the encryption key"),
)


def _sync_scope() -> tuple[str, str]:
    """(what the generated wmill.yaml pushes, what it leaves out), in words, from the file itself."""
    settings = build_wmill_yaml()
    # A skip… key pushes its kind when false, an include… key when true.
    pushed = [word for flag, word in _SYNC_KINDS if settings[flag] == flag.startswith("include")]
    left = [word for flag, word in _SYNC_KINDS if word not in pushed]
    return ", ".join(pushed[:-1]) + f" and {pushed[-1]}", ", ".join(left[:-1]) + f" and {left[-1]}"


def _call_rows(views: list[StackView]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for v in views:
        link = v.link
        if link is None:
            continue
        for kind, paths in (("flow", link.service_flows), ("script", link.service_scripts)):
            for path in paths:
                why = "domain calls a platform service"
                if link.forwards_alerts and kind == "flow" and path == link.alert_dispatcher:
                    why += f"; its job failures, through the error handler `{link.alert_forwarder}`"
                rows.append((link.domain_workspace, link.platform_workspace, f"{kind} `{path}`",
                             f"`{link.service_variable}` in {link.domain_workspace}", why))
        for path in link.trigger_flows:
            rows.append((link.platform_workspace, link.domain_workspace, f"flow `{path}`",
                         f"`{link.trigger_variable}` in {link.platform_workspace}", "platform triggers a domain flow"))
    return rows


def _calls(views: list[StackView]) -> list[str]:
    rows = _call_rows(views)
    table = [(_code(a), _code(b), what, token, why) for a, b, what, token, why in rows]
    return [
        "## Cross-workspace calls", "",
        "Allowed: the platform triggers domain flows, a domain calls platform services. Forbidden: a domain "
        "calling another domain (no configuration can express it). Each call uses a token limited to one "
        "workspace and to running exactly these paths, provisioned by the domain's `platformLink`.", "",
        *_table(("caller", "runs in", "what", "token", "why"), table),
        *_diagram(views, rows),
    ]


def _node(workspace: str) -> str:
    return workspace.replace("-", "_")


def _diagram(views: list[StackView], rows: list[tuple[str, str, str, str, str]]) -> list[str]:
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'    {_node(v.workspace.id)}["{v.workspace.id}"]' for v in views]
    for caller, target, what, _token, why in rows:
        label = what.replace("`", "") + (" (alerts)" if "job failures" in why else "")
        lines.append(f'    {_node(caller)} -- "{label}" --> {_node(target)}')
    return [*lines, "```", ""]


def _workspace_section(view: StackView) -> list[str]:
    ws = view.workspace
    lines = [f"## `{ws.id}`", "", f"{ws.name}; stack `{view.stack}`, {_role(view)}.", ""]
    lines += ["### Folders", "", *_table(("folder", "summary", "owners"), [
        (_code(f"f/{f.name}"), f.summary, ", ".join(_code(o) for o in f.owners)) for f in ws.folders])]
    lines += ["### Variables", "", *_table(("path", "kind", "description"), [
        (_code(v.path), "secret" if v.is_secret else "plain", v.description) for v in ws.variables])]
    lines += ["### Resources", "", *_table(("path", "type", "description"), [
        (_code(r.path), _code(r.resource_type), r.description) for r in ws.resources])]
    lines += ["### Schedules", "", *_table(("path", "when", "runs", "on failure", "declared enabled"), [
        (_code(s.path), f"`{s.schedule}` ({s.timezone})", f"{s.target.kind} `{s.target.path}`",
         _code(s.on_failure.windmill_path) if s.on_failure else "", "yes" if s.enabled else "no")
        for s in ws.schedules])]
    if any(s.enabled for s in ws.schedules):
        lines += ["A schedule declared enabled is created disabled while the sync has not deployed its script or "
                  "flow yet, and enabled by the first `pulumi up --refresh` after that "
                  "([schedules-and-alerting.md](schedules-and-alerting.md)).", ""]
    lines += ["### Error handling and settings", "", *_settings(view)]
    return lines


def _settings(view: StackView) -> list[str]:
    settings: WorkspaceSettingsSpec = view.workspace.settings
    link = view.link
    rows: list[tuple[object, ...]] = []
    if link is not None and link.forwards_alerts:
        rows.append(("error handler", f"script `{link.alert_forwarder}` (deployed by Pulumi from "
                     f"`{FORWARDER_FILE.relative_to(ROOT)}`) → flow `{link.alert_dispatcher}` in "
                     f"{link.platform_workspace}"))
    elif settings.error_handler is not None:
        rows.append(("error handler", f"{settings.error_handler.kind} `{settings.error_handler.path}`"))
    if settings.success_handler is not None:
        rows.append(("success handler", f"{settings.success_handler.kind} `{settings.success_handler.path}`"))
    for name, label in (("webhook", "webhook"), ("operator_settings", "operator visibility"),
                        ("auto_invite", "auto-invite"), ("git_sync", "git sync"), ("default_app", "default app"),
                        ("deploy_to", "deploy to")):
        if getattr(settings, name) is not None:
            rows.append((label, "declared"))
    if settings.env_vars is not None:
        rows.append(("environment variables", ", ".join(_code(n) for n in sorted(settings.env_vars))))
    return _table(("setting", "value"), rows) if rows else ["_none declared: Windmill's defaults_", ""]



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when {DOC} is out of date")
    parser.add_argument("--project", type=Path, default=ROOT, help="folder with Pulumi.<stack>.yaml files")
    args = parser.parse_args(argv)
    text = render(read_stacks(args.project))
    target = args.project / DOC
    if args.write:
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
        return 0
    if args.check:
        if not target.exists() or target.read_text() != text:
            print(f"{DOC} is out of date with the stack files; run: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
