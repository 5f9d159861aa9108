"""First boot, the default admin and the token hand-over through the SDK's real provider host (gRPC),
against the emulator: which credential is used, what is created and revoked, renewal, refresh, and
that nothing ever shows a credential."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pulumi.runtime.proto import provider_pb2 as pb

from components.windmill.default_admin import DefaultAdminProvider
from components.windmill.first_boot import FirstBootProvider
from components.windmill.tokens import TokenProvider
from testkit.provider_host import Engine, ProviderError, ProviderHost, ResourceState
from windmill_emulator import WindmillEmulator

AUTOMATION = "windmill-automation@homeops.invalid"
SECRET = "bootstrap-superadmin-secret-4f1d2c"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@pytest.fixture
def host() -> Iterator[ProviderHost]:
    with ProviderHost() as running:
        running.configure({})
        yield running


def api(emu: WindmillEmulator, token: str) -> httpx.Client:
    return httpx.Client(base_url=emu.url + "/api", headers={"Authorization": f"Bearer {token}"})


def whoami(emu: WindmillEmulator, token: str) -> httpx.Response:
    with api(emu, token) as c:
        return c.get("/users/whoami")


def login(emu: WindmillEmulator, email: str, password: str) -> int:
    return httpx.post(emu.url + "/api/auth/login", json={"email": email, "password": password}).status_code


def boot(host: ProviderHost, emu: WindmillEmulator, token: str | None = None, **inputs: Any) -> ResourceState:
    connection = {"api_url": emu.url, **({"api_token": token} if token else {})}
    engine = Engine(host, connection)
    return engine.up(Engine.urn("FirstBoot", "first-boot"), FirstBootProvider(), inputs).state


def test_first_boot_from_the_default_password_mints_an_automation_superadmin_token(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    state = boot(host, windmill)
    out = state.outputs
    assert out["bootstrapped_with"] == "default_password"
    me = whoami(windmill, out["token"]).json()
    assert (me["email"], me["super_admin"]) == (AUTOMATION, True)
    assert out["token_prefix"] == out["token"][:10] and out["expires_at"].endswith("Z")
    # The login sessions it used are gone: only the program token remains for the automation user.
    with api(windmill, out["token"]) as c:
        assert [t["token_prefix"] for t in c.get("/users/tokens/list").json()] == [out["token_prefix"]]
    with api(windmill, windmill.admin_token) as c:
        labels = [t["label"] for t in c.get("/users/tokens/list").json()]
    assert "session" not in labels
    assert out["token"] not in host.logs() and out["automation_password"] not in host.logs()


def test_first_boot_from_the_superadmin_secret_revokes_what_that_secret_minted(host: ProviderHost) -> None:
    with WindmillEmulator(superadmin_secret=SECRET) as emu:
        with api(emu, SECRET) as c:
            minted = c.post("/users/tokens/create", json={"label": "old bootstrap token"}).text
        assert whoami(emu, minted).status_code == 200
        state = boot(host, emu, SECRET, try_default_password=False)
        assert state.outputs["bootstrapped_with"] == "api_token"
        assert state.outputs["revoked_bootstrap_tokens"] == 1
        assert whoami(emu, minted).status_code == 401
        assert whoami(emu, state.outputs["token"]).json()["email"] == AUTOMATION
        assert SECRET not in host.logs()


def test_without_a_working_credential_first_boot_says_what_to_set_and_changes_nothing(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    with api(windmill, windmill.admin_token) as c:
        c.post("/users/setpassword", json={"password": "changed-by-hand-31"})
    windmill.clear_requests()
    with pytest.raises(ProviderError) as caught:
        boot(host, windmill, "not-a-token-at-all")
    assert "windmillToken" in caught.value.details and "not-a-token-at-all" not in caught.value.details
    assert [r for r in windmill.requests if r.method in MUTATING and r.path != "/api/auth/login"] == []


def test_first_boot_works_from_an_operator_token_when_the_default_admin_is_gone(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    windmill.add_instance_user("ops@homeops.example", super_admin=True)
    operator = windmill.create_token("ops@homeops.example")
    with api(windmill, operator) as c:
        assert c.delete("/users/delete/admin@windmill.dev").status_code == 200
    state = boot(host, windmill, operator)
    assert state.outputs["bootstrapped_with"] == "api_token"
    assert state.outputs["revoked_bootstrap_tokens"] == 0  # an operator's own tokens are never touched
    assert whoami(windmill, operator).status_code == 200


def test_a_second_up_changes_nothing_even_without_the_bootstrap_credential(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    state = boot(host, windmill)
    windmill.clear_requests()
    result = Engine(host, {"api_url": windmill.url}).up(Engine.urn("FirstBoot", "first-boot"), FirstBootProvider(),
                                                        {}, state)
    assert result.op == "same"
    assert windmill.requests == []


def test_the_program_token_is_renewed_before_it_expires_and_the_old_one_revoked(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    engine = Engine(host, {"api_url": windmill.url})
    urn = Engine.urn("FirstBoot", "first-boot")
    state = engine.up(urn, FirstBootProvider(), {}).state
    old = state.outputs["token"]
    assert engine.preview(urn, FirstBootProvider(), {}, state).changes == pb.DiffResponse.DIFF_NONE
    # 89 days later: the token expires within renew_days_before (30), so the next up renews it.
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    state.outputs["expires_at"] = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert engine.preview(urn, FirstBootProvider(), {}, state).changes == pb.DiffResponse.DIFF_SOME
    due = engine.up(urn, FirstBootProvider(), {}, state)
    assert due.op == "update"
    new = due.state.outputs["token"]
    assert new != old and whoami(windmill, new).json()["email"] == AUTOMATION
    assert whoami(windmill, old).status_code == 401
    assert dt.datetime.fromisoformat(due.state.outputs["expires_at"].replace("Z", "+00:00")) > soon


def test_refresh_finds_a_revoked_program_token_and_the_next_up_mints_a_new_one(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    engine = Engine(host, {"api_url": windmill.url})
    urn = Engine.urn("FirstBoot", "first-boot")
    state = engine.up(urn, FirstBootProvider(), {}).state
    token = state.outputs["token"]
    with api(windmill, token) as c:
        c.delete(f"/users/tokens/delete/{token[:10]}")
    refreshed = engine.refresh(state)
    assert refreshed is not None and refreshed.outputs["token_prefix"] == ""
    repaired = engine.up(urn, FirstBootProvider(), {}, refreshed)
    assert repaired.op == "update"
    assert whoami(windmill, repaired.state.outputs["token"]).json()["email"] == AUTOMATION


def test_removing_the_default_admin_revokes_its_tokens_first(host: ProviderHost, windmill: WindmillEmulator) -> None:
    program = boot(host, windmill).outputs["token"]
    engine = Engine(host, {"api_url": windmill.url, "api_token": program})
    urn = Engine.urn("DefaultAdmin", "default-admin")
    state = engine.up(urn, DefaultAdminProvider(), {"action": "remove"}).state
    assert state.outputs["revoked_tokens"] >= 1
    assert whoami(windmill, windmill.admin_token).status_code == 401  # Windmill would have kept it working
    assert login(windmill, "admin@windmill.dev", "changeme") == 400
    with api(windmill, program) as c:
        assert "admin@windmill.dev" not in {u["email"] for u in c.get("/users/list_as_super_admin").json()}
    assert engine.refresh(state).inputs["action"] == "remove"


def test_a_rotated_default_admin_gets_a_generated_password(host: ProviderHost, windmill: WindmillEmulator) -> None:
    program = boot(host, windmill).outputs["token"]
    engine = Engine(host, {"api_url": windmill.url, "api_token": program})
    state = engine.up(Engine.urn("DefaultAdmin", "default-admin"), DefaultAdminProvider(), {"action": "rotate"}).state
    password = state.outputs["password"]
    assert login(windmill, "admin@windmill.dev", password) == 200
    assert login(windmill, "admin@windmill.dev", "changeme") == 400
    assert whoami(windmill, windmill.admin_token).status_code == 401
    assert password not in host.logs()


def test_a_removed_default_admin_that_comes_back_is_drift_and_refresh_only_reads(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    program = boot(host, windmill).outputs["token"]
    engine = Engine(host, {"api_url": windmill.url, "api_token": program})
    urn = Engine.urn("DefaultAdmin", "default-admin")
    state = engine.up(urn, DefaultAdminProvider(), {"action": "remove"}).state
    windmill.add_instance_user("admin@windmill.dev", password="changeme", super_admin=True)
    windmill.clear_requests()
    refreshed = engine.refresh(state)
    assert [r for r in windmill.requests if r.method in MUTATING] == []  # not even a login attempt
    assert refreshed is not None and refreshed.inputs["action"] == "rotate"
    assert engine.up(urn, DefaultAdminProvider(), {"action": "remove"}, refreshed).op == "update"
    assert login(windmill, "admin@windmill.dev", "changeme") == 400


def test_a_token_is_handed_over_when_the_program_token_changes_owner(
    host: ProviderHost, windmill: WindmillEmulator
) -> None:
    windmill.add_instance_user("ops@homeops.example", super_admin=True)
    operator = windmill.create_token("ops@homeops.example")
    urn = Engine.urn("Token", "sync-token")
    before = Engine(host, {"api_url": windmill.url, "api_token": operator}).up(
        urn, TokenProvider(), {"label": "github-sync"}).state
    program = boot(host, windmill, operator).outputs["token"]
    after = Engine(host, {"api_url": windmill.url, "api_token": program, "api_identity": AUTOMATION}).up(
        urn, TokenProvider(), {"label": "github-sync"}, before)
    assert after.op == "replace" and "api_identity" in after.replaces
    assert whoami(windmill, after.state.outputs["token"]).json()["email"] == AUTOMATION
    assert whoami(windmill, before.outputs["token"]).status_code == 401  # deleted with its owner's token
