"""Entry point of the policy pack: `pulumi preview --policy-pack policy` runs this file with the pack's
directory as the working directory (and first on sys.path), so the rules import as ``homeops_policy``.
Every policy sets its own enforcement level; see docs/policies.md."""

from homeops_policy import PACK_NAME, POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=list(POLICIES),
    enforcement_level=EnforcementLevel.ADVISORY,
    description="The HomeOps Windmill workspace architecture: cross-workspace calls, workspace layout, secrets, "
                "the GitHub sync token and the Docker-hosted instance.",
)
