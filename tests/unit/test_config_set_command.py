"""Every fix the config layer prints is a pulumi config set that names the stack it is for."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest
from pulumi.runtime.settings import _set_stack

from components.config.errors import config_set_command


@pytest.fixture
def media_stack() -> Iterator[None]:
    before = pulumi.get_stack()
    _set_stack("media")
    yield
    _set_stack(before)


def test_a_secret_entry_is_set_with_path_on_the_running_stack(media_stack: None) -> None:
    assert config_set_command("secrets.fmp_api_key") == \
        "pulumi config set --stack media --secret --path 'secrets.fmp_api_key' <value>"


def test_a_top_level_key_is_set_without_path(media_stack: None) -> None:
    assert config_set_command("githubToken", "<token>") == \
        "pulumi config set --stack media --secret githubToken <token>"
    assert config_set_command("windmillUrl", "https://…", secret=False) == \
        "pulumi config set --stack media windmillUrl https://…"
