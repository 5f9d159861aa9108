"""Run the emulator standalone: ``python -m windmill_emulator --port 8000`` (from the repository's root folder)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

from .server import WindmillEmulator


def main(argv: list[str] | None = None) -> None:
    """Parse the flags, start the emulator, say where it listens, serve until Ctrl-C.

    The admin token is never printed: pass your own with ``--admin-token``, or read the generated
    one from ``--token-file`` (written owner-only).
    """
    parser = argparse.ArgumentParser(prog="python -m windmill_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--edition", choices=["CE", "EE"], default="CE")
    parser.add_argument("--version", default="1.819.0", help="version reported by /api/version")
    parser.add_argument("--no-workspace-limit", action="store_true", help="disable the CE workspace/group caps")
    parser.add_argument("--admin-token", default=None, help="use this value as the admin API token")
    parser.add_argument("--token-file", type=Path, default=Path(".windmill-emulator-token"),
                        help="where to write the admin API token when --admin-token is not given")
    parser.add_argument("--superadmin-secret", default=None, help="emulate SUPERADMIN_SECRET")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds of delay added to every request")
    parser.add_argument("--log-requests", action="store_true",
                        help="one line per request on stderr: time, method, path, query parameter names, status, "
                             "duration, workspace and user; never headers, tokens, query values or bodies")
    args = parser.parse_args(argv)
    emu = WindmillEmulator(
        edition=args.edition,
        version=args.version,
        workspace_limit=not args.no_workspace_limit,
        superadmin_secret=args.superadmin_secret,
        port=args.port,
        latency=args.latency,
        admin_token=args.admin_token,
        request_log=sys.stderr if args.log_requests else None,
    ).start()
    print(f"Windmill emulator ({args.edition} v{args.version}) listening on {emu.url}", flush=True)
    print(f"API base: {emu.url}/api", flush=True)
    if args.admin_token is None:
        args.token_file.write_text(emu.admin_token)
        os.chmod(args.token_file, 0o600)
        message = f"admin API credential written to {args.token_file} (owner-only)"
    else:
        message = "admin API credential: the value given with --admin-token"
    print(message, flush=True)
    print("login: admin@windmill.dev / changeme", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
