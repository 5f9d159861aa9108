"""A faithful in-process emulator of the Windmill HTTP API, for tests and benchmarks.

No real Windmill server can run on the test machine, so the provider is proven against this
test double. Behaviour (status codes, plain-text error bodies, quirks) follows the project's
reference, docs/windmill-api.md; comments cite its sections.

Public interface::

    from windmill_emulator import WindmillEmulator, RecordedRequest

    emu = WindmillEmulator(edition="CE", version="1.819.0", workspace_limit=True,
                           superadmin_secret=None, port=0, latency=0.0)
    emu.start()                      # or ``with WindmillEmulator() as emu:``
    emu.url, emu.admin_token, emu.requests, emu.connections_opened, emu.audit
    emu.create_token(...), emu.add_instance_user(...), emu.inject_fault(...),
    emu.set_ready_after(...), emu.workspace_key(...), emu.raw_variable(...), emu.stop()

Run standalone with ``python -m windmill_emulator --port 8000``.
"""

from .http_server import RecordedRequest
from .server import WindmillEmulator

__all__ = ["RecordedRequest", "WindmillEmulator"]
