"""The Windmill dynamic provider: an httpx client and one module per Windmill API area.

Nothing here knows about stacks, Docker or GitHub; the components in ``components/`` compose it.
Modules in this package have no side effects at import: the Pulumi provider host imports them again
to unpickle providers.
"""
