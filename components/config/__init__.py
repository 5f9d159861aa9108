"""The config layer: stack configuration in, typed and validated Args out.

``settings.load_settings()`` reads every key Pulumi.yaml declares (``schema``) and parses each
section into the Args its component takes (``workspace``, ``platform_link``, ``windmill_stack``
with ``windmill_stack_parts`` and ``docker_values``, ``remote_workers`` (worker groups on other Docker
hosts) and ``windmill_kubernetes`` (the Kubernetes runtime, its chart in ``windmill_chart``),
``github_sync``). Values are read with one
set of checks (``values``: strings, integers, strict booleans), Windmill names with the provider's
own rules (``rules``), and every problem goes to one collector (``errors.Problems``) so a preview
reports all of them at once, each naming its config key.

Components take these Args and never read ``pulumi.Config``; this package imports no component.
"""
