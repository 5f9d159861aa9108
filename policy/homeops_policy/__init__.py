"""The HomeOps workspace architecture as a Pulumi policy pack (see docs/policies.md).

One module per group of rules; ``POLICIES`` lists every policy of the pack in that order.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import communication, docker_host, github_sync, secret_values, workspace_layout

PACK_NAME = "homeops-windmill-architecture"

POLICIES: tuple[Policy, ...] = (
    *communication.POLICIES,
    *workspace_layout.POLICIES,
    *secret_values.POLICIES,
    *github_sync.POLICIES,
    *docker_host.POLICIES,
)
