"""The README's examples run as written, so they cannot rot.

* *Adding a domain*: the media stack file and the secret commands are read from README.md and run
  under mocks: its preview declares the workspace and the sync workflow, each secret the README sets
  is needed and no other one is, and ``pulumi up`` refuses exactly the placeholders the README names
  until the commands it gives set them.
* *What each stack declares*: the exports the README names as carrying a secret are exactly the
  platform stack's secret exports, over the runs that produce each of them.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.errors import ConfigErrors
from components.config.schema import PROJECT
from testkit.mocking import is_secret
from testkit.program import PLATFORM_OUTPUTS, PLATFORM_SECRETS, load_stack_config, run_program

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DYNAMIC = "pulumi-python:dynamic/windmill:"
GITHUB_FILE = "github:index/repositoryFile:RepositoryFile"
SECRET_EXPORTS_SENTENCE = re.compile(r"The exports that carry a secret value are (.*?); no other\s+export", re.S)


def section(title: str) -> str:
    """The text of the README section ``## <title>``, up to the next ``## `` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def fenced(text: str, language: str) -> list[str]:
    """The ``language`` code blocks of ``text``, dedented (the README indents them in a list)."""
    return [textwrap.dedent(block) for block in re.findall(rf"```{language}\n(.*?)```", text, re.S)]


def media_stack() -> dict[str, Any]:
    [stack_file] = fenced(section("Adding a domain"), "yaml")
    return dict(yaml.safe_load(stack_file)["config"])


def media_commands() -> list[list[str]]:
    [commands] = fenced(section("Adding a domain"), "bash")
    return [shlex.split(line, comments=True) for line in commands.splitlines() if line.strip()]


def secret_keys(commands: list[list[str]]) -> list[str]:
    """The config key of each ``pulumi config set --secret`` command (``secrets.<name>`` for --path)."""
    keys = []
    for words in commands:
        if words[:3] == ["pulumi", "config", "set"] and "--secret" in words:
            positional = [w for i, w in enumerate(words[3:], 3)
                          if not w.startswith("--") and words[i - 1] != "--stack"]
            keys.append(positional[0])
    return keys


def secrets_for(keys: list[str]) -> dict[str, Any]:
    """Stand-in values for the keys, as ``run_program`` takes them."""
    values: dict[str, Any] = {"secrets": {}}
    for config_key in keys:
        if config_key.startswith("secrets."):
            values["secrets"][config_key.removeprefix("secrets.")] = f"readme-{config_key}-value"
        else:
            values[config_key] = f"readme-{config_key}-value"
    return values


def test_the_readme_media_commands_address_the_media_stack_in_order() -> None:
    commands = media_commands()
    assert commands[0][:3] == ["pulumi", "stack", "init"] and commands[0][3] == "media"
    for words in commands[1:]:
        assert words[words.index("--stack") + 1] == "media", " ".join(words)
    assert secret_keys(commands) == ["secrets.jellyfin_api_key", "githubToken"]


def placeholder_keys() -> list[str]:
    """The keys of the ``pulumi config set --stack media --path '<key>' …`` commands in the prose."""
    return re.findall(r"`pulumi config set --stack media --path '([\w.]+)' [^`]*`", section("Adding a domain"))


def test_the_readme_media_domain_previews_as_written() -> None:
    keys = secret_keys(media_commands())
    run = run_program(media_stack(), secrets=secrets_for(keys), stack="media", platform_outputs=PLATFORM_OUTPUTS,
                      preview=True, accept_placeholders=False)
    env = run.env
    assert env.one(f"{DYNAMIC}Workspace", "media-workspace").plain_inputs["workspace_id"] == "homeops-media"
    variables = {r.plain_inputs["path"]: r for r in env.find(f"{DYNAMIC}Variable")}
    assert set(variables) == {"f/media/jellyfin_api_key", "f/media/library_root"}
    assert is_secret(variables["f/media/jellyfin_api_key"].inputs["value"])
    assert env.one(f"{DYNAMIC}Resource", "media-resource-f/media/jellyfin")
    assert env.one(f"{DYNAMIC}ResourceType", "media-type-c_jellyfin")
    # Without wmillSyncToken the stack mints the sync workflow's token, limited to the workspace.
    assert env.one(f"{DYNAMIC}Token", "media-sync-token").plain_inputs["workspace"] == "homeops-media"
    [workflow] = [r for r in env.find(GITHUB_FILE) if r.plain_inputs["file"].endswith("media-sync.yml")]
    assert workflow.plain_inputs["repository"] == "HomeOps"
    assert run.exports["workspaceId"] == "homeops-media"
    assert run.exports["syncWorkflowPath"] == ".github/workflows/media-sync.yml"


@pytest.mark.parametrize("left_out", secret_keys(media_commands()))
def test_every_secret_the_readme_sets_for_media_is_needed(left_out: str) -> None:
    keys = [k for k in secret_keys(media_commands()) if k != left_out]
    with pytest.raises(ConfigErrors) as caught:
        run_program(media_stack(), secrets=secrets_for(keys), stack="media", platform_outputs=PLATFORM_OUTPUTS)
    # One problem, naming the key left out (a secret by its path, from the variable that needs it).
    assert len(caught.value.keys) == 1, caught.value
    assert re.search(rf"{PROJECT}:{re.escape(left_out)}\b(?![.\w])", str(caught.value)), caught.value


def test_the_exports_the_readme_calls_secret_are_the_platform_stacks_secret_exports() -> None:
    sentence = SECRET_EXPORTS_SENTENCE.search(section("What each stack declares"))
    assert sentence is not None
    named = set(re.findall(r"`(\w+)`", sentence.group(1)))
    # An operator's token; then first boot (no windmillToken) with an operator and the default admin
    # kept under a generated password: between them every secret export the program has.
    with_token = run_program(load_stack_config("platform"), secrets=PLATFORM_SECRETS, stack="platform")
    config = load_stack_config("platform")
    config[f"{PROJECT}:instance"] = {
        "users": [{"email": "ops@homeops.example", "name": "Ops", "superAdmin": True}],
        "firstBoot": {"defaultAdmin": "rotate"},
    }
    first_boot = run_program(config, secrets={k: v for k, v in PLATFORM_SECRETS.items() if k != "windmillToken"},
                             stack="platform", platform_outputs={})
    secret = with_token.secret_exports | first_boot.secret_exports
    assert secret == named
    everything = set(with_token.exports) | set(first_boot.exports)
    assert {"windmillTokenOwner", "windmillFirstBoot", "domainTokens"} <= everything - secret


def test_up_refuses_the_placeholders_the_readme_names_until_its_commands_set_them() -> None:
    secrets = secrets_for(secret_keys(media_commands()))
    with pytest.raises(ConfigErrors) as caught:
        run_program(media_stack(), secrets=secrets, stack="media", platform_outputs=PLATFORM_OUTPUTS,
                    accept_placeholders=False)
    named = placeholder_keys()
    assert named == ["githubSync.owner", "githubSync.repository"]
    assert caught.value.keys == {f"{PROJECT}:{k}" for k in named}
    stack = media_stack()
    for path in named:  # what each `pulumi config set --path` writes into the stack file
        section_key, field = path.split(".")
        stack[f"{PROJECT}:{section_key}"] = {**stack[f"{PROJECT}:{section_key}"], field: f"media-{field}"}
    run = run_program(stack, secrets=secrets, stack="media", platform_outputs=PLATFORM_OUTPUTS,
                      accept_placeholders=False)
    [workflow] = [r for r in run.env.find(GITHUB_FILE) if r.plain_inputs["file"].endswith("media-sync.yml")]
    assert workflow.plain_inputs["repository"] == "media-repository"
