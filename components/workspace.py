"""``WindmillWorkspace``: one HomeOps workspace and everything it holds.

The same component builds the platform workspace and every domain workspace; only its Args differ.
The Args (``components.config.workspace``) are checked against the HomeOps architecture's
conventions when the config is loaded (own folders, no cross-workspace references, members before
groups), so this module only declares resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from .config.workspace import WindmillWorkspaceArgs
from .windmill.base import Connection
from .windmill.folders import Folder, FolderArgs
from .windmill.groups import Group, GroupArgs
from .windmill.members import Member, MemberArgs
from .windmill.resource_types import ResourceType, ResourceTypeArgs
from .windmill.resources import Resource, ResourceArgs, references
from .windmill.tokens import Token, TokenArgs
from .windmill.variables import Variable, VariableArgs
from .windmill.workspaces import Workspace, WorkspaceArgs


class WindmillWorkspace(pulumi.ComponentResource):
    """A Windmill workspace with its folders, members, groups, resource types, variables and
    resources, all parented to this component.

    ``ready_after`` lists resources that must exist before the first API call (the platform
    stack's readiness gate). ``sync_token_label`` mints an API token limited to this workspace for
    its GitHub sync workflow (``sync_token``, a secret), with ``sync_token_scopes`` and
    ``sync_token_expiration`` (a change of either replaces it: that is how it rotates).

    Outputs: ``workspace_id``, ``url`` (the workspace in the Windmill UI), ``folder_paths``,
    ``variable_paths`` and ``resource_paths``. No registered output carries a secret value.
    """

    workspace_id: pulumi.Output[str]
    url: pulumi.Output[str]
    folder_paths: pulumi.Output[list[str]]
    variable_paths: pulumi.Output[list[str]]
    resource_paths: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: WindmillWorkspaceArgs,
        *,
        secrets: Mapping[str, pulumi.Input[str]],
        connection: Connection,
        base_url: pulumi.Input[str],
        ready_after: Sequence[pulumi.Resource] = (),
        sync_token_label: str | None = None,
        sync_token_scopes: Sequence[str] | None = None,
        sync_token_expiration: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homeops:windmill:WindmillWorkspace", name, None, opts)
        self._name, self._args, self._connection = name, args, connection
        # adopt: true extends to everything the workspace declares. Unset rather than false otherwise,
        # so a diff shows `adopt` only where objects are being taken over.
        self._adopt: bool | None = True if args.adopt else None
        if args.adopt:
            pulumi.log.info(
                f"adopt is on: objects of workspace {args.id} that already exist in Windmill are taken over, "
                "not created again (the engine lists them as creates; each gets the output adopted: true), "
                "and only fields declared differently are written", resource=self,
            )
        # The workspace is the root of everything below, so waiting for it waits for the instance.
        self.workspace = Workspace(
            f"{name}-workspace",
            WorkspaceArgs(workspace_id=args.id, name=args.name, color=args.color,
                          deletion_mode=args.deletion_mode, adopt=args.adopt),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(ready_after)), connection=connection,
        )
        self.members = self._members()
        self.groups = self._groups()
        self.folders = self._folders()
        self.resource_types = self._resource_types()
        self.variables = self._variables(secrets)
        self.resources = self._resources()
        self.sync_token = self._sync_token(sync_token_label, sync_token_scopes, sync_token_expiration)
        self._register(base_url)

    def _inside(self, *also: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of everything in the workspace: parented here, created once the workspace exists."""
        return pulumi.ResourceOptions(parent=self, depends_on=[self.workspace, *also])

    def _members(self) -> dict[str, Member]:
        ws = self._args.id
        return {
            m.email: Member(
                f"{self._name}-member-{m.email}",
                MemberArgs(workspace=ws, email=m.email, role=m.role, adopt=m.adopt or self._args.adopt),
                opts=self._inside(), connection=self._connection,
            )
            for m in self._args.members
        }

    def _groups(self) -> dict[str, Group]:
        ws = self._args.id
        return {
            g.name: Group(
                f"{self._name}-group-{g.name}",
                GroupArgs(workspace=ws, name=g.name, summary=g.summary,
                          members=[self.members[email].username for email in g.members], adopt=self._adopt),
                opts=self._inside(), connection=self._connection,
            )
            for g in self._args.groups
        }

    def _folders(self) -> dict[str, Folder]:
        ws = self._args.id
        return {
            f.name: Folder(
                f"{self._name}-folder-{f.name}",
                FolderArgs(workspace=ws, name=f.name, summary=f.summary, owners=list(f.owners),
                           extra_perms=dict(f.extra_perms), adopt=self._adopt),
                # A folder owned by a group of this workspace waits for that group.
                opts=self._inside(
                    *(self.groups[p[2:]] for p in (*f.owners, *f.extra_perms) if p[2:] in self.groups)
                ),
                connection=self._connection,
            )
            for f in self._args.folders
        }

    def _resource_types(self) -> dict[str, ResourceType]:
        ws = self._args.id
        return {
            t.name: ResourceType(
                f"{self._name}-type-{t.name}",
                ResourceTypeArgs(workspace=ws, name=t.name, schema=dict(t.schema), description=t.description,
                                 adopt=self._adopt),
                opts=self._inside(), connection=self._connection,
            )
            for t in self._args.resource_types
        }

    def _variables(self, secrets: Mapping[str, pulumi.Input[str]]) -> dict[str, Variable]:
        variables: dict[str, Variable] = {}
        for v in self._args.variables:
            value: pulumi.Input[str] = secrets[v.secret] if v.secret is not None else (v.value or "")
            variables[v.path] = Variable(
                f"{self._name}-var-{v.path}",
                VariableArgs(workspace=self._args.id, path=v.path, value=value, is_secret=v.is_secret,
                             description=v.description, adopt=self._adopt),
                opts=self._inside(self.folders[v.path.split("/")[1]]),
                connection=self._connection,
            )
        return variables

    def _resources(self) -> dict[str, Resource]:
        resources: dict[str, Resource] = {}
        for r in self._args.resources:
            needs: list[pulumi.Resource] = [self.folders[r.path.split("/")[1]]]
            if r.resource_type in self.resource_types:
                needs.append(self.resource_types[r.resource_type])
            needs.extend(self.variables[t] for _, k, t in references(r.value, "") if k == "var")
            resources[r.path] = Resource(
                f"{self._name}-resource-{r.path}",
                ResourceArgs(workspace=self._args.id, path=r.path, resource_type=r.resource_type,
                             value=dict(r.value), description=r.description, adopt=self._adopt),
                opts=self._inside(*needs),
                connection=self._connection,
            )
        # $res: references need no ordering: Windmill resolves them when a job reads the resource.
        return resources

    def _sync_token(
        self, label: str | None, scopes: Sequence[str] | None, expiration: str | None
    ) -> pulumi.Output[str] | None:
        if label is None:
            return None
        token = Token(
            f"{self._name}-sync-token",
            TokenArgs(label=label, workspace=self._args.id, scopes=list(scopes) if scopes else None,
                      expiration=expiration),
            opts=self._inside(), connection=self._connection,
        )
        return pulumi.Output.secret(token.token)

    def _register(self, base_url: pulumi.Input[str]) -> None:
        args = self._args
        self.workspace_id = self.workspace.workspace_id
        self.url = pulumi.Output.concat(pulumi.Output.from_input(base_url).apply(lambda u: u.rstrip("/")),
                                        "/?workspace=", args.id)
        self.folder_paths = pulumi.Output.from_input([f"f/{f.name}" for f in args.folders])
        self.variable_paths = pulumi.Output.from_input([v.path for v in args.variables])
        self.resource_paths = pulumi.Output.from_input([r.path for r in args.resources])
        self.register_outputs({
            "workspace_id": self.workspace_id,
            "url": self.url,
            "folder_paths": self.folder_paths,
            "variable_paths": self.variable_paths,
            "resource_paths": self.resource_paths,
        })
