"""A Windmill workspace set up by hand, as HomeOps' real ones were: API calls only, no provider.

``populate`` fills the emulator with ``homeops-financial`` the way an operator would through the UI:
another superadmin (``ops@homeops.example``) creates the workspace and everything in it, so every
object's creator is someone other than whoever imports it. It holds every kind the project models
(members and roles, a group, folders with owners and permissions, custom resource types, secret and
plain variables, resources referencing them, a schedule, a workspace setting) and some it cannot
(a script and a flow, a variable outside any folder, a resource with a password in plain text).
``SECRETS`` are the secret values, each unique so a leak is found by searching for it.
"""

from __future__ import annotations

from typing import Any

import httpx

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import deploy_flow, deploy_script

WORKSPACE = "homeops-financial"
CREATOR = "ops@homeops.example"  # a superadmin who set the workspace up
ADMIN = "trader@homeops.example"  # an admin member of the workspace, not its creator
DEVELOPER = "analyst@homeops.example"
SECRETS = {
    "f/atom/alpaca_api_key_id": "handmade-alpaca-key-id-51c2",
    "f/atom/alpaca_api_secret_key": "handmade-alpaca-secret-9e07",
    "f/atom/trading_db_password": "handmade-db-password-a4f8",
    "f/research/api_key": "handmade-research-key-77d3",
}
UNMODELLED = {"script": "f/atom/nightly_scan", "flow": "f/atom/rebalance", "variable": "u/ops/scratch"}
# A resource holding a password in plain text (not through $var:): listed, never written to a file.
PLAIN_CREDENTIAL = ("f/atom/legacy_smtp", "handmade-plain-smtp-pass-11")
ALPACA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key_id", "secret_key", "base_url"],
    "properties": {"key_id": {"type": "string"}, "secret_key": {"type": "string"}, "base_url": {"type": "string"},
                   "paper": {"type": "boolean", "description": "True for the paper-trading account"}},
}


def _ok(response: httpx.Response) -> None:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"


def populate(emu: WindmillEmulator) -> None:
    """Create the hand-made workspace (see the module docstring)."""
    emu.add_instance_user(CREATOR, super_admin=True)
    for email in (ADMIN, DEVELOPER):
        emu.add_instance_user(email)
    headers = {"Authorization": f"Bearer {emu.create_token(CREATOR)}"}
    with httpx.Client(base_url=emu.url + "/api", headers=headers) as api:
        _ok(api.post("/workspaces/create", json={"id": WORKSPACE, "name": "HomeOps Financial", "color": "#16a34a"}))
        w = f"/w/{WORKSPACE}"
        _ok(api.post(f"{w}/workspaces/add_user", json={"email": ADMIN, "is_admin": True, "operator": False}))
        _ok(api.post(f"{w}/workspaces/add_user", json={"email": DEVELOPER, "is_admin": False, "operator": False}))
        _ok(api.post(f"{w}/groups/create", json={"name": "financial-tracker", "summary": "The financial-tracker team"}))
        for username in ("trader", "analyst"):
            _ok(api.post(f"{w}/groups/adduser/financial-tracker", json={"username": username}))
        _ok(api.post(f"{w}/folders/create", json={"name": "atom", "summary": "ATOM scans, validation and execution",
                                                  "owners": ["g/financial-tracker"]}))
        _ok(api.post(f"{w}/folders/create", json={"name": "research", "extra_perms": {"u/analyst": True}}))
        _ok(api.post(f"{w}/resources/type/create", json={"name": "c_alpaca", "description": "Alpaca API credentials",
                                                         "schema": ALPACA_SCHEMA}))
        for path, value in SECRETS.items():
            _ok(api.post(f"{w}/variables/create", json={"path": path, "value": value, "is_secret": True,
                                                        "description": f"set by hand: {path.rsplit('/', 1)[1]}"}))
        _ok(api.post(f"{w}/variables/create", json={"path": "f/atom/region", "value": "us-east", "is_secret": False,
                                                    "description": "Trading region"}))
        _ok(api.post(f"{w}/variables/create", json={"path": UNMODELLED["variable"], "value": "notes",
                                                    "is_secret": False, "description": ""}))
        _ok(api.post(f"{w}/resources/create", json={
            "path": "f/atom/alpaca", "resource_type": "c_alpaca", "description": "Paper account",
            "value": {"key_id": "$var:f/atom/alpaca_api_key_id", "secret_key": "$var:f/atom/alpaca_api_secret_key",
                      "base_url": "https://paper-api.alpaca.markets", "paper": True}}))
        _ok(api.post(f"{w}/resources/create", json={
            "path": "f/atom/trading_db", "resource_type": "postgresql", "description": "",
            "value": {"host": "timescaledb.homeops.example", "port": 5432, "user": "atom", "dbname": "trading",
                      "password": "$var:f/atom/trading_db_password"}}))
        _ok(api.post(f"{w}/resources/create", json={
            "path": PLAIN_CREDENTIAL[0], "resource_type": "smtp", "description": "",
            "value": {"host": "smtp.homeops.example", "port": 587, "password": PLAIN_CREDENTIAL[1]}}))
        deploy_script(emu, WORKSPACE, UNMODELLED["script"])
        deploy_flow(emu, WORKSPACE, UNMODELLED["flow"])
        _ok(api.post(f"{w}/schedules/create", json={
            "path": "f/atom/nightly", "schedule": "0 0 22 * * *", "timezone": "America/New_York",
            "script_path": UNMODELLED["script"], "is_flow": False, "args": {}, "enabled": True,
            "summary": "Nightly scan"}))
        _ok(api.post(f"{w}/workspaces/edit_webhook", json={"webhook": "https://hooks.homeops.example/windmill"}))
