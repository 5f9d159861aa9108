"""``PlatformLink``: how one domain workspace and the platform workspace may call each other.

The HomeOps architecture document allows exactly two directions of cross-workspace calls:

* the platform may trigger a domain's flows (e.g. platform scheduling ``atom-nightly-scan``);
* a domain may call the platform's shared services (e.g. ``monitoring/alert-dispatcher``);

and forbids a domain calling another domain. Windmill runs a flow in another workspace when the
caller holds a token for that workspace, so this component provisions exactly those tokens and
nothing else, from the domain's stack (which runs after the platform's, so both workspaces exist):

* ``services``: a token limited to the platform workspace and to running the listed platform
  flows and scripts (``jobs:run:flows:<path>`` scopes), stored as a secret variable in the
  domain's workspace;
* ``triggers``: a token limited to the domain's workspace and to running the listed domain flows,
  registered as a secret variable in the platform workspace (``f/deployment/<domain>_trigger_token``
  by default), where the platform's deployment flows find it.

A domain therefore decides which of its flows the platform may start, a new domain needs no
change to the platform stack, and no configuration can express a domain-to-domain credential:
the service token is always for the platform workspace, and trigger flows must lie in the domain's
own folders (checked at preview). Tokens are rotated by replacing them (change ``label``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from .config.errors import ConfigError, ConfigErrors
from .config.values import Section, check_str
from .windmill.base import Connection
from .windmill.tokens import Token, TokenArgs
from .windmill.variables import Variable, VariableArgs

PROJECT = "homeops-windmill"
ITEM_PATH = r"f/[a-zA-Z_0-9]+(/[\w-]+)+"
ITEM_PATH_HELP = "must be a path f/<folder>/<name>"


@dataclass(frozen=True)
class PlatformLinkArgs:
    """What a domain may run in the platform (``service_*``) and what the platform may run in the
    domain (``trigger_flows``), and where each token is stored."""

    domain: str
    domain_workspace: str
    platform_workspace: str
    service_variable: str | None = None
    service_flows: tuple[str, ...] = ()
    service_scripts: tuple[str, ...] = ()
    trigger_variable: str | None = None
    trigger_flows: tuple[str, ...] = ()

    @property
    def service_scopes(self) -> list[str]:
        return [f"jobs:run:flows:{p}" for p in self.service_flows] + [
            f"jobs:run:scripts:{p}" for p in self.service_scripts
        ]

    @property
    def trigger_scopes(self) -> list[str]:
        return [f"jobs:run:flows:{p}" for p in self.trigger_flows]

    @staticmethod
    def from_config(
        data: object,
        *,
        role: str,
        domain: str | None,
        domain_workspace: str,
        domain_folders: set[str],
        platform_workspace: str,
        key: str = f"{PROJECT}:platformLink",
    ) -> PlatformLinkArgs | None:
        """Parse ``platformLink``; None when it is empty. Raises ConfigErrors naming each key."""
        root = Section(data, key)
        if not root.data:
            return None
        if role != "domain" or domain is None:
            raise ConfigErrors([ConfigError(
                key, "only domain stacks declare platformLink: the platform triggers domain flows and "
                "domains call platform services through the tokens each domain provisions",
            )])
        parser = _LinkParser(root, domain_folders)
        services, triggers = parser.section("services", ["variable", "flows", "scripts"]), parser.section(
            "triggers", ["variable", "flows"])
        service_flows = parser.paths(services, "flows")
        service_scripts = parser.paths(services, "scripts")
        trigger_flows = parser.paths(triggers, "flows", own=True)
        service_variable = parser.variable(services, None, own=True) if service_flows or service_scripts else None
        trigger_variable = (
            parser.variable(triggers, f"f/deployment/{domain}_trigger_token", own=False) if trigger_flows else None
        )
        if parser.errors:
            raise ConfigErrors(parser.errors)
        return PlatformLinkArgs(
            domain=domain, domain_workspace=domain_workspace, platform_workspace=platform_workspace,
            service_variable=service_variable, service_flows=service_flows, service_scripts=service_scripts,
            trigger_variable=trigger_variable, trigger_flows=trigger_flows,
        )


class _LinkParser:
    """Collects every problem of a platformLink config instead of stopping at the first."""

    def __init__(self, root: Section, domain_folders: set[str]) -> None:
        self.root = root
        self.folders = domain_folders
        self.errors: list[ConfigError] = []
        try:
            root.reject_unknown(["services", "triggers"])
        except ConfigError as error:
            self.errors.append(error)

    def section(self, name: str, allowed: list[str]) -> Section:
        try:
            section = self.root.section(name)
            section.reject_unknown(allowed)
            return section
        except ConfigError as error:
            self.errors.append(error)
            return Section({}, self.root.key(name))

    def _own_folder(self, key: str, path: str, what: str) -> None:
        if path.split("/")[1] not in self.folders:
            self.errors.append(ConfigError(
                key, f"{what} must be in this domain's own folders ({', '.join(sorted(self.folders))}); got {path!r}"
            ))

    def paths(self, section: Section, name: str, *, own: bool = False) -> tuple[str, ...]:
        try:
            values = section.list(name, [])
        except ConfigError as error:
            self.errors.append(error)
            return ()
        found: list[str] = []
        for i, value in enumerate(values):
            key = f"{section.key(name)}[{i}]"
            try:
                path = check_str(key, value, pattern=ITEM_PATH, pattern_help=ITEM_PATH_HELP)
            except ConfigError as error:
                self.errors.append(error)
                continue
            if own:
                self._own_folder(key, path, "the platform may only trigger flows that")
            found.append(path)
        return tuple(found)

    def variable(self, section: Section, default: str | None, *, own: bool) -> str | None:
        try:
            path = section.str("variable", default, pattern=ITEM_PATH, pattern_help=ITEM_PATH_HELP)
        except ConfigError as error:
            self.errors.append(error)
            return None
        if path is None:
            self.errors.append(ConfigError(section.key("variable"), "is required: where the token is stored"))
        elif own:
            self._own_folder(section.key("variable"), path, "the variable")
        return path


class PlatformLink(pulumi.ComponentResource):
    """The tokens a domain and the platform use to call each other, each stored as a secret
    variable in the workspace that uses it. Outputs name paths only, never a token."""

    service_variable: pulumi.Output[str | None]
    trigger_variable: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        args: PlatformLinkArgs,
        *,
        connection: Connection,
        platform_workspace: pulumi.Input[str],
        domain_ready: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homeops:windmill:PlatformLink", name, None, opts)
        after = pulumi.ResourceOptions(parent=self, depends_on=[domain_ready])
        if args.service_variable is not None:
            token = Token(
                f"{name}-services-token",
                TokenArgs(label=f"{args.domain_workspace} calls {args.platform_workspace} services",
                          workspace=platform_workspace, scopes=args.service_scopes),
                opts=after, connection=connection,
            )
            Variable(
                f"{name}-services-variable",
                VariableArgs(workspace=args.domain_workspace, path=args.service_variable, value=token.token,
                             description=f"Runs {', '.join(args.service_flows + args.service_scripts)} "
                                         f"in {args.platform_workspace} (managed by Pulumi)"),
                opts=after, connection=connection,
            )
        if args.trigger_variable is not None:
            token = Token(
                f"{name}-triggers-token",
                TokenArgs(label=f"{args.platform_workspace} triggers {args.domain_workspace} flows",
                          workspace=args.domain_workspace, scopes=args.trigger_scopes),
                opts=after, connection=connection,
            )
            Variable(
                f"{name}-triggers-variable",
                VariableArgs(workspace=platform_workspace, path=args.trigger_variable, value=token.token,
                             description=f"Triggers {', '.join(args.trigger_flows)} in {args.domain_workspace} "
                                         f"(managed by the {args.domain} stack)"),
                opts=after, connection=connection,
            )
        self.service_variable = pulumi.Output.from_input(args.service_variable)
        self.trigger_variable = pulumi.Output.from_input(args.trigger_variable)
        self.register_outputs({"service_variable": self.service_variable,
                               "trigger_variable": self.trigger_variable})
