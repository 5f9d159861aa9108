"""Stable resource names, with aliases for the names earlier releases used.

Components of a stack are named by what does not change with the workspace id: the workspace by the
stack's concern (its domain, or "platform"), the others by their role ("platform-link",
"github-sync"). A name built from the id made an id change look like a whole new workspace (23
creates and 23 deletes under new names, found by the real-engine tier) instead of what it is: the
same resources replaced because their identity changed. Earlier releases named them
``<workspace id>-…``; ``renamed_from`` keeps those stacks' history through aliases, so upgrading
changes no resource.
"""

from __future__ import annotations

import pulumi


def renamed_from(former: str, current: str) -> pulumi.ResourceOptions:
    """Options for a component now named ``current`` that was named ``former``.

    The component gets an alias to its former name, and a transformation gives each child whose name
    starts with ``current-`` an alias with the ``former-`` prefix instead, so the engine finds every
    resource of an existing stack under its new name and changes nothing.
    """
    if former == current:
        return pulumi.ResourceOptions()

    def alias_children(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        prefix = f"{current}-"
        if not args.name.startswith(prefix):
            return None
        old_name = f"{former}-{args.name[len(prefix):]}"
        alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=old_name)])
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, alias))

    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=former)], transformations=[alias_children])
