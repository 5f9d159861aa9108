"""``python -m homeops import --url https://windmill.example.com --workspace homeops-financial --stack financial``

Run it from the project folder (the one with ``Pulumi.yaml``), or pass ``--project-dir``. The API
token is read from the environment variable ``WINDMILL_TOKEN`` (``--token-env`` names another) or
asked for at a prompt, never taken as an argument, so it cannot land in the shell history or the
process list. It must be a token of an admin of the workspace or of a superadmin.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from components.windmill.errors import WindmillError

from .importer import ImportOptions, run_import
from .live import ImportRefused
from .stack_secrets import CopyFailed


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``import`` on the ``python -m homeops`` parser."""
    imp = commands.add_parser(
        "import", help="write a live workspace into a stack's config, so its next pulumi up adopts everything",
        description=(
            "Read a live Windmill workspace and write it into Pulumi.<stack>.yaml (or the stack's workspaceFile) "
            "in the project's own config shape, with adopt: true. Secret values are never written or shown."
        ),
    )
    imp.add_argument("--url", default=os.environ.get("WINDMILL_URL"),
                     help="root URL of the Windmill instance, without /api (default: $WINDMILL_URL)")
    imp.add_argument("--workspace", required=True, help="id of the workspace to import, e.g. homeops-financial")
    imp.add_argument("--stack", required=True, help="the stack whose config receives it, e.g. financial")
    imp.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the folder with Pulumi.yaml (default: .)")
    imp.add_argument("--token-env", default="WINDMILL_TOKEN",
                     help="environment variable holding the API token (default: WINDMILL_TOKEN; asked if unset)")
    imp.add_argument("--copy-secrets", action="store_true",
                     help="copy each secret the stack does not hold yet from Windmill into its encrypted config "
                          "(Pulumi Automation API; the stack must exist)")
    imp.add_argument("--dry-run", action="store_true", help="print the change to the stack file; write nothing")
    imp.add_argument("--allow-insecure-http", action="store_true",
                     help="accept a plain http:// URL to another machine (the token then crosses the network "
                          "unencrypted)")
    imp.set_defaults(run=run)


def _token(name: str) -> str | None:
    token = os.environ.get(name, "").strip()
    if token:
        return token
    if sys.stdin.isatty():
        return getpass.getpass(f"Windmill API token (a workspace admin's or superadmin's; {name} is not set): ")
    return None


def run(args: argparse.Namespace) -> int:
    """Run ``import`` with parsed arguments; the exit status."""
    if not args.url:
        print("python -m homeops import: --url (or WINDMILL_URL) is required", file=sys.stderr)
        return 2
    token = _token(args.token_env)
    if not token:
        print(f"python -m homeops import: no API token: set {args.token_env} (export {args.token_env}=…) "
              "or run it in a terminal to be asked", file=sys.stderr)
        return 2
    options = ImportOptions(url=args.url, workspace=args.workspace, stack=args.stack,
                            project_dir=args.project_dir.resolve(), copy_secrets=args.copy_secrets,
                            dry_run=args.dry_run, allow_insecure_http=args.allow_insecure_http)
    try:
        return run_import(options, token)
    except ImportRefused as refused:
        print(f"python -m homeops import: refused: {refused}", file=sys.stderr)
        return 2
    except (WindmillError, CopyFailed, RuntimeError) as error:
        print(f"python -m homeops import: failed: {error}", file=sys.stderr)
        return 1
