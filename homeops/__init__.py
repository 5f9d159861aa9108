"""Operator commands around the HomeOps Windmill stacks: ``python -m homeops <command>``.

* ``import``: read a live Windmill workspace and write it into a stack's config in the project's own
  shape, so the stack's next ``pulumi up`` adopts everything instead of creating it
  (``homeops.importer``; the README's *Bringing an existing workspace under management*).

The package talks to Windmill through the provider's own client (``components.windmill.client``)
and checks what it writes with the program's own config parser (``components.config``), so what it
writes is exactly what a stack accepts.
"""
