"""The emulator's HTTP server: routing, request recording, fault injection, connection counting.

``WindmillEmulator`` is the public entry point (see the package docstring for the interface).
It serves HTTP/1.1 with keep-alive from a ``ThreadingHTTPServer`` on 127.0.0.1, one thread per
connection, so a client that reuses connections shows up as fewer ``connections_opened``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import socket
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from . import (
    acls,
    cli_support,
    export,
    flows,
    folders,
    groups,
    instance_config,
    instance_groups,
    jobs,
    misc,
    resources,
    schedules,
    scripts,
    settings,
    users,
    variables,
    workspaces,
)
from .auth import authenticate, extract_token
from .framework import ApiError, Ctx, DbError, Response, Router, error_response, text
from .json_body import JSON_CONTENT_TYPE_MSG, has_json_content_type, parse_json_body
from .request_log import RequestLog
from .store import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, Store, Token
from .users import add_instance_user, new_token
from .workspaces import add_workspace

# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received, in arrival order.

    ``path`` is the percent-decoded path without the query string, ``query`` the decoded query
    parameters (last value wins), ``status`` the status sent (0 when the connection was dropped
    before executing). ``dropped`` is true when no response was sent (``drop=True`` or
    ``drop="after"``; with ``"after"`` the status is what the request produced). ``connection``
    numbers the TCP connection it arrived on (1-based).
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    raw_path: str = ""
    body: bytes = b""
    dropped: bool = False
    connection: int = 0


@dataclass
class Fault:
    """An injected fault (see ``WindmillEmulator.inject_fault``)."""

    method: str
    path: str
    status: int | None = None
    body: str | bytes | None = None
    drop: bool | Literal["after"] = False
    delay: float = 0.0
    remaining: int = 1
    headers: tuple[tuple[str, str], ...] = ()

    def matches(self, method: str, path: str) -> bool:
        """Method (or ``*``) and fnmatch glob against the path without query."""
        return (self.method == "*" or self.method.upper() == method.upper()) and fnmatch.fnmatchcase(path, self.path)


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


def build_router() -> Router:
    """Every emulated endpoint."""
    router = Router()
    for module in (misc, users, workspaces, groups, folders, variables, resources, schedules, settings, acls,
                   scripts, flows, export, cli_support, instance_config, instance_groups, jobs):  # fmt: skip
        module.register(router)
    return router


ROUTER = build_router()

# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], emulator: WindmillEmulator) -> None:
        self.emulator = emulator
        self._conn_lock = threading.Lock()
        self.connections_opened = 0
        self.conn_ids: dict[socket.socket, int] = {}
        super().__init__(addr, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self.connections_opened += 1
            self.conn_ids[request] = self.connections_opened
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self.conn_ids.pop(request, None)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._conn_lock:
            socks = list(self.conn_ids)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "windmill-emulator"
    sys_version = ""
    timeout = 120
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            return None
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, resp: Response) -> None:
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: two small writes would meet Nagle + delayed ACK (~40 ms).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(resp.body)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _handle(self) -> None:
        emu = self.server.emulator
        started = time.perf_counter()
        conn = self.server.conn_ids.get(self.connection, 0)
        split = urlsplit(self.path)
        raw_path = split.path
        path = unquote(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        log = emu.request_log
        caller = log.caller(self.headers, query) if log is not None else ("-", None)
        body = self._read_body()
        method = self.command

        def record(status: int, *, dropped: bool = False) -> None:
            emu._record(
                RecordedRequest(method, path, query, status, raw_path, body or b"", dropped=dropped, connection=conn)
            )
            if log is not None:
                log.write(method, path, query, status, time.perf_counter() - started, caller, dropped)

        if body is None:
            self.close_connection = True
            resp = text("invalid Content-Length", 400)
            record(resp.status)
            self._send(resp)
            return
        if emu.config.latency > 0:
            time.sleep(emu.config.latency)
        if not emu._is_ready():
            # Server starting up: every request gets 503 until the ready time.
            resp = text("Service Unavailable", 503)
            record(resp.status)
            self._send(resp)
            return
        fault = emu._take_fault(method, path)
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)
        if fault is not None and fault.drop is True:
            record(0, dropped=True)
            self._drop()
            return
        if fault is not None and fault.status is not None:
            payload = fault.body if fault.body is not None else HTTPStatus(fault.status).phrase
            resp = Response(
                status=fault.status,
                body=payload.encode() if isinstance(payload, str) else payload,
                content_type="text/plain",
                headers=list(fault.headers),
            )
            record(resp.status)
            self._send(resp)
            return
        resp = emu._dispatch(method, raw_path, query, self.headers, body)
        if fault is not None and fault.drop == "after":
            record(resp.status, dropped=True)
            self._drop()
            return
        record(resp.status)
        self._send(resp)


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


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
        self._server: _Server | None = None
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
            resources.seed_hub_types(store)
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
        self._server = _Server(("127.0.0.1", self.port), self)
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

    def _dispatch(self, method: str, raw_path: str, query: dict[str, str], headers: Any, body: bytes) -> Response:
        matched = ROUTER.match(method, raw_path)
        if isinstance(matched, int):
            # axum: unknown path 404, known path with another method 405, both with empty bodies.
            return Response(status=matched, body=b"", content_type=None)
        route, params = matched
        store = self.store
        try:
            with store.lock:
                token = extract_token(headers, query)
                authed = None
                if route.auth != "none":
                    ws = params.get("workspace") if route.auth == "workspace" else None
                    authed = authenticate(store, self.config, token, ws)
                    # A token with scopes opens only the routes they name (scopes.rs check_route_access).
                    jobs.check_route_scopes(authed, method, unquote(raw_path))
                parsed: Any = None
                if route.body is not None:
                    if not has_json_content_type(headers):
                        # docs/windmill-api.md §9.1: axum answers 415 without Content-Type: application/json.
                        raise ApiError(415, JSON_CONTENT_TYPE_MSG)
                    parsed = parse_json_body(body, route.body)
                ctx = Ctx(
                    store=store,
                    config=self.config,
                    method=method,
                    path=unquote(raw_path),
                    query=query,
                    headers=headers,
                    params=params,
                    body=parsed,
                    authed=authed,
                    token=token,
                )
                return route.handler(ctx)
        except DbError as exc:
            return error_response(exc.to_api_error())
        except ApiError as exc:
            return error_response(exc)
        except Exception as exc:  # an emulator bug: answer like the server's catch-all 500
            traceback.print_exc()
            return error_response(ApiError(500, f"Internal: emulator error: {exc!r}"))


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[WindmillEmulator]:
    """Start an emulator for the duration of a ``with`` block (the pytest fixtures use this)."""
    emu = WindmillEmulator(**kwargs).start()
    try:
        yield emu
    finally:
        emu.stop()


__all__ = ["EmulatorConfig", "Fault", "RecordedRequest", "WindmillEmulator", "running"]
