"""The emulator's HTTP layer: HTTP/1.1 with keep-alive on a ``ThreadingHTTPServer``, one thread per
connection (so a client that reuses connections shows up as fewer ``connections_opened``), and what
happens to a request around its handler: recording, the request log, the readiness window, latency
and injected faults.
"""

from __future__ import annotations

import contextlib
import fnmatch
import socket
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from .framework import Response, text
from .routes import dispatch

if TYPE_CHECKING:
    from .server import WindmillEmulator


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


class EmulatorHTTPServer(ThreadingHTTPServer):
    """The listening socket: counts and numbers the connections it accepts, and can close them all."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], emulator: WindmillEmulator) -> None:
        self.emulator = emulator
        self._conn_lock = threading.Lock()
        self.connections_opened = 0
        self.conn_ids: dict[socket.socket, int] = {}
        super().__init__(addr, RequestHandler)

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


class RequestHandler(BaseHTTPRequestHandler):
    """The requests of one connection: read, record, log, apply faults, dispatch, answer."""

    protocol_version = "HTTP/1.1"
    server_version = "windmill-emulator"
    sys_version = ""
    timeout = 120
    server: EmulatorHTTPServer

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
        resp = dispatch(emu.store, emu.config, method, raw_path, query, self.headers, body)
        if fault is not None and fault.drop == "after":
            record(resp.status, dropped=True)
            self._drop()
            return
        record(resp.status)
        self._send(resp)
