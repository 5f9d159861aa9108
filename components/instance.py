"""``WindmillInstance``: the Windmill instance itself, as the platform stack declares it.

First boot (``FirstBoot``) turns the bootstrap credential into the program's own expiring token; the
instance users, groups, settings and worker-group configs are then declared with that token, and
the default admin is removed or rotated once the operators exist (``DefaultAdmin``). The Community
Edition limits check (``EditionLimits``) runs right after first boot, before anything else changes.

What the previous run left (``PreviousRun``, the stack's own last outputs) decides two things at
program time, before any resource is declared:

* **retirement**: once a run completed first boot, the Docker stack's ``SUPERADMIN_SECRET`` is no
  longer needed, so the next run drops it (the server containers are recreated without it). Not the
  same run: the containers that hold the secret must exist before first boot can use it, and
  Pulumi changes a resource once per run. The next run is also the safe one: the signal is exported
  only when the whole run succeeded, so a run that failed half-way still has the secret to finish;
* **exposure**: a run that would publish Windmill beyond loopback before first boot ever completed
  fails with what to set (the default admin's published password may still work).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .config.errors import ConfigError, ConfigErrors
from .config.instance import InstanceArgs
from .config.schema import key as config_key
from .config.workspace import WindmillWorkspaceArgs
from .windmill.base import Connection
from .windmill.default_admin import DefaultAdmin, DefaultAdminArgs
from .windmill.edition_limits import EditionLimits, EditionLimitsArgs
from .windmill.first_boot import FirstBoot, FirstBootArgs
from .windmill.instance_groups import InstanceGroup, InstanceGroupArgs
from .windmill.instance_settings import InstanceSetting, InstanceSettingArgs
from .windmill.instance_users import InstanceUser, InstanceUserArgs
from .windmill.worker_group_configs import WorkerGroupConfig, WorkerGroupConfigArgs

FIRST_BOOT_EXPORT = "windmillFirstBoot"


@dataclass(frozen=True)
class PreviousRun:
    """What the last successful run of this stack exported about first boot."""

    first_boot: Mapping[str, Any] | None

    @property
    def booted(self) -> bool:
        return bool(self.first_boot)

    @classmethod
    def read(cls) -> PreviousRun:
        """This stack's own last outputs (a StackReference to itself), read while the program runs.

        The program needs them as plain values: they decide which resources exist. The SDK resolves
        Outputs synchronously the same way when it pickles them (``_sync_await``).
        """
        from pulumi.runtime.sync_await import _sync_await

        name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
        reference = pulumi.StackReference(f"{pulumi.get_stack()}-previous-run", stack_name=name)
        outputs = _sync_await(reference.outputs.future()) or {}
        value = outputs.get(FIRST_BOOT_EXPORT) if isinstance(outputs, Mapping) else None
        return cls(first_boot=value if isinstance(value, Mapping) else None)


def refuse_exposed_default(args: InstanceArgs, previous: PreviousRun) -> None:
    """Fail before any resource when Windmill would be published beyond loopback while its default
    admin's published password may still work (first boot never completed on this stack)."""
    if args.published_at is None or previous.booted or args.first_boot.default_admin_secured:
        return
    raise ConfigErrors([ConfigError(
        config_key("windmillStack.caddy.bindAddress"),
        f"this run would publish Windmill on {args.published_at} before first boot ever completed, while the "
        "default admin admin@windmill.dev may still have its published password 'changeme'. Run the first "
        "`pulumi up` with windmillStack.caddy.bindAddress 127.0.0.1 and no caddy.domain (first boot then replaces "
        "the default password), and publish it afterwards; or, if you have already changed or removed that "
        "account yourself, set instance.firstBoot.defaultAdminSecured to true",
    )])


class WindmillInstance(pulumi.ComponentResource):
    """First boot, the edition-limits check, instance users, groups, settings and worker-group configs,
    and the default admin, all parented here.

    ``token`` is the API token every other Windmill resource uses (first boot's program token, or the
    operator's ``windmillToken`` when first boot is off) and ``identity`` the user it belongs to (None
    when unknown). ``limits`` is the edition-limits check; ``ready`` the resources the workspace
    must wait for; ``booted`` says whether an earlier run completed first boot (``PreviousRun``), and
    ``bootstrap_secret`` is the Docker stack's ``SUPERADMIN_SECRET`` while it exists. No registered
    output carries a secret.
    """

    def __init__(
        self,
        name: str,
        args: InstanceArgs,
        *,
        url: pulumi.Input[str],
        operator_token: pulumi.Input[str] | None,
        bootstrap_secret: pulumi.Input[str] | None,
        booted: bool,
        secrets: Mapping[str, pulumi.Input[str]],
        workspace: WindmillWorkspaceArgs,
        timeouts: tuple[float | None, float | None] = (None, None),
        ready_after: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homeops:windmill:WindmillInstance", name, None, opts)
        self._name, self.args, self._secrets = name, args, secrets
        connect, read = timeouts
        boot = args.first_boot
        self.first_boot: FirstBoot | None = None
        self.identity: str | None = None
        self.token: pulumi.Input[str] | None = operator_token
        after: list[pulumi.Resource] = list(ready_after)
        if boot.enabled:
            # Read by a create only; once first boot has completed, no bootstrap secret is passed on.
            provided = secrets.get(boot.superadmin_secret) if boot.superadmin_secret else None
            credential = operator_token or (None if booted else bootstrap_secret or provided)
            self.first_boot = FirstBoot(
                f"{name}-first-boot",
                FirstBootArgs(automation_email=boot.automation_email, try_default_password=boot.try_default_password,
                              token_lifetime_days=boot.token_lifetime_days, renew_days_before=boot.renew_days_before),
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
                connection=Connection(url=url, token=credential, connect_timeout_seconds=connect,
                                      read_timeout_seconds=read),
            )
            self.token, self.identity = pulumi.Output.secret(self.first_boot.token), boot.automation_email
            after = [self.first_boot]
        self.connection = Connection(url=url, token=self.token, connect_timeout_seconds=connect,
                                     read_timeout_seconds=read, identity=self.identity)
        self.limits = edition_limits(f"{name}-edition-limits", workspace, self.connection, after, args.edition,
                                     parent=self)
        self._declare_objects([self.limits])
        self._register()

    def _inside(self, *also: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=[self.limits, *also])

    def _declare_objects(self, after: list[pulumi.Resource]) -> None:
        args, name, connection = self.args, self._name, self.connection
        self.users = {
            u.email: InstanceUser(
                f"{name}-user-{u.email}",
                InstanceUserArgs(email=u.email, name=u.name, super_admin=u.super_admin, devops=u.devops,
                                 disabled=u.disabled, adopt=u.adopt),
                opts=self._inside(), connection=connection)
            for u in args.users
        }
        self.groups = {
            g.name: InstanceGroup(
                f"{name}-group-{g.name}",
                InstanceGroupArgs(name=g.name, summary=g.summary, members=list(g.members), adopt=g.adopt),
                opts=self._inside(*(self.users[m] for m in g.members if m in self.users)), connection=connection)
            for g in args.groups
        }
        self.settings = {
            s.key: InstanceSetting(
                f"{name}-setting-{s.key}",
                InstanceSettingArgs(key=s.key, value=s.value, secret_field=s.secret_field, edition=args.edition,
                                    secret_value=self._secrets[s.secret] if s.secret else None),
                opts=self._inside(), connection=connection)
            for s in args.settings
        }
        self.worker_groups = {
            group: WorkerGroupConfig(
                f"{name}-worker-group-{group}", WorkerGroupConfigArgs(name=group, config=config, edition=args.edition),
                opts=self._inside(), connection=connection)
            for group, config in args.worker_groups
        }
        self.default_admin: DefaultAdmin | None = None
        if args.first_boot.enabled:
            # After the operators exist: removing the default admin must never leave nobody to log in.
            operators = [self.users[u.email] for u in args.users if u.super_admin]
            self.default_admin = DefaultAdmin(
                f"{name}-default-admin", DefaultAdminArgs(action=args.first_boot.default_admin),
                opts=self._inside(*operators), connection=connection)

    def _register(self) -> None:
        self.user_passwords = pulumi.Output.secret(pulumi.Output.all(
            **{email: user.initial_password for email, user in self.users.items()}
        )) if self.users else None
        self.default_admin_password = (
            pulumi.Output.secret(self.default_admin.password) if self.default_admin is not None else None)
        self.register_outputs({})

    @property
    def ready(self) -> list[pulumi.Resource]:
        """What the workspace waits for: every object of the instance (and so first boot and limits)."""
        return [self.limits, *self.users.values(), *self.groups.values(), *self.settings.values(),
                *self.worker_groups.values(), *([self.default_admin] if self.default_admin else [])]

    def first_boot_record(self, also: Sequence[pulumi.Input[Any]] = ()) -> pulumi.Output[Any] | None:
        """The ``windmillFirstBoot`` export: known only once first boot, the default admin and ``also``
        (the stack's tokens, which are handed over in the same run) have all succeeded."""
        if self.first_boot is None or self.default_admin is None:
            return None
        boot = self.args.first_boot
        return pulumi.Output.all(self.first_boot.token_prefix, self.default_admin.action, *also).apply(
            lambda _: {"automationUser": boot.automation_email, "defaultAdmin": boot.default_admin})


def edition_limits(
    name: str, workspace: WindmillWorkspaceArgs, connection: Connection, after: Sequence[pulumi.Resource],
    edition: str | None, parent: pulumi.Resource | None = None,
) -> EditionLimits:
    """The Community Edition limits check for the workspace (and groups) a stack declares."""
    return EditionLimits(
        name,
        EditionLimitsArgs(workspaces=[workspace.id], groups=[f"{workspace.id}/{g.name}" for g in workspace.groups],
                          expected_edition=edition),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)), connection=connection,
    )


def instance_exports(instance: WindmillInstance, tokens: Sequence[pulumi.Input[Any]]) -> dict[str, Any]:
    """What the platform stack exports about its instance: the program token's owner, the first-boot
    record (``tokens``: the stack's minted tokens, handed over in the same run) and, as secrets, the
    generated passwords of created users and of a rotated default admin."""
    exports: dict[str, Any] = {}
    if instance.identity is not None:
        exports["windmillTokenOwner"] = instance.identity
    record = instance.first_boot_record(tokens)
    if record is not None:
        exports[FIRST_BOOT_EXPORT] = record
    if instance.user_passwords is not None:
        exports["instanceUserPasswords"] = instance.user_passwords
    if instance.default_admin_password is not None and instance.args.first_boot.default_admin == "rotate":
        exports["windmillDefaultAdminPassword"] = instance.default_admin_password
    return exports
