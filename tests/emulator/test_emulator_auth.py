"""Authentication, login and API tokens (docs/windmill-api.md §2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member, make_workspace


def test_no_or_unknown_token_is_401_unauthorized_text(windmill: WindmillEmulator) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = httpx.get(windmill.url + "/api/workspaces/list", headers=headers)
        assert r.status_code == 401
        assert r.text == "Unauthorized"
        assert r.headers["content-type"].startswith("text/plain")


def test_token_from_bearer_cookie_or_query(windmill: WindmillEmulator) -> None:
    url = windmill.url + "/api/users/whoami"
    tok = windmill.admin_token
    assert httpx.get(url, headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    assert httpx.get(url, headers={"Cookie": f"token={tok}"}).status_code == 200
    assert httpx.get(url, params={"token": tok}).status_code == 200


def test_login_returns_the_token_as_text_with_a_cookie(windmill: WindmillEmulator) -> None:
    r = httpx.post(windmill.url + "/api/auth/login", json={"email": "Admin@Windmill.dev", "password": "changeme"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    token = r.text
    assert re.fullmatch(r"[A-Za-z0-9]{32}", token)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"token={token}") and "HttpOnly" in cookie and "Path=/" in cookie
    who = httpx.get(windmill.url + "/api/users/whoami", headers={"Authorization": f"Bearer {token}"}).json()
    assert who["email"] == "admin@windmill.dev" and who["super_admin"] is True
    with api(windmill, token) as c:
        labels = [t["label"] for t in c.get("/users/tokens/list").json()]
        assert "session" in labels


def test_wrong_login_is_400_invalid_login(windmill: WindmillEmulator) -> None:
    r = httpx.post(windmill.url + "/api/auth/login", json={"email": "admin@windmill.dev", "password": "bad"})
    assert (r.status_code, r.text) == (400, "Bad request: Invalid login")
    r = httpx.post(windmill.url + "/api/auth/login", json={"email": "admin@windmill.dev"})
    assert r.status_code == 422
    assert "missing field `password`" in r.text


def test_logout_deletes_the_current_token(windmill: WindmillEmulator) -> None:
    token = httpx.post(
        windmill.url + "/api/auth/login", json={"email": "admin@windmill.dev", "password": "changeme"}
    ).text
    r = httpx.post(windmill.url + "/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert (r.status_code, r.text) == (200, "logged out successfully")
    assert (
        httpx.get(windmill.url + "/api/users/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_first_time_setup_until_another_user_exists(windmill: WindmillEmulator) -> None:
    url = windmill.url + "/api/auth/is_first_time_setup"
    assert httpx.get(url).json() is True
    windmill.add_instance_user("bob@example.com")
    assert httpx.get(url).json() is False


def test_create_token_is_201_plain_text_32_alphanumerics(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/users/tokens/create", json={"label": "ci"})
        assert r.status_code == 201
        assert r.headers["content-type"].startswith("text/plain")
        assert re.fullmatch(r"[A-Za-z0-9]{32}", r.text)
        listed = [t for t in c.get("/users/tokens/list").json() if t["label"] == "ci"]
        assert len(listed) == 1
        assert listed[0]["token_prefix"] == r.text[:10]
        assert set(listed[0]) == {"label", "token_prefix", "expiration", "created_at", "last_used_at", "scopes"}
        # all fields optional, but the body must still be JSON
        assert c.post("/users/tokens/create", json={}).status_code == 201


def test_token_list_shows_only_the_callers_tokens(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("bob@example.com")
    bob = windmill.create_token("bob@example.com", label="bobs")
    with api(windmill, bob) as c:
        assert [t["label"] for t in c.get("/users/tokens/list").json()] == ["bobs"]


def test_delete_token_by_prefix_is_200_even_when_nothing_matched(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        token = c.post("/users/tokens/create", json={"label": "tmp"}).text
        r = c.delete(f"/users/tokens/delete/{token[:10]}")
        assert r.status_code == 200
        assert r.text.startswith("deleted 1 tokens") and r.text.endswith(f"with prefix {token[:10]}")
        assert (
            httpx.get(windmill.url + "/api/users/whoami", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
        r = c.delete(f"/users/tokens/delete/{token[:10]}")
        assert r.status_code == 200 and r.text.startswith("deleted 0 tokens")


def test_delete_token_only_touches_the_callers_tokens(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("bob@example.com")
    bob = windmill.create_token("bob@example.com")
    with api(windmill) as c:
        assert c.delete(f"/users/tokens/delete/{bob[:10]}").text.startswith("deleted 0 tokens")
    assert httpx.get(windmill.url + "/api/users/whoami", headers={"Authorization": f"Bearer {bob}"}).status_code == 200


def test_expired_token_is_rejected(windmill: WindmillEmulator) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with api(windmill) as c:
        token = c.post("/users/tokens/create", json={"expiration": past}).text
    r = httpx.get(windmill.url + "/api/users/whoami", headers={"Authorization": f"Bearer {token}"})
    assert (r.status_code, r.text) == (401, "Unauthorized")


def test_workspace_scoped_token_only_works_on_its_workspace(windmill_ee: WindmillEmulator) -> None:
    make_workspace(windmill_ee, "ops")
    make_workspace(windmill_ee, "other")
    with api(windmill_ee) as c:
        scoped = c.post("/users/tokens/create", json={"workspace_id": "ops"}).text
    with api(windmill_ee, scoped) as s:
        assert s.get("/w/ops/variables/list").status_code == 200
        # §2.3: global routes see workspace_id NULL, so the scoped token is unknown there
        assert (s.get("/workspaces/list").status_code, s.get("/workspaces/list").text) == (401, "Unauthorized")
        assert s.get("/users/whoami").status_code == 401
        assert s.get("/w/other/variables/list").status_code == 401


def test_direct_create_token_with_workspace_scope(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    scoped = windmill.create_token(workspace_id="ops", label="scoped")
    with api(windmill, scoped) as s:
        assert s.get("/w/ops/users/whoami").status_code == 200
        assert s.get("/workspaces/list").status_code == 401
    assert [r.path for r in windmill.requests if "tokens" in r.path] == []  # not recorded


def test_non_member_superadmin_acts_as_admin_with_email_username(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    windmill.add_instance_user("root@example.com", super_admin=True)
    root = windmill.create_token("root@example.com")
    with api(windmill, root) as c:
        who = c.get("/w/ops/users/whoami").json()
        assert who["username"] == "root@example.com"
        assert who["is_admin"] is True and who["is_super_admin"] is True
        # an admin endpoint works
        assert c.post("/w/ops/workspaces/change_workspace_name", json={"new_name": "Ops2"}).status_code == 200
        # it is not a member, so the workspace is not in its list
        assert c.get("/workspaces/list").json() == []


def test_non_member_non_superadmin_gets_401(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    windmill.add_instance_user("eve@example.com")
    eve = windmill.create_token("eve@example.com")
    with api(windmill, eve) as c:
        r = c.get("/w/ops/variables/list")
        assert (r.status_code, r.text) == (401, "Unauthorized")
        assert c.get("/workspaces/list").json() == []


def test_member_token_works_and_non_admin_gets_403_on_admin_endpoints(windmill: WindmillEmulator) -> None:
    make_workspace(windmill, "ops")
    username, token = make_member(windmill, "ops", "dev@example.com")
    with api(windmill, token) as c:
        assert c.get("/w/ops/users/whoami").json()["username"] == username == "dev"
        r = c.post("/w/ops/workspaces/change_workspace_name", json={"new_name": "x"})
        assert (r.status_code, r.text) == (403, "Require Admin privileges for dev")


def test_superadmin_secret_is_a_virtual_superadmin() -> None:
    with WindmillEmulator(superadmin_secret="s3cr3t") as emu, api(emu, "s3cr3t") as c:
        who = c.get("/users/whoami").json()
        assert who["email"] == "superadmin_secret@windmill.dev" and who["super_admin"] is True
        assert c.post("/workspaces/create", json={"id": "ops", "name": "Ops"}).status_code == 200
        member = c.get("/w/ops/users/list").json()[0]
        assert member["email"] == "superadmin_secret@windmill.dev"
        assert member["username"] == "superadmin_secret"
    with WindmillEmulator() as emu, api(emu, "s3cr3t") as c:
        assert c.get("/users/whoami").status_code == 401


def test_token_inherits_superadmin_flag_and_demotion_revokes_sessions(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("root@example.com", password="pw", super_admin=True)
    api_token = windmill.create_token("root@example.com")
    session = httpx.post(windmill.url + "/api/auth/login", json={"email": "root@example.com", "password": "pw"}).text
    with api(windmill) as c:
        r = c.post("/users/update/root@example.com", json={"is_super_admin": False})
        assert r.status_code == 200
    assert (
        httpx.get(windmill.url + "/api/users/whoami", headers={"Authorization": f"Bearer {session}"}).status_code == 401
    )
    with api(windmill, api_token) as c:
        assert c.get("/users/whoami").json()["super_admin"] is False
        r = c.get("/workspaces/list_as_superadmin")
        assert (r.status_code, r.text) == (401, "Not authorized: This endpoint requires the caller to be a super admin")


def test_global_user_management_requires_superadmin(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/users/create", json={"email": "New@Example.com", "password": "pw", "super_admin": False})
        assert r.status_code == 201
        login = httpx.post(windmill.url + "/api/auth/login", json={"email": "new@example.com", "password": "pw"})
        assert login.status_code == 200
    with api(windmill, login.text) as c:
        r = c.post("/users/create", json={"email": "x@example.com", "password": "pw", "super_admin": False})
        assert r.status_code == 401
        assert c.post("/users/setpassword", json={"password": "pw2"}).status_code == 200
    assert (
        httpx.post(windmill.url + "/api/auth/login", json={"email": "new@example.com", "password": "pw2"}).status_code
        == 200
    )
