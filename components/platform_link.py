"""``PlatformLink``: how one domain workspace and the platform workspace may call each other.

The HomeOps architecture document (docs/architecture.md) allows exactly two directions of cross-workspace calls:

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

from .alerting import FORWARDER_SCHEMA, FORWARDER_SUMMARY, forwarder_content, forwarder_extra_args
from .config.platform_link import PlatformLinkArgs
from .windmill.base import Connection
from .windmill.scripts import Script, ScriptArgs
from .windmill.tokens import Token, TokenArgs
from .windmill.variables import Variable, VariableArgs


class PlatformLink(pulumi.ComponentResource):
    """The tokens a domain and the platform use to call each other, each stored as a secret
    variable in the workspace that uses it. Outputs name paths only, never a token.

    With ``alerts``, also the domain's alert forwarder: a script deployed from
    ``components/alerting/forwarder.py`` that runs the platform's dispatcher with the services
    token; ``error_handler`` is what the domain's workspace settings set as its error handler
    (None without alerts), and ``forwarder`` the script resource to wait for.
    """

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
        self._log_calls(args)
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
        self.forwarder, self.error_handler = self._forwarder(name, args, after, connection)
        self.service_variable = pulumi.Output.from_input(args.service_variable)
        self.trigger_variable = pulumi.Output.from_input(args.trigger_variable)
        self.register_outputs({"service_variable": self.service_variable,
                               "trigger_variable": self.trigger_variable})

    def _forwarder(
        self, name: str, args: PlatformLinkArgs, after: pulumi.ResourceOptions, connection: Connection
    ) -> tuple[Script | None, dict[str, object] | None]:
        """The domain's error handler: forwards each job failure to the platform's dispatcher."""
        if not args.forwards_alerts or args.service_variable is None:
            return None, None
        assert args.alert_forwarder is not None and args.alert_dispatcher is not None
        script = Script(
            f"{name}-alert-forwarder",
            ScriptArgs(workspace=args.domain_workspace, path=args.alert_forwarder, content=forwarder_content(),
                       language="python3", summary=FORWARDER_SUMMARY, schema=FORWARDER_SCHEMA,
                       description=f"Runs {args.alert_dispatcher} in {args.platform_workspace} with the token in "
                                   f"{args.service_variable}. Source: components/alerting/forwarder.py"),
            opts=after, connection=connection,
        )
        handler = {
            "path": f"script/{args.alert_forwarder}",
            "extra_args": forwarder_extra_args(args.alert_dispatcher, args.platform_workspace, args.service_variable),
            "muted_on_cancel": False, "muted_on_user_path": False,
        }
        return script, handler

    def _log_calls(self, args: PlatformLinkArgs) -> None:
        """Say in every preview and update who may call what across workspaces."""
        services = [*args.service_flows, *args.service_scripts]
        if services:
            pulumi.log.info(f"cross-workspace: {args.domain_workspace} may run {', '.join(services)} in "
                            f"{args.platform_workspace} (token in {args.domain_workspace}:{args.service_variable})",
                            resource=self)
        if args.forwards_alerts:
            pulumi.log.info(f"cross-workspace: job failures in {args.domain_workspace} go to "
                            f"{args.platform_workspace}:{args.alert_dispatcher} through the error handler "
                            f"{args.alert_forwarder}", resource=self)
        if args.trigger_flows:
            pulumi.log.info(f"cross-workspace: {args.platform_workspace} may run {', '.join(args.trigger_flows)} in "
                            f"{args.domain_workspace} (token in {args.platform_workspace}:{args.trigger_variable})",
                            resource=self)
