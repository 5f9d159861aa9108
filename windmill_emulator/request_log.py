"""The emulator's request log (``python -m windmill_emulator --log-requests``): one line per request.

A line holds the time, method, path, the names of the query parameters, the status, the duration
and, when cheap to tell, the workspace and the calling user::

    13:02:11.482 POST /api/w/homeops-financial/variables/create 201 3.1 ms workspace=homeops-financial user=a@b.c
    13:02:11.530 GET /api/users/tokens/list?exclude_ephemeral=…&per_page=… 200 0.9 ms user=admin@windmill.dev

What never appears: headers (``Authorization``, ``Cookie``), query values (``?token=`` carries an
API token), request and response bodies (secret values, passwords, new tokens), and the token
prefix in ``DELETE /api/users/tokens/delete/{prefix}`` (the start of a live token, or all of it when
a client sends it whole). As a last guard, the caller's own token and ``SUPERADMIN_SECRET`` are
scrubbed from the line should a client put them anywhere else in the path.
"""

from __future__ import annotations

import re
import threading
import time
from email.message import Message
from typing import Any, TextIO

from .auth import extract_token
from .store import SUPERADMIN_SECRET_EMAIL, Store

REDACTED = "<redacted>"
# Path segments that carry (part of) a credential, by route: the token prefix of tokens/delete.
_SECRET_SEGMENTS = re.compile(r"^(/api/users/tokens/delete/).+$")
_WORKSPACE = re.compile(r"^/api/w/([^/]+)/")


class RequestLog:
    """Writes one line per request to ``stream``; shared by the server's handler threads."""

    def __init__(self, stream: TextIO, store: Store, config: Any) -> None:
        self.stream, self.store, self.config = stream, store, config
        self._lock = threading.Lock()

    def caller(self, headers: Message, query: dict[str, str]) -> tuple[str, str | None]:
        """The calling user's email (``-`` when unknown) and the credential it presented, to scrub.

        Resolved before the request runs, so a request that deletes its own token still names its user.
        """
        token = extract_token(headers, query)
        if token is None:
            return "-", None
        if self.config.superadmin_secret is not None and token == self.config.superadmin_secret:
            return SUPERADMIN_SECRET_EMAIL, token
        with self.store.lock:
            row = self.store.tokens.get(token)
        return (row.email if row is not None else "-"), token

    def write(
        self, method: str, path: str, query: dict[str, str], status: int, seconds: float,
        caller: tuple[str, str | None], dropped: bool = False,
    ) -> None:
        user, credential = caller
        shown = _SECRET_SEGMENTS.sub(lambda m: m.group(1) + REDACTED, path)
        if query:
            shown += "?" + "&".join(f"{name}=…" for name in query)
        outcome = "dropped" if dropped and status == 0 else f"{status}" + (" (response dropped)" if dropped else "")
        workspace = _WORKSPACE.match(path)
        now = time.time()
        clock = f"{time.strftime('%H:%M:%S', time.localtime(now))}.{int(now * 1000) % 1000:03d}"
        line = (f"{clock} {method} {shown} {outcome} {seconds * 1000:.1f} ms"
                + (f" workspace={workspace.group(1)}" if workspace else "") + f" user={user}")
        for secret in (credential, self.config.superadmin_secret):
            if secret:
                line = line.replace(secret, REDACTED)
        with self._lock:
            print(line, file=self.stream, flush=True)
