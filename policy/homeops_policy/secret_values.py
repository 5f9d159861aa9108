"""Secrets: a value that looks like a credential lives only in a secret.

"Looks like a credential" is decided twice, and either is enough:

* by **name**: the variable's path, the resource value's key or the GitHub variable's name has a
  credential word in it (``password``, ``secret``, ``token``, ``api_key``, ``webhook``, ...);
* by **shape**: the value itself has the form of a known credential (a Slack or Discord webhook URL,
  a GitHub or Slack token, an AWS access key id, a JWT, a PEM private key, a URL with a password in
  it) or is one long random-looking word.

Messages name the path, key and the kind of shape, never the value: the policy SDK hands policies
secret values in plaintext.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .model import GITHUB_VARIABLES, RANDOM_PASSWORD, UNKNOWN, Stack, item, item_name, shown

CREDENTIAL_WORDS = frozenset({
    "password", "passwd", "passphrase", "secret", "secrets", "token", "tokens", "credential",
    "credentials", "apikey", "webhook", "privatekey", "dsn",
})
# Two consecutive words that make a credential name although neither does alone.
CREDENTIAL_PAIRS = frozenset({
    ("api", "key"), ("private", "key"), ("access", "key"), ("signing", "key"), ("encryption", "key"),
    ("ssh", "key"), ("master", "key"), ("license", "key"), ("key", "id"), ("connection", "string"),
})
CREDENTIAL_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Slack webhook URL", re.compile(r"https://hooks\.slack\.com/(services|workflows|triggers)/\S+")),
    ("a Discord webhook URL", re.compile(r"https://([\w-]+\.)?discord(app)?\.com/api/webhooks/\d+/\S+")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,})")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a PEM private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a JSON Web Token", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")),
    ("a URL with a password", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@$]+:[^/\s@]+@")),
)
_RANDOM_WORD = re.compile(r"[A-Za-z0-9_+/=-]{32,}")
# Hex digests (4 bits per character at most) and ids stay below this; generated keys do not.
RANDOM_BITS_PER_CHARACTER = 4.2
REFERENCE = re.compile(r"\$(var|res):\S+")


def credential_name(name: str) -> str | None:
    """The credential word(s) ``name`` contains (``api_key``), or None."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    words = [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]
    for word in words:
        if word in CREDENTIAL_WORDS:
            return word
    for first, second in itertools.pairwise(words):
        if (first, second) in CREDENTIAL_PAIRS:
            return f"{first}_{second}"
    return None


def _bits_per_character(word: str) -> float:
    counts = Counter(word)
    return -sum(n / len(word) * math.log2(n / len(word)) for n in counts.values())


def credential_shape(value: Any) -> str | None:
    """What kind of credential ``value`` looks like (``a GitHub token``), or None."""
    if not isinstance(value, str) or REFERENCE.fullmatch(value.strip()):
        return None
    for what, shape in CREDENTIAL_SHAPES:
        if shape.search(value):
            return what
    word = value.strip()
    if (_RANDOM_WORD.fullmatch(word) and re.search(r"[A-Za-z]", word) and re.search(r"\d", word)
            and _bits_per_character(word) > RANDOM_BITS_PER_CHARACTER):
        return "a long random key"
    return None


def literal_credentials(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(location, why)`` for each literal in a JSON value that should be a ``$var:`` reference
    to a secret variable: a string under a credential-named key, or one shaped like a credential."""
    if isinstance(value, dict):
        for key, child in value.items():
            location = f"{where}.{key}" if where else str(key)
            word = credential_name(str(key))
            if word and isinstance(child, str) and child and not REFERENCE.fullmatch(child.strip()):
                yield location, f"its key names a credential ('{word}')"
                continue
            yield from literal_credentials(child, location)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from literal_credentials(child, f"{where}[{index}]")
    else:
        shape = credential_shape(value)
        if shape:
            yield where or "value", f"it looks like {shape}"


# ------------------------------------------------------------------------------------------------
# Policies
# ------------------------------------------------------------------------------------------------


def _plain_secret_variable(args: ResourceValidationArgs, report: ReportViolation) -> None:
    entry = item(args)
    if entry.kind != "variable" or entry.props.get("is_secret", True) is not False:
        return
    path = entry.props.get("path")
    path_text = path if isinstance(path, str) else entry.name
    word = credential_name(item_name(path)) if isinstance(path, str) else None
    shape = credential_shape(entry.props.get("value"))
    if word or shape:
        why = f"its name contains '{word}'" if word else f"its value looks like {shape}"
        report(
            f"Windmill variable {path_text} in {shown(entry.workspace)} is a plain variable, but {why}. "
            f"Declare it as a secret (stack config: `secret: <name>` and `pulumi config set --secret --path "
            f"'secrets.<name>'`; resource input: is_secret true) so Windmill encrypts it and Pulumi keeps it out "
            f"of plain state.",
            None,
        )


SECRET_VARIABLES = ResourceValidationPolicy(
    name="secret-values-in-secret-variables",
    description="A Windmill variable whose name or value looks like a credential is a secret variable.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_plain_secret_variable,
)


def _resource_literals(args: ResourceValidationArgs, report: ReportViolation) -> None:
    entry = item(args)
    if entry.kind != "resource":
        return
    value = entry.props.get("value")
    if value is UNKNOWN:
        return
    for location, why in literal_credentials(value):
        report(
            f"Windmill resource {entry.label} in {shown(entry.workspace)}: value.{location} is written in the "
            f"resource, but {why}. Store it in a secret variable of the same workspace and reference it as "
            f"\"$var:<path>\".",
            None,
        )


RESOURCE_REFERENCES = ResourceValidationPolicy(
    name="credentials-only-by-reference",
    description="A Windmill resource holds no credential itself: credential fields reference a secret "
                "variable with $var:.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_resource_literals,
)


def _generated_values_secret(args: StackValidationArgs, report: ReportViolation) -> None:
    stack = Stack(args.resources)
    for variable in stack.of_kind("variable"):
        if variable.props.get("is_secret", True) is not False:
            continue
        sources = [dep for dep in stack.dependencies(variable, "value")
                   if dep.kind == "token" or dep.resource_type == RANDOM_PASSWORD]
        for source in sources:
            what = "a Windmill API token" if source.kind == "token" else "a generated password"
            report(
                f"Windmill variable {variable.label} in {shown(variable.workspace)} holds {what} ({source.name}) "
                f"but is not secret: set is_secret true.",
                variable.urn,
            )


GENERATED_VALUES = StackValidationPolicy(
    name="tokens-in-secret-variables",
    description="A Windmill variable that holds a token or password the stack generates is a secret variable.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_generated_values_secret,
)


def _github_variables(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in GITHUB_VARIABLES:
        return
    entry = item(args)
    name = entry.props.get("variableName")
    word = credential_name(name) if isinstance(name, str) else None
    shape = credential_shape(entry.props.get("value"))
    if word or shape:
        why = f"its name contains '{word}'" if word else f"its value looks like {shape}"
        report(
            f"GitHub Actions variable {name if isinstance(name, str) else entry.name} is readable by anyone who "
            f"can read the repository's settings and logs, but {why}: use an Actions secret instead.",
            None,
        )


GITHUB_ACTIONS_VARIABLES = ResourceValidationPolicy(
    name="no-credentials-in-github-variables",
    description="GitHub Actions variables carry no credential (credentials go into Actions secrets).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_github_variables,
)

POLICIES = (SECRET_VARIABLES, RESOURCE_REFERENCES, GENERATED_VALUES, GITHUB_ACTIONS_VARIABLES)
