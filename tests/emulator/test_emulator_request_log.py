"""``python -m windmill_emulator --log-requests``: one line per request on stderr, no credential or secret.

Issue 16. The emulator runs as the subprocess an operator starts; the requests carry the admin
token in each of the three places Windmill reads one (Bearer header, ``token`` cookie, ``?token=``),
a login password, a secret variable's value, a new token (in a response body and, whole and as a
prefix, in the path of ``DELETE /api/users/tokens/delete/{prefix}``) and ``SUPERADMIN_SECRET``.
"""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from testkit.engine import ROOT
from windmill_emulator import WindmillEmulator

ADMIN_TOKEN = "adminTokenValue0123456789abcdefXY"
SUPERADMIN_SECRET = "superadminSecretValue-4f1c9e"
SECRET_VALUE = "secret-variable-value-8d2a7b"
WRONG_TOKEN = "wrongTokenValue-never-valid-77"
PASSWORD = "changeme"  # the default admin's password (docs/windmill-api.md §2.2)
LINE = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3} (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}|dropped)(?: \(response dropped\))? "
    r"(?P<ms>\d+\.\d) ms(?: workspace=(?P<workspace>\S+))? user=(?P<user>\S+)$"
)


@dataclass
class Served:
    """A running ``python -m windmill_emulator`` and its URL."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> str:
        """Stop it (Ctrl-C, as an operator does) and return everything it wrote to stderr."""
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=10)
        return err


@pytest.fixture
def served() -> Iterator[Served]:
    process = subprocess.Popen(
        [sys.executable, "-m", "windmill_emulator", "--port", "0", "--admin-token", ADMIN_TOKEN,
         "--superadmin-secret", SUPERADMIN_SECRET, "--log-requests"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
    assert match, f"unexpected first line {first!r}"
    try:
        yield Served(process, match.group(1))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_each_request_is_one_line_without_credentials_or_secret_values(served: Served) -> None:
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=served.url) as http:
        assert http.get("/api/version").status_code == 200
        assert http.post("/api/workspaces/create", json={"id": "logged", "name": "Logged"}, headers=bearer
                         ).status_code == 200
        assert http.post("/api/w/logged/folders/create", json={"name": "app"}, headers=bearer).status_code == 200
        assert http.post("/api/w/logged/variables/create", headers=bearer, json={
            "path": "f/app/db_password", "value": SECRET_VALUE, "is_secret": True, "description": ""}
        ).status_code == 201
        read = http.get("/api/w/logged/variables/get_value/f/app/db_password", params={"token": ADMIN_TOKEN})
        assert read.json() == SECRET_VALUE
        assert http.get("/api/users/whoami", headers={"Cookie": f"token={ADMIN_TOKEN}"}).status_code == 200
        assert http.get("/api/users/whoami", headers={"Authorization": f"Bearer {WRONG_TOKEN}"}).status_code == 401
        assert http.post("/api/auth/login", json={"email": "admin@windmill.dev", "password": PASSWORD}
                         ).status_code == 200
        assert http.get("/api/workspaces/list", headers={"Authorization": f"Bearer {SUPERADMIN_SECRET}"}
                        ).status_code == 200
        new_token = http.post("/api/users/tokens/create", json={"label": "logged"}, headers=bearer).text
        assert http.get("/api/users/whoami", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
        assert http.delete(f"/api/users/tokens/delete/{new_token[:10]}", headers=bearer).status_code == 200
        assert http.delete(f"/api/users/tokens/delete/{new_token}", headers=bearer).status_code == 200
        # A careless client puts its own token in a path: the log's last guard scrubs it.
        assert http.get(f"/api/w/logged/variables/get/u/{ADMIN_TOKEN}", headers=bearer).status_code == 404
    log = served.stop()

    lines = log.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed, strict=True) if not m]
    seen = [(m["method"], m["path"], m["status"], m["workspace"], m["user"]) for m in parsed if m]
    admin = "admin@windmill.dev"
    assert seen == [
        ("GET", "/api/version", "200", None, "-"),
        ("POST", "/api/workspaces/create", "200", None, admin),
        ("POST", "/api/w/logged/folders/create", "200", "logged", admin),
        ("POST", "/api/w/logged/variables/create", "201", "logged", admin),
        ("GET", "/api/w/logged/variables/get_value/f/app/db_password?token=…", "200", "logged", admin),
        ("GET", "/api/users/whoami", "200", None, admin),
        ("GET", "/api/users/whoami", "401", None, "-"),
        ("POST", "/api/auth/login", "200", None, "-"),
        ("GET", "/api/workspaces/list", "200", None, "superadmin_secret@windmill.dev"),
        ("POST", "/api/users/tokens/create", "201", None, admin),
        ("GET", "/api/users/whoami", "200", None, admin),
        ("DELETE", "/api/users/tokens/delete/<redacted>", "200", None, admin),
        ("DELETE", "/api/users/tokens/delete/<redacted>", "200", None, admin),
        ("GET", "/api/w/logged/variables/get/u/<redacted>", "404", "logged", admin),
    ]
    for value in (ADMIN_TOKEN, SUPERADMIN_SECRET, SECRET_VALUE, WRONG_TOKEN, PASSWORD, new_token, new_token[:10]):
        assert value not in log
    assert "Authorization" not in log and "Bearer" not in log and "Cookie" not in log


def test_dropped_and_lost_responses_say_so_in_process() -> None:
    log = io.StringIO()
    with WindmillEmulator(request_log=log) as emu, httpx.Client(base_url=emu.url) as http:
        emu.inject_fault("GET", "/api/version", drop=True)
        with pytest.raises(httpx.TransportError):
            http.get("/api/version")
        emu.inject_fault("GET", "/api/version", drop="after")
        with pytest.raises(httpx.TransportError):
            http.get("/api/version")
        assert http.get("/api/nowhere").status_code == 404
    outcomes = [(m["path"], m["status"], line) for line in log.getvalue().splitlines() if (m := LINE.match(line))]
    assert [(path, status) for path, status, _ in outcomes] == [
        ("/api/version", "dropped"), ("/api/version", "200"), ("/api/nowhere", "404")]
    assert outcomes[1][2].split(" ms")[0].endswith(tuple("0123456789")) and "(response dropped)" in outcomes[1][2]


def test_help_documents_the_flag() -> None:
    shown = subprocess.run([sys.executable, "-m", "windmill_emulator", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert "--log-requests" in shown and "never headers, tokens, query values or bodies" in " ".join(shown.split())
