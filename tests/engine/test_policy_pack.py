"""The policy pack (policy/) run by the real Pulumi CLI: `pulumi preview --policy-pack …` against the emulator.

The CLI built here has no Python language host, so the pack is given as the executable
``scripts/pulumi-analyzer-policy-python`` (docs/policies.md, "How the Pulumi CLI runs the pack"), which
starts the pack named by ``HOMEOPS_POLICY_PACK``: a temporary copy of policy/ whose ``.venv`` links to the
repository's .venv (it has pulumi-policy from requirements-dev.txt), so CI installs nothing more.

* The committed platform and financial stacks, set up by the README's quickstart commands (Docker and
  GitHub sync off, as there), preview with the pack and no mandatory violation.
* One stack per mandatory policy a real preview can reach breaks that policy and nothing else mandatory,
  and its preview fails with the policy's message. Where the program's configuration can express the
  violation, the stack is the committed stack file with one change; where the program refuses it (or has
  no key for it), the stack runs a small program of its own that declares Windmill resources directly.
* The Docker, GitHub and random policies cannot be reached: the preview stops at the missing provider
  plugin before any policy runs (``NOT_REACHABLE``; the unit tests cover them).

Every stack is a private project (testkit/engine.py); the previews run side by side to keep the module
within about a minute and a half.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import EnforcementLevel

from policy.homeops_policy import PACK_NAME, POLICIES
from testkit.engine import ROOT, PulumiProject, Result
from tests.engine.quickstart import quickstart_secret_names, quickstart_steps, run_step, secret_value
from windmill_emulator import WindmillEmulator

PACK_EXECUTABLE = ROOT / "scripts" / "pulumi-analyzer-policy-python"
PROJECT_KEY = "homeops-windmill:"
# How the CLI lists a policy's finding: "- [mandatory]  items-under-own-folders  (<type>: <name>)".
FINDING = re.compile(r"^\s*- \[(mandatory|advisory)\]\s+([\w-]+)\s", re.M)
MEMBERS = ("trader@homeops.example", "analyst@homeops.example")
PARALLEL_PREVIEWS = 4

NOT_REACHABLE = {
    # Their resources come from provider plugins the CLI cannot load here (pulumi-docker, -github,
    # -random): the engine stops at the first such resource, before the pack sees the stack.
    "windmill-images-pinned": "docker",
    "postgres-never-published": "docker",
    "published-ports-on-loopback": "docker",
    "postgres-data-volume-protected": "docker",
    "postgres-password-generated": "docker and random",
    "no-infrastructure-in-domain-stacks": "docker",
    "no-credentials-in-github-variables": "github",
}


# ------------------------------------------------------------------------------------------------
# Violating stacks, by configuration: the committed stack file with one change
# ------------------------------------------------------------------------------------------------


SLACK_WEBHOOK = "https://hooks.slack.com/services/T0ENGINE0/B0TIER000/policy5f3a9c"
LITERAL_PASSWORD = "engine-tier-literal-password-5f3a9c"


def plain_variable_holding_a_webhook(config: dict[str, Any]) -> None:
    # No credential word in the path: the value's shape alone gives it away.
    config["workspace"]["variables"].append(
        {"path": "f/monitoring/oncall_channel_url", "value": SLACK_WEBHOOK, "description": "On-call channel"}
    )


def resource_with_a_literal_password(config: dict[str, Any]) -> None:
    redis = next(r for r in config["workspace"]["resources"] if r["path"] == "f/infrastructure/redis")
    redis["value"]["password"] = LITERAL_PASSWORD


@dataclass(frozen=True)
class ConfigChange:
    """A stack of the real program: the committed ``Pulumi.<stack>.yaml`` with ``edit`` applied."""

    stack: str
    edit: Callable[[dict[str, Any]], None]
    hidden: str | None = None  # a value the stack holds that no output may show


# ------------------------------------------------------------------------------------------------
# Violating stacks, by program: Windmill resources declared directly
# ------------------------------------------------------------------------------------------------

PROGRAM_HEADER = '''\
"""A stack that breaks one policy of the pack (tests/engine/test_policy_pack.py): the project's own
Windmill resources, declared directly in the homeops-media workspace with its folder library."""
import pulumi

from components.windmill.base import Connection
from components.windmill.folders import Folder, FolderArgs
from components.windmill.tokens import Token, TokenArgs
from components.windmill.variables import Variable, VariableArgs
from components.windmill.workspaces import Workspace, WorkspaceArgs

config = pulumi.Config()
connection = Connection(url=config.require("windmillUrl"), token=config.require_secret("windmillToken"))
media = Workspace("media", WorkspaceArgs(workspace_id="homeops-media", name="HomeOps Media"), connection=connection)
library = Folder("library", FolderArgs(workspace="homeops-media", name="library"), connection=connection,
                 opts=pulumi.ResourceOptions(depends_on=[media]))
in_library = pulumi.ResourceOptions(depends_on=[library])
'''

TOKEN_FOR_EVERY_WORKSPACE = """
Token("media-automation", TokenArgs(label="media automation", scopes=["jobs:run:flows:f/library/scan"]),
      connection=connection)
"""

DOMAIN_CALLS_DOMAIN = """
to_financial = Token("media-to-financial", TokenArgs(
    label="media runs financial flows", workspace="homeops-financial", scopes=["jobs:run:flows:f/atom/nightly_scan"],
), connection=connection)
Variable("financial-flows-token", VariableArgs(
    workspace="homeops-media", path="f/library/financial_flows_token", value=to_financial.token,
    description="Starts the nightly scan of homeops-financial",
), connection=connection, opts=in_library)
"""

WILDCARD_SCOPE = """
to_platform = Token("media-to-platform", TokenArgs(
    label="media calls platform services", workspace="homeops-platform", scopes=["jobs:run:flows:f/monitoring/*"],
), connection=connection)
Variable("platform-services-token", VariableArgs(
    workspace="homeops-media", path="f/library/platform_services_token", value=to_platform.token,
    description="Runs the platform's monitoring flows",
), connection=connection, opts=in_library)
"""

VARIABLE_OUTSIDE_THE_FOLDERS = """
Variable("download-dir", VariableArgs(
    workspace="homeops-media", path="f/downloads/target_dir", value="/srv/media/incoming", is_secret=False,
), connection=connection, opts=in_library)
"""

VARIABLE_IN_ANOTHER_WORKSPACE = """
Variable("platform-alert-channel", VariableArgs(
    workspace="homeops-platform", path="f/monitoring/media_alert_channel", value="#media-alerts", is_secret=False,
), connection=connection, opts=in_library)
"""

TOKEN_IN_A_PLAIN_VARIABLE = """
scan = Token("scan-caller", TokenArgs(
    label="media scan caller", workspace="homeops-media", scopes=["jobs:run:flows:f/library/scan"],
), connection=connection)
Variable("scan-caller", VariableArgs(
    workspace="homeops-media", path="f/library/scan_caller", value=scan.token, is_secret=False,
), connection=connection, opts=in_library)
"""

WORKSPACE_WITHOUT_THE_PREFIX = """
ops = Workspace("ops", WorkspaceArgs(workspace_id="ops", name="Operations"), connection=connection)
Folder("tools", FolderArgs(workspace="ops", name="tools"), connection=connection,
       opts=pulumi.ResourceOptions(depends_on=[ops]))
"""

UNPREFIXED_LINK_VARIABLE = """
trigger = Token("platform-triggers", TokenArgs(
    label="platform starts the media scan", workspace="homeops-media", scopes=["jobs:run:flows:f/library/scan"],
), connection=connection)
Variable("platform-trigger-token", VariableArgs(
    workspace="homeops-platform", path="f/deployment/trigger_token", value=trigger.token,
    description="Lets the platform's scheduler start the media library scan",
), connection=connection, opts=in_library)
"""

SYNC_TOKEN_FOR_ANOTHER_WORKSPACE = """
import datetime
expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
Token("github-sync", TokenArgs(
    label="github-sync homeops-media", workspace="homeops-platform",
    scopes=["jobs:run:flows:f/deployment/sync_domain"], expiration=expires,
), connection=connection)
"""


@dataclass(frozen=True)
class Program:
    """A stack whose ``__main__.py`` is ``PROGRAM_HEADER`` followed by ``body``."""

    body: str


@dataclass(frozen=True)
class Case:
    """One mandatory policy, the stack that breaks it, and a fragment of the message it must print."""

    policy: str
    setup: ConfigChange | Program
    message: str


CASES = (
    # The program refuses a token without a workspace (PlatformLink always sets one): by program.
    Case("token-limited-to-one-workspace", Program(TOKEN_FOR_EVERY_WORKSPACE),
         "Windmill API token 'media automation' is not limited to a workspace"),
    # No config key names another domain's workspace: by program.
    Case("cross-workspace-calls-allowed-directions", Program(DOMAIN_CALLS_DOMAIN),
         "held by homeops-media (stored in f/library/financial_flows_token): homeops-media could run jobs in "
         "homeops-financial: a domain never calls another domain"),
    # platformLink only takes flow paths, which cannot be wildcards: by program.
    Case("cross-workspace-tokens-run-named-flows-only", Program(WILDCARD_SCOPE),
         "lets homeops-media call homeops-platform, but scope 'jobs:run:flows:f/monitoring/*' is not "
         "jobs:run:flows:f/<folder>/<name> or jobs:run:scripts:f/<folder>/<name>"),
    # A stack's workspace id must be homeops-<its concern>[-<suffix>] (config guards): by program.
    Case("workspaces-named-by-prefix", Program(WORKSPACE_WITHOUT_THE_PREFIX),
         "Windmill folder tools is in workspace 'ops', which is not named by the architecture's prefixes"),
    # platformLink names the trigger variable <domain>_trigger_…: by program.
    Case("foreign-variables-prefixed-by-owner", Program(UNPREFIXED_LINK_VARIABLE),
         "Windmill variable f/deployment/trigger_token is registered in homeops-platform by another workspace's "
         "stack, so its name must say whose it is (media_…)"),
    # The program refuses a path outside the workspace's folders at preview: by program.
    Case("items-under-own-folders", Program(VARIABLE_OUTSIDE_THE_FOLDERS),
         "Windmill variable f/downloads/target_dir is under f/downloads, which is not one of homeops-media's "
         "folders (library)"),
    # A stack's config declares one workspace (and the link's token variables): by program.
    Case("no-shared-resources", Program(VARIABLE_IN_ANOTHER_WORKSPACE),
         "Windmill variable f/monitoring/media_alert_channel is declared by the stack of homeops-media in "
         "homeops-platform"),
    Case("secret-values-in-secret-variables",
         ConfigChange("platform", plain_variable_holding_a_webhook, hidden=SLACK_WEBHOOK),
         "Windmill variable f/monitoring/oncall_channel_url in homeops-platform is a plain variable, but its "
         "value looks like a Slack webhook URL"),
    Case("credentials-only-by-reference",
         ConfigChange("platform", resource_with_a_literal_password, hidden=LITERAL_PASSWORD),
         "Windmill resource f/infrastructure/redis in homeops-platform: value.password is written in the resource, "
         "but its key names a credential ('password')"),
    # The program stores every token it mints in a secret variable: by program.
    Case("tokens-in-secret-variables", Program(TOKEN_IN_A_PLAIN_VARIABLE),
         "Windmill variable f/library/scan_caller in homeops-media holds a Windmill API token (scan-caller) but is "
         "not secret"),
    # The program mints the sync token for the stack's own workspace only: by program.
    Case("sync-token-limited-to-its-workspace", Program(SYNC_TOKEN_FOR_ANOTHER_WORKSPACE),
         "Windmill token 'github-sync homeops-media' of the GitHub sync workflow works on homeops-platform, but this "
         "stack syncs homeops-media"),
)


# ------------------------------------------------------------------------------------------------
# Running the stacks
# ------------------------------------------------------------------------------------------------


def findings(output: str, level: str) -> set[str]:
    """The names of the policies the CLI reports at ``level`` (mandatory or advisory)."""
    return {name for found, name in FINDING.findall(output) if found == level}


@dataclass
class Setting:
    """What every stack of the module shares: the emulator, the pack's copy, a folder per stack."""

    emulator: WindmillEmulator
    pack: Path
    base: Path

    def project(self, name: str) -> PulumiProject:
        return PulumiProject(self.base / name, extra_env={"HOMEOPS_POLICY_PACK": str(self.pack)})

    def preview(self, project: PulumiProject, *args: str) -> Result:
        return project.pulumi(*args, "--policy-pack", str(PACK_EXECUTABLE), check=False)

    def quickstart_preview(self, project: PulumiProject, stack: str, before: Callable[[], object] = bool) -> Result:
        """The README's quickstart for ``stack`` up to its preview, which runs with the pack (``before``
        it, ``before()``)."""
        for step in quickstart_steps(stack, url=self.emulator.url):
            if step.name == "preview":
                before()
                return self.preview(project, *step.args)
            run_step(project, step, stack, token=self.emulator.admin_token)
        raise AssertionError(f"the README's {stack} quickstart has no preview")

    def committed_stacks(self, pool: ThreadPoolExecutor) -> dict[str, Future[Result]]:
        """Both quickstarts side by side: the financial stack reads the platform stack's outputs, so
        its preview waits until the platform is deployed (after its own preview, as in the README)."""
        platform, financial = self.project("platform"), self.project("financial")
        financial.state = platform.state  # one backend; a PULUMI_HOME each, so two `stack init`s never race
        deployed = threading.Event()

        def deploy_platform() -> Result:
            try:
                preview = self.quickstart_preview(platform, "platform")
                if preview.code == 0:  # the preview just ran, with the pack: the README's `up` need not again
                    platform.pulumi("up", "--stack", "platform", "--yes", "--skip-preview")
                return preview
            finally:
                deployed.set()

        return {
            "platform": pool.submit(deploy_platform),
            "financial": pool.submit(self.quickstart_preview, financial, "financial",
                                     lambda: deployed.wait(timeout=300)),
        }

    def secrets_of(self, stack: str) -> list[str]:
        """``config set-all`` arguments for every secret the README's quickstart sets on ``stack``."""
        arguments = []
        for name in quickstart_secret_names(stack):
            arguments += ["--secret", f"secrets.{name}={secret_value(name)}"]
        return arguments

    def committed_platform_with_docker(self) -> Result:
        """The committed platform stack file unchanged (Docker stack and GitHub sync on), previewed."""
        project = self.project("docker")
        project.pulumi("stack", "init", "platform", "--secrets-provider", "passphrase")
        project.pulumi("config", "set-all", "--stack", "platform", "--path", *self.secrets_of("platform"),
                       "--secret", "githubToken=engine-tier-github-token")
        return self.preview(project, "preview", "--stack", "platform")

    def violating_stack(self, case: Case) -> tuple[Result, str]:
        """The case's stack, previewed with the pack; also everything the CLI printed."""
        project = self.project(case.policy)
        stack = case.setup.stack if isinstance(case.setup, ConfigChange) else "violation"
        if isinstance(case.setup, ConfigChange):
            edit_stack_file(project.dir / f"Pulumi.{stack}.yaml", case.setup.edit, url=self.emulator.url)
            secrets = self.secrets_of(stack)
        else:
            (project.dir / "__main__.py").unlink()  # the link to the real program
            (project.dir / "__main__.py").write_text(PROGRAM_HEADER + textwrap.dedent(case.setup.body))
            secrets = ["--plaintext", f"windmillUrl={self.emulator.url}"]
        project.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
        project.pulumi("config", "set-all", "--stack", stack, "--path", *secrets,
                       "--secret", f"windmillToken={self.emulator.admin_token}")
        preview = self.preview(project, "preview", "--stack", stack)
        return preview, project.transcript()


def edit_stack_file(path: Path, edit: Callable[[dict[str, Any]], None], *, url: str) -> None:
    """The committed stack file on the emulator without Docker or GitHub sync, then ``edit`` (given the
    config without the project prefix)."""
    document = yaml.safe_load(path.read_text())
    config = {key.removeprefix(PROJECT_KEY): value for key, value in document["config"].items()}
    config.pop("githubSync", None)
    config["windmillUrl"] = url  # the platform's own connection; a domain's instead of its StackReference
    if "windmillStack" in config:
        config["windmillStack"]["enabled"] = False
    edit(config)
    document["config"] = {f"{PROJECT_KEY}{key}": value for key, value in config.items()}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@dataclass
class Outcome:
    """Every preview of the module, started once and run side by side; a test waits for its own (so a
    stack that cannot be set up fails its test only)."""

    committed: dict[str, Future[Result]]
    violations: dict[str, Future[tuple[Result, str]]]
    unreachable: Future[Result]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    base = tmp_path_factory.mktemp("policy-pack")
    pack = base / "policy"
    shutil.copytree(ROOT / "policy", pack, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    (pack / ".venv").symlink_to(ROOT / ".venv")  # pulumi-policy is in requirements-dev.txt
    emulator = WindmillEmulator().start()
    for email in MEMBERS:  # the financial stack's members are users of the instance
        emulator.add_instance_user(email)
    setting = Setting(emulator, pack, base)
    try:
        with ThreadPoolExecutor(max_workers=PARALLEL_PREVIEWS + 1) as pool:  # + the financial stack's wait
            committed = setting.committed_stacks(pool)  # the longest chain: first
            violations = {case.policy: pool.submit(setting.violating_stack, case) for case in CASES}
            unreachable = pool.submit(setting.committed_platform_with_docker)
            yield Outcome(committed, violations, unreachable)
    finally:
        emulator.stop()


# ------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["platform", "financial"])
def test_a_committed_stack_passes_the_pack(outcome: Outcome, stack: str) -> None:
    preview = outcome.committed[stack].result()
    assert preview.code == 0, preview
    assert "Policy Packs run:" in preview.output and PACK_NAME in preview.output, preview  # the pack ran
    assert findings(preview.output, "mandatory") == set(), preview


@pytest.mark.parametrize("case", CASES, ids=[case.policy for case in CASES])
def test_a_stack_breaking_a_mandatory_policy_fails_its_preview_with_the_message(outcome: Outcome, case: Case) -> None:
    preview, transcript = outcome.violations[case.policy].result()
    assert preview.code != 0, preview
    assert findings(preview.output, "mandatory") == {case.policy}, preview
    assert case.message in " ".join(preview.output.split()), preview
    assert "Traceback" not in preview.output, preview
    if isinstance(case.setup, ConfigChange) and case.setup.hidden:
        assert case.setup.hidden not in transcript


def test_every_mandatory_policy_is_run_by_a_real_preview_or_says_why_not() -> None:
    mandatory = {policy.name for policy in POLICIES if policy.enforcement_level == EnforcementLevel.MANDATORY}
    cases = [case.policy for case in CASES]
    assert len(cases) == len(set(cases))
    assert set(cases) | set(NOT_REACHABLE) == mandatory
    assert not set(cases) & set(NOT_REACHABLE)


def test_a_stack_with_docker_resources_stops_before_the_pack_judges_them(outcome: Outcome) -> None:
    """What NOT_REACHABLE rests on: the committed platform stack as committed (Docker stack and GitHub
    sync on) stops at the first provider plugin the CLI cannot load, and no Docker policy reports."""
    preview = outcome.unreachable.result()
    assert preview.code != 0, preview
    missing = re.findall(r"no resource plugin 'pulumi-resource-(\w+)' found", preview.output)
    assert missing and set(missing) <= {"random", "docker", "github"}, preview
    assert not findings(preview.output, "mandatory") & set(NOT_REACHABLE), preview
