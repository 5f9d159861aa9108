"""The emulator itself: ``WindmillEmulator``, the public entry point (see the package docstring for
the interface), and the instance configuration it serves.

It seeds the instance as a fresh Windmill is seeded, serves it through the HTTP layer
(``http_server.py``, which hands each request to ``routes.py``) and gives tests their handles:
recorded requests, injected faults, a readiness window, tokens and users made directly, and a look
at what the store holds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TextIO

from . import resource_types
from .http_server import EmulatorHTTPServer, Fault, RecordedRequest
from .request_log import RequestLog
from .store import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, Store, Token
from .tokens import new_token
from .users import add_instance_user
from .workspaces import add_workspace


@dataclass
class EmulatorConfig:
    """Instance configuration (what env vars and the build's features decide on a real server)."""

    edition: str = "CE"
    version: str = "1.819.0"
    workspace_limit: bool = True
    group_limit: bool | None = None
    superadmin_secret: str | None = None
    create_workspace_require_superadmin: bool = True
    workers_alive: int = 1
    base_url: str = "http://127.0.0.1"
    latency: float = 0.0

    @property
    def workspace_limit_active(self) -> bool:
        """docs/windmill-api.md §3: the CE workspace cap, unless switched off for tests."""
        return self.edition != "EE" and self.workspace_limit

    @property
    def group_limit_active(self) -> bool:
        """docs/windmill-api.md §4.2: the CE group cap; follows ``workspace_limit`` unless set explicitly."""
        if self.edition == "EE":
            return False
        return self.workspace_limit if self.group_limit is None else self.group_limit


class WindmillEmulator:
    """An in-process fake Windmill server (HTTP API under ``/api``) for tests and benchmarks.

    Usage::

        with WindmillEmulator() as emu:
            httpx.get(emu.url + "/api/version")  # "CE v1.819.0"

    The instance starts with the default superadmin ``admin@windmill.dev`` / ``changeme``, the
    ``admins`` workspace (holding hub resource types) and a pre-created API token for the admin
    (``admin_token``). Behaviour follows docs/windmill-api.md.
    """

    def __init__(
        self,
        edition: str = "CE",
        version: str = "1.819.0",
        workspace_limit: bool = True,
        superadmin_secret: str | None = None,
        port: int = 0,
        *,
        latency: float = 0.0,
        admin_token: str | None = None,
        group_limit: bool | None = None,
        create_workspace_require_superadmin: bool = True,
        workers_alive: int = 1,
        request_log: TextIO | None = None,
    ) -> None:
        """``request_log``: a stream for one line per request (``windmill_emulator/request_log.py``)."""
        if edition not in ("CE", "EE"):
            raise ValueError(f"edition must be 'CE' or 'EE', got {edition!r}")
        self.config = EmulatorConfig(
            edition=edition,
            version=version,
            workspace_limit=workspace_limit,
            group_limit=group_limit,
            superadmin_secret=superadmin_secret,
            create_workspace_require_superadmin=create_workspace_require_superadmin,
            workers_alive=workers_alive,
            latency=latency,
        )
        self.port = port
        self.store = Store()
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ready_at = 0.0
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._seed(admin_token)
        self.request_log = RequestLog(request_log, self.store, self.config) if request_log is not None else None

    # ------------------------------------------------------------------ setup

    def _seed(self, admin_token: str | None) -> None:
        store = self.store
        with store.lock:
            # docs/windmill-api.md §2.2: the first migration seeds admin@windmill.dev / changeme as superadmin.
            add_instance_user(store, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, True, None)
            # docs/windmill-api.md §3: ``admins`` always exists; the admin is its member.
            add_workspace(store, "admins", "Admins", DEFAULT_ADMIN_EMAIL, "admin", None)
            store.groups["admins"].pop("wm_deployers", None)
            resource_types.seed_hub_types(store)
            if admin_token is not None:
                store.tokens[admin_token] = Token(
                    token=admin_token, email=DEFAULT_ADMIN_EMAIL, label="emulator admin", super_admin=True
                )
                self._admin_token = admin_token
            else:
                self._admin_token = new_token(store, DEFAULT_ADMIN_EMAIL, super_admin=True, label="emulator admin")

    def start(self) -> WindmillEmulator:
        """Bind 127.0.0.1:<port> (0 = any free port) and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = EmulatorHTTPServer(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self.config.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="windmill-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WindmillEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ public properties

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the API is under ``url + "/api"``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_token(self) -> str:
        """An API token of the default superadmin, without workspace scope."""
        return self._admin_token

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far."""
        return self._server.connections_opened if self._server is not None else 0

    @property
    def audit(self) -> list[dict[str, Any]]:
        """A snapshot of the audit log (e.g. ``variables.decrypt_secret`` entries)."""
        with self.store.lock:
            return [dict(e) for e in self.store.audit]

    @property
    def scheduled_jobs(self) -> list[dict[str, Any]]:
        """Jobs pushed by schedules (the emulator never runs them)."""
        with self.store.lock:
            return [dict(j) for j in self.store.scheduled_jobs]

    # ------------------------------------------------------------------ test helpers

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    def inject_fault(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        body: str | bytes | None = None,
        drop: bool | Literal["after"] = False,
        delay: float = 0.0,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` matching requests misbehave.

        ``method`` is an HTTP method or ``"*"``; ``path`` an fnmatch glob against the decoded path
        without query. ``status``: answer that status (text/plain, ``body`` or the reason phrase)
        without executing; ``drop=True``: close the connection without a response, without
        executing; ``drop="after"``: execute, then close without a response (a lost response);
        ``delay``: sleep that many seconds first; ``headers``: extra headers of the ``status``
        answer (e.g. ``Retry-After``).
        """
        if drop not in (True, False, "after"):
            raise ValueError("drop must be True, False or 'after'")
        with self._lock:
            self._faults.append(
                Fault(method=method, path=path, status=status, body=body, drop=drop, delay=delay, remaining=times,
                      headers=tuple((headers or {}).items()))
            )

    def set_ready_after(self, seconds: float) -> None:
        """Answer 503 to every request until ``seconds`` from now (a server starting up)."""
        self._ready_at = time.monotonic() + seconds

    def create_token(
        self, email: str = DEFAULT_ADMIN_EMAIL, workspace_id: str | None = None, label: str | None = None
    ) -> str:
        """Create an API token directly (not recorded); it inherits the user's superadmin flag."""
        with self.store.lock:
            super_admin = self.store.is_super_admin_email(email, self.config.superadmin_secret)
            return new_token(self.store, email, super_admin=super_admin, label=label, workspace_id=workspace_id)

    def add_instance_user(
        self,
        email: str,
        password: str = "pw",  # noqa: S107 - the brief's default
        super_admin: bool = False,
        name: str | None = None,
    ) -> None:
        """Create an instance user directly (like ``POST /api/users/create``, not recorded)."""
        with self.store.lock:
            add_instance_user(self.store, email, password, super_admin, name)

    def workspace_key(self, ws_id: str) -> str:
        """The workspace's encryption key (introspection)."""
        with self.store.lock:
            return self.store.workspaces[ws_id].key

    def raw_variable(self, ws_id: str, path: str) -> dict[str, Any] | None:
        """The stored variable row, with the ciphertext for secrets (introspection)."""
        with self.store.lock:
            var = self.store.ws_variables(ws_id).get(path)
            if var is None:
                return None
            return {
                "workspace_id": var.workspace_id,
                "path": var.path,
                "value": var.value,
                "is_secret": var.is_secret,
                "description": var.description,
                "extra_perms": dict(var.extra_perms),
                "account": var.account,
                "is_oauth": var.is_oauth,
                "expires_at": var.expires_at,
            }

    # ------------------------------------------------------------------ internals

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _is_ready(self) -> bool:
        return time.monotonic() >= self._ready_at

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[WindmillEmulator]:
    """Start an emulator for the duration of a ``with`` block (the pytest fixtures use this)."""
    emu = WindmillEmulator(**kwargs).start()
    try:
        yield emu
    finally:
        emu.stop()


__all__ = ["EmulatorConfig", "Fault", "RecordedRequest", "WindmillEmulator", "running"]
