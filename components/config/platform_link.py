"""``platformLink``: what one domain may run in the platform workspace and the platform in the domain.

The HomeOps architecture allows the platform to trigger a domain's flows and a domain to call the
platform's shared services, and forbids a domain calling another domain. The parser enforces that
at load time: only domain stacks declare a link, the service token is always for the platform
workspace, and trigger flows and the domain's token variable must lie in the domain's own folders.
The trigger token's variable in the platform workspace lies under the domain's own prefix,
``f/deployment/<domain>_trigger_<name>``, so a domain can neither replace nor delete a platform
object (Windmill deletes a resource with the variable of the same path) nor another domain's token.
A stack manages only its own workspace (``guards.py``), so no key can name another domain's
workspace, and a domain-to-domain credential cannot be expressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import Problems, collected
from .rules import check_folder_item_path
from .schema import key as config_key
from .values import Section

# Where domain stacks store the platform's trigger tokens: f/deployment/<domain>_trigger_<name>. A
# domain name has no '_', so the prefix tells the owning domain apart, and two domains never meet.
TRIGGER_FOLDER = "deployment"


def trigger_variable_pattern(domain_regex: str) -> str:
    """The paths a domain (matching ``domain_regex``) may give its trigger token in the platform."""
    return rf"f/{TRIGGER_FOLDER}/{domain_regex}_trigger_[\w-]+"


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
    # ``alerts``: the domain's error handler, a forwarder script deployed from this repository
    # (components/alerting/forwarder.py) that runs the platform's dispatcher with the services token.
    alert_dispatcher: str | None = None
    alert_forwarder: str | None = None

    @property
    def forwards_alerts(self) -> bool:
        return self.alert_forwarder is not None and self.alert_dispatcher is not None

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
        key: str = config_key("platformLink"),
        problems: Problems | None = None,
    ) -> PlatformLinkArgs | None:
        """Parse ``platformLink``; None when it is empty or has problems (recorded in ``problems``;
        without one, they are raised together as ConfigErrors)."""
        if problems is None:
            return collected(lambda found: PlatformLinkArgs.from_config(
                data, role=role, domain=domain, domain_workspace=domain_workspace, domain_folders=domain_folders,
                platform_workspace=platform_workspace, key=key, problems=found,
            ))
        root = problems.check(lambda: Section(data, key))
        if root is None or not root.data:
            return None
        if role != "domain" or domain is None:
            problems.add(key, "only domain stacks declare platformLink: the platform triggers domain flows and "
                         "domains call platform services through the tokens each domain provisions")
            return None
        with problems.scope() as found:
            link = _LinkParser(root, domain_folders, found).parse(domain, domain_workspace, platform_workspace)
        return None if found else link


class _LinkParser:
    """Reads one platformLink config, recording every problem in ``problems``."""

    def __init__(self, root: Section, domain_folders: set[str], problems: Problems) -> None:
        self.root = root
        self.folders = domain_folders
        self.problems = problems
        problems.check(lambda: root.reject_unknown(["services", "triggers", "alerts"]))

    def parse(self, domain: str, domain_workspace: str, platform_workspace: str) -> PlatformLinkArgs:
        services = self.section("services", ["variable", "flows", "scripts"])
        triggers = self.section("triggers", ["variable", "flows"])
        service_flows = self.paths(services, "flows")
        service_scripts = self.paths(services, "scripts")
        trigger_flows = self.paths(triggers, "flows", own=True)
        dispatcher, forwarder = self.alerts(service_flows)
        return PlatformLinkArgs(
            domain=domain, domain_workspace=domain_workspace, platform_workspace=platform_workspace,
            service_variable=self.token_variable(
                services, None, bool(service_flows or service_scripts), "flows or scripts"),
            service_flows=service_flows,
            service_scripts=service_scripts,
            trigger_variable=self.token_variable(
                triggers, f"f/deployment/{domain}_trigger_token", bool(trigger_flows), "flows", domain=domain),
            trigger_flows=trigger_flows,
            alert_dispatcher=dispatcher,
            alert_forwarder=forwarder,
        )

    def alerts(self, service_flows: tuple[str, ...]) -> tuple[str | None, str | None]:
        """``alerts: {dispatcher, forwarder}``: the dispatcher must be a service flow (the token may run
        only those) and the forwarder a script path in the domain's own folders."""
        section = self.section("alerts", ["dispatcher", "forwarder"])
        if not section.data:
            return None, None
        dispatcher = self.problems.check(lambda: section.parse("dispatcher", check_folder_item_path))
        forwarder = self.problems.check(lambda: section.parse("forwarder", check_folder_item_path))
        if dispatcher is not None and dispatcher not in service_flows:
            listed = ", ".join(service_flows) or "none"
            self.problems.add(section.key("dispatcher"), f"must be one of services.flows ({listed}): the services "
                              f"token may run only those; got {dispatcher!r}")
        if forwarder is not None:
            self._own_folder(section.key("forwarder"), forwarder, "the forwarder script")
        return dispatcher, forwarder

    def section(self, name: str, allowed: list[str]) -> Section:
        section = self.problems.check(lambda: self.root.section(name), Section({}, self.root.key(name)))
        self.problems.check(lambda: section.reject_unknown(allowed))
        return section

    def _own_folder(self, key: str, path: str, what: str) -> None:
        if path.split("/")[1] not in self.folders:
            self.problems.add(
                key, f"{what} must be in this domain's own folders ({', '.join(sorted(self.folders))}); got {path!r}"
            )

    def paths(self, section: Section, name: str, *, own: bool = False) -> tuple[str, ...]:
        found: list[str] = []
        for i, value in enumerate(self.problems.check(lambda: section.list(name, []), [])):
            key = f"{section.key(name)}[{i}]"
            path = self.problems.check(lambda key=key, value=value: check_folder_item_path(key, value))
            if path is None:
                continue
            if own:
                self._own_folder(key, path, "the platform may only trigger flows that")
            found.append(path)
        return tuple(found)

    def token_variable(
        self, section: Section, default: str | None, used: bool, what: str, *, domain: str | None = None
    ) -> str | None:
        """Where a token is stored: none without anything to run (a lone ``variable`` is refused, not
        ignored). The services token lives in the domain's own folders; the trigger token (``domain``
        given) in the platform workspace under the domain's own prefix."""
        if not used:
            if section.data.get("variable") is not None:
                self.problems.add(section.key("variable"), f"is set, but {section.path.rsplit('.', 1)[-1]} lists no "
                                  f"{what}: no token would be stored there; list what it may run, or remove it")
            return None
        path = self.problems.check(lambda: section.parse("variable", check_folder_item_path, default))
        if path is None:
            if section.data.get("variable") is None:  # absent, not invalid (that is recorded already)
                self.problems.add(section.key("variable"), "is required: where the token is stored")
        elif domain is None:
            self._own_folder(section.key("variable"), path, "the variable")
        elif not re.fullmatch(trigger_variable_pattern(re.escape(domain)), path):
            self.problems.add(section.key("variable"), (
                f"must be f/deployment/{domain}_trigger_<name> in the platform workspace (the default is "
                f"f/deployment/{domain}_trigger_token): this stack owns only its own prefix there, so it can neither "
                f"replace nor delete the platform's objects or another domain's token (Windmill deletes a resource "
                f"together with a variable of the same path); got {path!r}"))
        return path
