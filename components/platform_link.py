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
own folders (checked when the config is loaded, ``components.config.platform_link``). Tokens are
rotated by replacing them (change ``label``).
"""

from __future__ import annotations

import pulumi

from .config.platform_link import PlatformLinkArgs
from .windmill.base import Connection
from .windmill.tokens import Token, TokenArgs
from .windmill.variables import Variable, VariableArgs


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
