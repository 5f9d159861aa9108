"""Pytest fixture bodies and small helpers for tests that use the emulator.

tests/conftest.py wraps the fixture bodies as the ``windmill`` and ``windmill_ee`` fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from .server import WindmillEmulator


def windmill_fixture() -> Iterator[WindmillEmulator]:
    """A CE emulator with default limits, started for one test and stopped afterwards."""
    emu = WindmillEmulator().start()
    try:
        yield emu
    finally:
        emu.stop()


def windmill_ee_fixture() -> Iterator[WindmillEmulator]:
    """An EE emulator without workspace (or group) limits."""
    emu = WindmillEmulator(edition="EE", workspace_limit=False).start()
    try:
        yield emu
    finally:
        emu.stop()


def api(emu: WindmillEmulator, token: str | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx client on ``emu.url + "/api"`` authenticated with ``token`` (default: the admin token)."""
    headers = {"Authorization": f"Bearer {token or emu.admin_token}"}
    return httpx.Client(base_url=emu.url + "/api", headers=headers, **kwargs)


def make_workspace(emu: WindmillEmulator, ws_id: str, name: str | None = None) -> None:
    """Create a workspace as the default superadmin (who becomes its admin member ``admin``)."""
    with api(emu) as c:
        r = c.post("/workspaces/create", json={"id": ws_id, "name": name or ws_id})
        assert r.status_code == 200, r.text


def make_member(
    emu: WindmillEmulator, ws_id: str, email: str, *, is_admin: bool = False, operator: bool = False
) -> tuple[str, str]:
    """Add an instance user as a workspace member; return (username, an API token of theirs)."""
    emu.add_instance_user(email)
    with api(emu) as c:
        r = c.post(f"/w/{ws_id}/workspaces/add_user", json={"email": email, "is_admin": is_admin, "operator": operator})
        assert r.status_code == 201, r.text
        username = next(m["username"] for m in c.get(f"/w/{ws_id}/users/list").json() if m["email"] == email)
    return username, emu.create_token(email)


def deploy_script(emu: WindmillEmulator, ws_id: str, path: str, content: str = "def main():\n    return 1\n") -> str:
    """Deploy a python3 script as the admin, as a sync would; return its hash."""
    body = {"path": path, "summary": "", "description": "", "content": content, "language": "python3"}
    with api(emu) as c:
        r = c.post(f"/w/{ws_id}/scripts/create", json=body)
        assert r.status_code == 201, r.text
        return r.text


def deploy_flow(emu: WindmillEmulator, ws_id: str, path: str) -> None:
    """Deploy an empty flow as the admin, as a sync would."""
    with api(emu) as c:
        r = c.post(f"/w/{ws_id}/flows/create", json={"path": path, "summary": "", "value": {"modules": []}})
        assert r.status_code == 201, r.text
