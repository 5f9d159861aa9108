"""Secret value policies (policy/homeops_policy/secret_values.py): credential names and shapes,
secrets in secret variables, credentials in resources only by reference, generated values kept
secret, no credential in a GitHub Actions variable; no message shows the value it found."""

from __future__ import annotations

import pytest

from policy.homeops_policy import secret_values
from tests.unit.policy_stacks import (
    ACTIONS_VARIABLE,
    GENERIC,
    PASSWORD,
    SECRET_VALUE,
    WM,
    StackBuilder,
    link_stack,
    one,
    resource,
    violations,
    wm_props,
)


@pytest.mark.parametrize(("name", "word"), [
    ("fmp_api_key", "api_key"), ("trading_db_password", "password"), ("githubToken", "token"),
    ("alerts_webhook_url", "webhook"), ("alpaca_key_id", "key_id"), ("library_root", None), ("WMILL_URL", None),
])
def test_credential_names(name: str, word: str | None) -> None:
    assert secret_values.credential_name(name) == word


@pytest.mark.parametrize(("value", "shape"), [
    ("https://hooks.slack.com/services/T000/B000/XXXXXXXX", "a Slack webhook URL"),
    ("ghp_" + "a1" * 18, "a GitHub token"),
    ("postgres://atom:" + SECRET_VALUE + "@db:5432/trading", "a URL with a password"),
    ("AKIAABCDEFGHIJKLMNOP", "an AWS access key id"),
    ("Xk9fQ2mZ7rT1vB8nL4pW6yH3cJ5dG0sA", "a long random key"),
    ("$var:f/atom/fmp_api_key", None),
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", None),  # a hex digest
    ("https://financialmodelingprep.com/api", None),
])
def test_credential_shapes(value: str, shape: str | None) -> None:
    assert secret_values.credential_shape(value) == shape


def test_secret_values_in_secret_variables() -> None:
    policy = secret_values.SECRET_VARIABLES
    secret = resource(WM + "Variable", wm_props("variable", workspace="homeops-financial", path="f/atom/fmp_api_key",
                                                value=SECRET_VALUE, is_secret=True))
    plain = resource(WM + "Variable", wm_props("variable", workspace="homeops-media", path="f/media/library_root",
                                               value="/srv/media", is_secret=False))
    assert violations(policy, secret) == [] and violations(policy, plain) == []
    by_name = resource(WM + "Variable", wm_props("variable", workspace="homeops-financial",
                                                 path="f/atom/trading_db_password", value=SECRET_VALUE,
                                                 is_secret=False))
    message = one(policy, by_name)
    assert "Windmill variable f/atom/trading_db_password in homeops-financial is a plain variable, but its name " \
           "contains 'password'" in message
    assert SECRET_VALUE not in message
    by_shape = resource(GENERIC, {"workspace": "homeops-media", "path": "f/media/notify", "is_secret": False,
                                  "value": "https://hooks.slack.com/services/T0/B0/" + SECRET_VALUE})
    message = one(policy, by_shape)
    assert "but its value looks like a Slack webhook URL" in message and SECRET_VALUE not in message


def test_credentials_only_by_reference() -> None:
    policy = secret_values.RESOURCE_REFERENCES
    ok = resource(WM + "Resource", wm_props(
        "resource", workspace="homeops-financial", path="f/atom/trading_db", resource_type="postgresql",
        value={"host": "db", "port": 5432.0, "user": "atom", "password": "$var:f/atom/trading_db_password"}))
    assert violations(policy, ok) == []
    bad = resource(WM + "Resource", wm_props(
        "resource", workspace="homeops-financial", path="f/atom/alpaca", resource_type="c_alpaca",
        value={"key_id": "$var:f/atom/alpaca_api_key_id", "secret_key": SECRET_VALUE,
               "hooks": [{"url": "https://hooks.slack.com/services/T0/B0/" + SECRET_VALUE}]}))
    found = violations(policy, bad)
    assert found == [
        "Windmill resource f/atom/alpaca in homeops-financial: value.secret_key is written in the resource, but its "
        "key names a credential ('secret'). Store it in a secret variable of the same workspace and reference it as "
        "\"$var:<path>\".",
        "Windmill resource f/atom/alpaca in homeops-financial: value.hooks[0].url is written in the resource, but it "
        "looks like a Slack webhook URL. Store it in a secret variable of the same workspace and reference it as "
        "\"$var:<path>\".",
    ]


def test_tokens_in_secret_variables() -> None:
    policy = secret_values.GENERATED_VALUES
    secret = link_stack("homeops-platform", "homeops-financial", ["jobs:run:flows:f/a/b"])
    assert violations(policy, secret.args()) == []
    stack = StackBuilder()
    stack.workspace("homeops-platform", "infrastructure")
    password = stack.add(PASSWORD, "db-password", {"length": 32.0, "special": False})
    stack.wm("variable", "pg", depends={"value": [password]}, workspace="homeops-platform",
             path="f/infrastructure/pg", value=SECRET_VALUE, is_secret=False)
    message = one(policy, stack.args())
    assert "Windmill variable f/infrastructure/pg in homeops-platform holds a generated password (db-password) but " \
           "is not secret" in message


def test_no_credentials_in_github_variables() -> None:
    policy = secret_values.GITHUB_ACTIONS_VARIABLES
    ok = resource(ACTIONS_VARIABLE, {"repository": "HomeOps", "variableName": "WMILL_URL",
                                     "value": "https://windmill.homeops.example"})
    assert violations(policy, ok) == []
    bad = resource(ACTIONS_VARIABLE, {"repository": "HomeOps", "variableName": "WMILL_TOKEN", "value": SECRET_VALUE})
    message = one(policy, bad)
    assert "GitHub Actions variable WMILL_TOKEN is readable by anyone" in message and SECRET_VALUE not in message
