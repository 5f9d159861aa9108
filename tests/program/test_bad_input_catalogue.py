"""The bad-input catalogue (issue 10): every wrong configuration in one table, each refused at preview.

For every case the whole program runs as `pulumi preview` would run it, with the Windmill resources'
real providers against the emulator (testkit.e2e) and the committed stack file plus the one change.
Each case asserts:

* refused: the program stops with ConfigErrors, before any resource is registered;
* the message names the key (the case's expected key is among the reported ones);
* zero requests reach Windmill (no mutating request, in fact none at all);
* no secret in the message: none of the stack's secrets, nor the case's own secret-looking value.

The cases: the 124-configuration sweep's findings (wrong names, other domains' workspaces and paths,
strings for booleans, credentials in URLs, plain http, Windmill's limits, the SDK's own config type
errors) and the refusals that were already right, so none of them can quietly regress.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.config.errors import ConfigErrors
from testkit.e2e import ProviderEngine
from testkit.program import FINANCIAL_SECRETS, PLATFORM_OUTPUTS, PLATFORM_SECRETS, load_stack_config, run_program
from windmill_emulator import WindmillEmulator

P = "homeops-windmill:"
BIG_SECRET = "S3cr3t-" + "x" * 13993  # 14,000 characters
URL_PASSWORD = "pa55-in-the-url-7f3e"
PLAIN_SECRET = "plain-secret-value-9c1d"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a bind address written into config, nothing binds here

Change = Callable[[dict[str, Any], dict[str, Any]], None]  # (config, secrets) -> None, in place


@dataclass(frozen=True)
class Case:
    """One bad configuration: which stack, what changes, the key the refusal must name."""

    name: str
    stack: str
    change: Change
    key: str
    secrets: tuple[str, ...] = field(default=())  # values the message must not show
    plain_keys: tuple[str, ...] = ()


def put(path: str, value: Any) -> Change:
    """Set ``path`` (``workspace.folders[0].name`` style, under the project namespace) to ``value``."""
    head, *rest = path.replace("]", "").replace("[", ".").split(".")

    def change(config: dict[str, Any], _secrets: dict[str, Any]) -> None:
        if not rest:
            config[P + head] = value
            return
        node = config.setdefault(P + head, {})
        for part in rest[:-1]:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        last = rest[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


def secret(name: str, value: Any) -> Change:
    def change(_config: dict[str, Any], secrets: dict[str, Any]) -> None:
        secrets[name] = value

    return change


def both(*changes: Change) -> Change:
    def change(config: dict[str, Any], secrets: dict[str, Any]) -> None:
        for one in changes:
            one(config, secrets)

    return change


def docker(**stack: Any) -> Change:
    """The platform runs the committed Docker stack (the API at the emulator), changed by ``stack``."""
    def change(config: dict[str, Any], secrets: dict[str, Any]) -> None:
        committed = load_stack_config("platform")[P + "windmillStack"]
        config[P + "windmillStack"] = {**committed, "apiUrl": config[P + "windmillUrl"], **stack}

    return change


def link(**platform_link: Any) -> Change:
    def change(config: dict[str, Any], _secrets: dict[str, Any]) -> None:
        config[P + "platformLink"] = {**config[P + "platformLink"], **platform_link}

    return change


TRIGGERS = {"flows": ["f/atom/nightly_scan"]}
LONG = "g" * 51
PLATFORM_VARIABLES = len(load_stack_config("platform")[P + "workspace"]["variables"])


def add_variable(path: str) -> Change:
    def change(config: dict[str, Any], _secrets: dict[str, Any]) -> None:
        config[P + "workspace"]["variables"].append({"path": path, "value": "x"})

    return change


def drop_secret_of_first_variable(config: dict[str, Any], _secrets: dict[str, Any]) -> None:
    config[P + "workspace"]["variables"][0].pop("secret")

CASES = [
    # -- issue 10: accepted wrongly before --------------------------------------------------
    Case("domain manages another domain's workspace", "financial", put("domain", "media"), "workspace.id"),
    Case("platform takes a domain's workspace", "platform", put("workspace.id", "homeops-financial"), "workspace.id"),
    Case("domain workspace outside its namespace", "financial", put("workspace.id", "finance"), "workspace.id"),
    Case("trigger variable on a platform resource's path", "financial",
         link(triggers={**TRIGGERS, "variable": "f/monitoring/platform_alerts"}), "platformLink.triggers.variable"),
    Case("trigger variable of another domain", "financial",
         link(triggers={**TRIGGERS, "variable": "f/deployment/media_trigger_token"}), "platformLink.triggers.variable"),
    Case("trigger variable without the domain prefix", "financial",
         link(triggers={**TRIGGERS, "variable": "f/deployment/trigger_token"}), "platformLink.triggers.variable"),
    Case("platform declares a domain's trigger path", "platform", add_variable("f/deployment/financial_trigger_token"),
         f"workspace.variables[{PLATFORM_VARIABLES}].path"),
    Case("services.variable without flows", "financial",
         link(services={"variable": "f/atom/platform_services_token"}), "platformLink.services.variable"),
    Case("windmillStack.enabled is 'no'", "platform", docker(enabled="no"), "windmillStack.enabled"),
    Case("windmillStack.enabled is 0", "platform", docker(enabled=0), "windmillStack.enabled"),
    Case("user:password in windmillUrl", "platform",
         put("windmillUrl", f"https://admin:{URL_PASSWORD}@windmill.example.com"), "windmillUrl", (URL_PASSWORD,)),
    Case("user:password in windmillStack.baseUrl", "platform",
         docker(baseUrl=f"https://admin:{URL_PASSWORD}@windmill.example.com"), "windmillStack.baseUrl",
         (URL_PASSWORD,)),
    Case("user:password in windmillStack.apiUrl", "platform",
         docker(apiUrl=f"http://admin:{URL_PASSWORD}@127.0.0.1:8000"), "windmillStack.apiUrl", (URL_PASSWORD,)),
    Case("plain http to a remote windmillUrl", "platform", put("windmillUrl", "http://windmill.lan"), "windmillUrl"),
    Case("plain http to a remote windmillUrl on a domain", "financial",
         both(put("windmillUrl", "http://windmill.lan"), secret("windmillToken", "domain-token-5e1c")),
         "windmillUrl"),
    Case("ssh docker host with a LAN bind derives plain http", "platform",
         both(docker(dockerHost="ssh://deploy@nas.home.arpa", caddy={"bindAddress": ALL_INTERFACES}),
              lambda c, _s: c[P + "windmillStack"].pop("apiUrl")), "windmillStack.apiUrl"),
    Case("plain http apiUrl to a LAN address", "platform", docker(apiUrl="http://10.0.0.5:8080"),
         "windmillStack.apiUrl"),
    Case("allowInsecureHttp is 'yes'", "platform", put("allowInsecureHttp", "yes"), "allowInsecureHttp"),
    Case("a 14,000-character secret", "platform", secret("secrets", {**PLATFORM_SECRETS["secrets"],
                                                                     "platform_redis_password": BIG_SECRET}),
         "workspace.variables[1].secret", (BIG_SECRET,)),
    Case("a group name over 50 characters", "financial",
         both(put("workspace.groups[0].name", LONG), put("workspace.folders[0].owners", [f"g/{LONG}"])),
         "workspace.groups[0].name"),
    Case("folder owner names no group", "financial", put("workspace.folders[0].owners", ["g/ghosts"]),
         "workspace.folders[0].owners[0]"),
    Case("folder permission names no group", "financial", put("workspace.folders[0].extraPerms", {"g/readers": True}),
         "workspace.folders[0].extraPerms.g/readers"),
    Case("secrets set without --path", "platform", secret("secrets", PLAIN_SECRET), "secrets", (PLAIN_SECRET,)),
    Case("workspace set to a plain string", "platform", put("workspace", "homeops-platform"), "workspace"),
    Case("windmillStack set to a plain string", "platform", put("windmillStack", "enabled"), "windmillStack"),
    Case("githubSync set to a plain string", "platform", put("githubSync", "HomeOps"), "githubSync"),
    Case("platformLink set to a plain string", "financial", put("platformLink", "on"), "platformLink"),
    Case("token rotation not before expiry", "platform", put("githubSync.token", {"rotateAfterDays": 90}),
         "githubSync.token.rotateAfterDays"),
    Case("sync environment enabled is 'nope'", "platform", put("githubSync.environment", {"enabled": "nope"}),
         "githubSync.environment.enabled"),
    Case("a scope that is not one", "platform", put("githubSync.token", {"extraScopes": ["admin"]}),
         "githubSync.token.extraScopes[0]"),
    # -- refused before, kept refused --------------------------------------------------------
    Case("unknown role", "platform", put("role", "admin"), "role"),
    Case("upper-case domain", "financial", put("domain", "Media"), "domain"),
    Case("domain named platform", "financial", put("domain", "platform"), "domain"),
    Case("domain on the platform stack", "platform", put("domain", "media"), "domain"),
    Case("moving Windmill version", "platform", put("windmillVersion", "latest"), "windmillVersion"),
    Case("connect timeout 0", "platform", put("windmillConnectTimeoutSeconds", 0), "windmillConnectTimeoutSeconds"),
    Case("read timeout over 600", "platform", put("windmillReadTimeoutSeconds", 601), "windmillReadTimeoutSeconds"),
    Case("platformStack not a stack name", "financial", put("platformStack", "bad stack!"), "platformStack"),
    Case("windmillUrl not a URL", "platform", put("windmillUrl", "windmill.example.com"), "windmillUrl"),
    Case("windmillUrl with /api", "platform", put("windmillUrl", "https://windmill.example.com/api"), "windmillUrl"),
    Case("workspace id with a double hyphen", "platform", put("workspace.id", "homeops--platform"), "workspace.id"),
    Case("domain takes the platform workspace", "financial", put("workspace.id", "homeops-platform"), "workspace.id"),
    Case("workspace name over 50", "platform", put("workspace.name", "n" * 51), "workspace.name"),
    Case("workspace colour not #rrggbb", "platform", put("workspace.color", "blue"), "workspace.color"),
    Case("unknown deletion mode", "platform", put("workspace.deletionMode", "purge"), "workspace.deletionMode"),
    Case("workspace adopt 'yes'", "platform", put("workspace.adopt", "yes"), "workspace.adopt"),
    Case("misspelt workspace key", "platform", put("workspace.colour", "#000000"), "workspace.colour"),
    Case("folder name with a hyphen", "financial", both(put("workspace.folders[0].name", "at-om")),
         "workspace.folders[0].name"),
    Case("member email in upper case", "financial", put("workspace.members[0].email", "Trader@homeops.example"),
         "workspace.members[0].email"),
    Case("member role owner", "financial", put("workspace.members[0].role", "owner"), "workspace.members[0].role"),
    Case("group member not declared", "financial", put("workspace.groups[0].members", ["ghost@homeops.example"]),
         "workspace.groups[0].members[0]"),
    Case("variable outside the folders", "financial", put("workspace.variables[0].path", "f/elsewhere/x"),
         "workspace.variables[0].path"),
    Case("variable with secret and value", "financial", put("workspace.variables[0].value", "also"),
         "workspace.variables[0]"),
    Case("variable's secret not set", "financial", put("workspace.variables[0].secret", "never_set"),
         "workspace.variables[0].secret"),
    Case("plain value over 15000", "platform",
         both(put("workspace.variables[0].value", "v" * 15001), drop_secret_of_first_variable),
         "workspace.variables[0].value"),
    Case("resource references an undeclared variable", "financial",
         put("workspace.resources[0].value.secret_key", "$var:f/atom/nowhere"),
         "workspace.resources[0].value.secret_key"),
    Case("resource of an undeclared custom type", "financial", put("workspace.resources[0].type", "c_nowhere"),
         "workspace.resources[0].type"),
    Case("resource on a variable's path", "financial", put("workspace.resources[0].path", "f/atom/fmp_api_key"),
         "workspace.resources[0].path"),
    Case("resource type schema not an object", "financial", put("workspace.resourceTypes[0].schema", {"type": "array"}),
         "workspace.resourceTypes[0].schema.type"),
    Case("plain tcp docker host", "platform", docker(dockerHost="tcp://nas:2375"), "windmillStack.dockerHost"),
    Case("untagged caddy image", "platform", docker(caddy={"image": "caddy"}), "windmillStack.caddy.image"),
    Case("negative worker replicas", "platform", docker(workerGroups=[{"name": "default", "replicas": -1}]),
         "windmillStack.workerGroups[0].replicas"),
    Case("Postgres 13", "platform", docker(postgres={"version": "13"}), "windmillStack.postgres.version"),
    Case("worker env overrides DATABASE_URL", "platform",
         docker(workerGroups=[{"name": "default", "env": {"DATABASE_URL": "postgres://x"}}]),
         "windmillStack.workerGroups[0].env.DATABASE_URL"),
    Case("readiness timeout over 900", "platform", docker(readiness={"timeoutSeconds": 901}),
         "windmillStack.readiness.timeoutSeconds"),
    Case("docker stack on a domain stack", "financial", put("windmillStack", {"enabled": True}), "windmillStack"),
    Case("repository with its owner", "platform", put("githubSync.repository", "homeops/HomeOps"),
         "githubSync.repository"),
    Case("expression in runsOn", "platform", put("githubSync.runsOn", ["${{ evil }}"]), "githubSync.runsOn[0]"),
    Case("githubSync without githubToken", "platform", secret("githubToken", ""), "githubToken"),
    Case("platformLink on the platform stack", "platform",
         put("platformLink", {"triggers": {"flows": ["f/deployment/x"]}}), "platformLink"),
    Case("trigger flow outside the domain's folders", "financial",
         link(triggers={"flows": ["f/monitoring/alert_dispatcher"]}), "platformLink.triggers.flows[0]"),
    Case("windmillToken stored without --secret", "platform", lambda c, s: None, "windmillToken",
         plain_keys=("windmillToken",)),
    Case("an empty named secret", "platform",
         secret("secrets", {**PLATFORM_SECRETS["secrets"], "platform_redis_password": ""}),
         "secrets.platform_redis_password"),
]


@pytest.fixture(scope="module")
def windmill() -> Iterator[WindmillEmulator]:
    emulator = WindmillEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def base(stack: str, emulator: WindmillEmulator) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(config, secrets, platform outputs) of a committed stack whose API is the emulator: the
    platform manages it as an existing instance, the financial stack reads the platform's outputs."""
    config = copy.deepcopy(load_stack_config(stack))
    if stack == "platform":
        config[P + "windmillStack"] = {"enabled": False}
        config[P + "windmillUrl"] = emulator.url
        secrets = {**copy.deepcopy(PLATFORM_SECRETS), "windmillToken": emulator.admin_token}
        return config, secrets, None
    outputs = {**PLATFORM_OUTPUTS, "windmillUrl": emulator.url, "windmillApiUrl": emulator.url,
               "windmillToken": emulator.admin_token}
    return config, copy.deepcopy(FINANCIAL_SECRETS), outputs


@pytest.mark.parametrize("stack", ["platform", "financial"])
def test_the_base_configurations_are_accepted(stack: str, windmill: WindmillEmulator) -> None:
    """Without this, a case could pass because its base was already wrong."""
    config, secrets, outputs = base(stack, windmill)
    run = run_program(config, secrets=secrets, stack=stack, platform_outputs=outputs)
    assert run.env.find("pulumi-python:dynamic/windmill:Workspace")


def test_windmill_stack_enabled_false_in_any_case_deploys_nothing(windmill: WindmillEmulator) -> None:
    config, secrets, _ = base("platform", windmill)
    for written in ("False", "FALSE", " false ", False):
        config[P + "windmillStack"] = {**load_stack_config("platform")[P + "windmillStack"], "enabled": written}
        run = run_program(config, secrets=secrets, stack="platform")
        assert run.env.find("docker:index/container:Container") == [], written


def test_the_catalogue_is_large_enough_and_names_are_unique() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_at_preview_naming_the_key(case: Case, windmill: WindmillEmulator) -> None:
    config, secrets, outputs = base(case.stack, windmill)
    case.change(config, secrets)
    engine = ProviderEngine({})  # the Windmill resources' real providers, as `pulumi preview` runs them
    windmill.clear_requests()
    with pytest.raises(ConfigErrors) as refused:
        run_program(config, secrets=secrets, stack=case.stack, platform_outputs=outputs,
                    default_outputs=engine.outputs, plain_keys=case.plain_keys)
    message = str(refused.value)
    assert P + case.key in refused.value.keys, message
    assert windmill.requests == [], [f"{r.method} {r.path}" for r in windmill.requests]
    assert engine.state == {}
    shown = [*case.secrets, windmill.admin_token, *_secret_values(secrets)]
    assert [value for value in shown if value and value in message] == []
    assert "Traceback" not in message


def _secret_values(secrets: dict[str, Any]) -> list[str]:
    values: list[str] = []
    for value in secrets.values():
        if isinstance(value, dict):
            values.extend(v for v in value.values() if isinstance(v, str) and len(v) > 6)
        elif isinstance(value, str) and len(value) > 6:
            values.append(value)
    return values


WARNED = [
    ("plain http allowed", "platform",
     both(put("windmillUrl", "http://windmill.lan"), put("allowInsecureHttp", True)), "windmillUrl"),
    ("caddy domain on loopback", "platform",
     both(docker(caddy={"domain": "windmill.example.com"}, baseUrl="https://windmill.example.com"),
          put("instance", {"firstBoot": {"defaultAdminSecured": True}})),  # else first boot's rule refuses it
     "windmillStack.caddy.domain"),
    ("moving caddy tag", "platform", docker(caddy={"image": "caddy:2"}), "windmillStack.caddy.image"),
    ("host key checking off", "platform",
     docker(dockerHost="ssh://deploy@nas.home.arpa", dockerSshOpts=["-o", "StrictHostKeyChecking=no"]),
     "windmillStack.dockerSshOpts"),
    ("readiness timeout of 900 s", "platform", docker(readiness={"timeoutSeconds": 900}),
     "windmillStack.readiness.timeoutSeconds"),
    ("workflowFile of another stack", "financial", put("githubSync.workflowFile", "windmill-sync.yml"),
     "githubSync.workflowFile"),
    ("sync environment off", "platform", put("githubSync.environment", {"enabled": False}),
     "githubSync.environment.enabled"),
]


@pytest.mark.parametrize(("name", "stack", "change", "key"), WARNED, ids=[w[0] for w in WARNED])
def test_accepted_input_that_deserves_a_warning_gets_one_in_the_preview(
    name: str, stack: str, change: Change, key: str, windmill: WindmillEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    config, secrets, outputs = base(stack, windmill)
    change(config, secrets)
    with caplog.at_level(logging.WARNING):
        run_program(config, secrets=secrets, stack=stack, platform_outputs=outputs)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(message.startswith(f"{P}{key}: ") for message in warnings), warnings
