"""Variables and secrets (docs/windmill-api.md §5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from components.windmill.rules import MAX_SECRET_VALUE_BYTES, encrypted_length
from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_member, make_workspace


def var(path: str, value: str = "v", *, secret: bool = False, description: str = "") -> dict[str, Any]:
    return {"path": path, "value": value, "is_secret": secret, "description": description}


@pytest.fixture
def c(windmill: WindmillEmulator) -> httpx.Client:
    make_workspace(windmill, "ops")
    with api(windmill) as client:
        client.post("/w/ops/folders/create", json={"name": "ops"})
        yield client


def test_create_is_201_and_all_four_fields_are_required(c: httpx.Client) -> None:
    r = c.post("/w/ops/variables/create", json=var("f/ops/plain", "hello"))
    assert (r.status_code, r.text) == (201, "variable f/ops/plain created")
    for missing in ("path", "value", "is_secret", "description"):
        body = var("f/ops/x")
        del body[missing]
        r = c.post("/w/ops/variables/create", json=body)
        assert r.status_code == 422
        assert r.text.startswith(
            f"Failed to deserialize the JSON body into the target type: missing field `{missing}` at line 1 column "
        )
    r = c.post("/w/ops/variables/create", json=var("f/ops/plain"))
    assert (r.status_code, r.text) == (400, "Bad request: Variable f/ops/plain already exists")
    r = c.post("/w/ops/variables/create", json={**var("f/ops/y"), "value": 5})
    assert r.status_code == 422
    assert "value: invalid type: integer `5`, expected a string" in r.text


@pytest.mark.parametrize("path", ["ops/x", "f/ops", "x/ops/y", "f/ops/", "f/o ps/y", "f//y", "u/a.b/c"])
def test_bad_paths_are_sql_check_violations(c: httpx.Client, path: str) -> None:
    r = c.post("/w/ops/variables/create", json=var(path))
    assert r.status_code == 400
    assert r.text.startswith('SqlErr: error returned from database: new row for relation "variable" violates check')
    assert '"proper_id"' in r.text


def test_path_length_and_value_length_limits(c: httpx.Client) -> None:
    r = c.post("/w/ops/variables/create", json=var("f/ops/" + "a" * 250))
    assert r.status_code == 400 and "character varying(255)" in r.text
    assert c.post("/w/ops/variables/create", json=var("f/ops/big", "x" * 15000)).status_code == 201
    r = c.post("/w/ops/variables/create", json=var("f/ops/bigger", "x" * 15001))
    assert r.status_code == 400 and "character varying(15000)" in r.text
    # §5: secrets are stored encrypted, which makes them longer, so 15000 plaintext chars do not fit
    r = c.post("/w/ops/variables/create", json=var("f/ops/bigsecret", "x" * 15000, secret=True))
    assert r.status_code == 400 and "character varying(15000)" in r.text
    # The ciphertext is as long as Windmill's, so the longest secret is the one the provider allows.
    for value in ("", "x", "x" * 15, "x" * 16, "é" * 9):
        assert len(c.post("/w/ops/variables/encrypt", json=value).text) == encrypted_length(value)
    longest = "x" * MAX_SECRET_VALUE_BYTES
    assert c.post("/w/ops/variables/create", json=var("f/ops/longest", longest, secret=True)).status_code == 201
    r = c.post("/w/ops/variables/create", json=var("f/ops/too_long", longest + "x", secret=True))
    assert r.status_code == 400 and "character varying(15000)" in r.text


def test_secrets_are_encrypted_at_rest_deterministically_as_windmill_does(
    windmill: WindmillEmulator, c: httpx.Client
) -> None:
    """§5: AES-256-CBC under the workspace key with a fixed IV: one value, one ciphertext per workspace."""
    c.post("/w/ops/variables/create", json=var("f/ops/a", "s3cret", secret=True))
    c.post("/w/ops/variables/create", json=var("f/ops/b", "s3cret", secret=True))
    a = windmill.raw_variable("ops", "f/ops/a")
    b = windmill.raw_variable("ops", "f/ops/b")
    assert a is not None and b is not None
    assert "s3cret" not in a["value"]
    assert a["value"] == b["value"] == c.post("/w/ops/variables/encrypt", json="s3cret").text
    first = a["value"]
    c.post("/w/ops/variables/update/f/ops/a", json={"value": "s3cret"})
    again = windmill.raw_variable("ops", "f/ops/a")
    assert again is not None and again["value"] == first  # a rewrite with the same value changes nothing
    c.post("/w/ops/variables/update/f/ops/a", json={"value": "s3cret2"})
    changed = windmill.raw_variable("ops", "f/ops/a")
    assert changed is not None and changed["value"] != first
    make_workspace(windmill, "other")
    assert c.post("/w/other/variables/encrypt", json="s3cret").text != first  # another workspace's key
    c.post("/w/ops/variables/create", json=var("f/ops/plain", "visible"))
    plain = windmill.raw_variable("ops", "f/ops/plain")
    assert plain is not None and plain["value"] == "visible"
    assert windmill.raw_variable("ops", "f/ops/none") is None


def test_get_decrypts_by_default_and_audits_every_decrypt(windmill: WindmillEmulator, c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/tok", "s3cret", secret=True))
    decrypts = lambda: [e for e in windmill.audit if e["operation"] == "variables.decrypt_secret"]  # noqa: E731
    assert decrypts() == []
    got = c.get("/w/ops/variables/get/f/ops/tok").json()
    assert got["value"] == "s3cret" and got["is_secret"] is True
    assert len(decrypts()) == 1 and decrypts()[0]["resource"] == "f/ops/tok"
    c.get("/w/ops/variables/get/f/ops/tok", params={"decrypt_secret": "true"})
    assert len(decrypts()) == 2
    got = c.get("/w/ops/variables/get/f/ops/tok", params={"decrypt_secret": "false"}).json()
    assert got["value"] is None
    enc = c.get("/w/ops/variables/get/f/ops/tok", params={"decrypt_secret": "false", "include_encrypted": "true"})
    raw = windmill.raw_variable("ops", "f/ops/tok")
    assert raw is not None and enc.json()["value"] == raw["value"]
    assert len(decrypts()) == 2  # no decrypt, no audit entry
    assert c.get("/w/ops/variables/get_value/f/ops/tok").json() == "s3cret"
    assert len(decrypts()) == 3
    r = c.get("/w/ops/variables/get/f/ops/tok", params={"decrypt_secret": "yes"})
    assert r.status_code == 400 and r.text.startswith("Failed to deserialize query string")


def test_get_shape_and_404(c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/plain", "hello", description="d"))
    got = c.get("/w/ops/variables/get/f/ops/plain").json()
    assert got["value"] == "hello" and got["description"] == "d" and got["is_linked"] is False
    for key in ("workspace_id", "extra_perms", "account", "is_oauth", "is_expired", "refresh_error", "expires_at"):
        assert key in got
    r = c.get("/w/ops/variables/get/f/ops/ghost")
    assert (r.status_code, r.text) == (404, "Not found: Variable f/ops/ghost not found")
    assert c.get("/w/ops/variables/exists/f/ops/plain").json() is True
    assert c.get("/w/ops/variables/exists/f/ops/ghost").json() is False
    # percent-encoded paths are decoded like axum's wildcard
    assert c.get("/w/ops/variables/get/f%2Fops%2Fplain").json()["value"] == "hello"


def test_list_never_returns_secret_values(c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/b_secret", "s3cret", secret=True))
    c.post("/w/ops/variables/create", json=var("f/ops/a_plain", "hello"))
    rows = c.get("/w/ops/variables/list").json()
    assert [(r["path"], r["value"]) for r in rows] == [("f/ops/a_plain", "hello"), ("f/ops/b_secret", None)]
    assert [r["path"] for r in c.get("/w/ops/variables/list", params={"path_start": "f/ops/b"}).json()] == [
        "f/ops/b_secret"
    ]


def test_update_is_secret_rules_and_404(windmill: WindmillEmulator, c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/v", "plain"))
    r = c.post("/w/ops/variables/update/f/ops/v", json={"is_secret": True})
    assert (r.status_code, r.text) == (400, "Bad request: cannot change is_secret without updating value too")
    # sending the unchanged flag without a value is fine
    assert c.post("/w/ops/variables/update/f/ops/v", json={"is_secret": False, "description": "x"}).status_code == 200
    r = c.post("/w/ops/variables/update/f/ops/v", json={"is_secret": True, "value": "now secret"})
    assert (r.status_code, r.text) == (200, 'variable f/ops/v updated (npath: "f/ops/v")')
    raw = windmill.raw_variable("ops", "f/ops/v")
    assert raw is not None and raw["is_secret"] and "now secret" not in raw["value"]
    assert c.get("/w/ops/variables/get/f/ops/v").json()["value"] == "now secret"
    # a value-only update of a secret stays encrypted
    c.post("/w/ops/variables/update/f/ops/v", json={"value": "rotated"})
    raw = windmill.raw_variable("ops", "f/ops/v")
    assert raw is not None and "rotated" not in raw["value"]
    r = c.post("/w/ops/variables/update/f/ops/ghost", json={"description": "x"})
    assert (r.status_code, r.text) == (404, "Not found: Variable not found at name f/ops/ghost")


def test_rename_moves_the_linked_resource_and_rewrites_references(c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/db", "pw", secret=True))
    c.post("/w/ops/variables/create", json=var("f/ops/taken", "x"))
    c.post(
        "/w/ops/resources/create",
        json={"path": "f/ops/db", "resource_type": "postgresql", "value": {"password": "$var:f/ops/db"}},
    )
    r = c.post("/w/ops/variables/update/f/ops/db", json={"path": "f/ops/taken"})
    assert (r.status_code, r.text) == (400, "Bad request: Variable f/ops/taken already exists")
    r = c.post("/w/ops/variables/update/f/ops/db", json={"path": "f/ops/db2"})
    assert (r.status_code, r.text) == (200, 'variable f/ops/db updated (npath: "f/ops/db2")')
    assert c.get("/w/ops/variables/exists/f/ops/db").json() is False
    assert c.get("/w/ops/variables/get/f/ops/db2").json()["value"] == "pw"
    assert c.get("/w/ops/resources/get_value/f/ops/db2").json() == {"password": "$var:f/ops/db2"}


def test_delete_is_200_even_when_missing_and_cascades_to_the_resource(c: httpx.Client) -> None:
    r = c.delete("/w/ops/variables/delete/f/ops/ghost")
    assert (r.status_code, r.text) == (200, "variable f/ops/ghost deleted")
    c.post("/w/ops/variables/create", json=var("f/ops/pair", "x"))
    c.post("/w/ops/resources/create", json={"path": "f/ops/pair", "resource_type": "c_x", "value": {}})
    assert c.get("/w/ops/variables/get/f/ops/pair").json()["is_linked"] is True
    assert c.delete("/w/ops/variables/delete/f/ops/pair").status_code == 200
    assert c.get("/w/ops/resources/exists/f/ops/pair").json() is False  # §5: the resource went too


def test_resource_delete_cascades_to_the_variable(c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/pair", "x"))
    c.post("/w/ops/resources/create", json={"path": "f/ops/pair", "resource_type": "c_x", "value": {}})
    assert c.delete("/w/ops/resources/delete/f/ops/pair").status_code == 200
    assert c.get("/w/ops/variables/exists/f/ops/pair").json() is False


def test_bulk_delete_and_encrypt_endpoint(windmill: WindmillEmulator, c: httpx.Client) -> None:
    c.post("/w/ops/variables/create", json=var("f/ops/a"))
    r = c.request("DELETE", "/w/ops/variables/delete_bulk", json={"paths": ["f/ops/a", "f/ops/ghost"]})
    assert r.json() == ["f/ops/a"]
    ciphertext = c.post("/w/ops/variables/encrypt", json="hello").text
    assert "hello" not in ciphertext
    r = c.post("/w/ops/variables/create?already_encrypted=true", json=var("f/ops/pre", ciphertext, secret=True))
    assert r.status_code == 201
    raw = windmill.raw_variable("ops", "f/ops/pre")
    assert raw is not None and raw["value"] == ciphertext
    assert c.get("/w/ops/variables/get/f/ops/pre").json()["value"] == "hello"


def test_ciphertext_from_another_workspace_cannot_be_decrypted(windmill_ee: WindmillEmulator) -> None:
    make_workspace(windmill_ee, "a")
    make_workspace(windmill_ee, "b")
    with api(windmill_ee) as c:
        foreign = c.post("/w/a/variables/encrypt", json="hello").text
        c.post("/w/b/variables/create?already_encrypted=true", json=var("f/x/v", foreign, secret=True))
        r = c.get("/w/b/variables/get/f/x/v")
        assert r.status_code == 500 and "Could not decrypt value" in r.text


def test_row_level_security_for_a_developer(windmill: WindmillEmulator, c: httpx.Client) -> None:
    username, dev = make_member(windmill, "ops", "dev@example.com")
    c.post("/w/ops/variables/create", json=var("f/ops/admin_only", "x"))
    c.post("/w/ops/variables/create", json=var("u/admin/mine", "x"))
    with api(windmill, dev) as d:
        # own user path: allowed
        assert d.post("/w/ops/variables/create", json=var(f"u/{username}/v", "x")).status_code == 201
        # a folder without write permission: RLS
        r = d.post("/w/ops/variables/create", json=var("f/ops/v", "x"))
        assert r.status_code == 400
        assert 'new row violates row-level security policy for table "variable"' in r.text
        r = d.get("/w/ops/variables/get/f/ops/admin_only")
        assert r.status_code == 401
        assert r.text.startswith("Not authorized: Variable exists but you don't have access to it:")
        assert [v["path"] for v in d.get("/w/ops/variables/list").json()] == [f"u/{username}/v"]
        assert d.get("/w/ops/variables/exists/u/admin/mine").json() is True  # exists bypasses RLS
    c.post("/w/ops/folders/update/ops", json={"extra_perms": {"u/admin": True, f"u/{username}": True}})
    with api(windmill, dev) as d:
        assert d.post("/w/ops/variables/create", json=var("f/ops/v", "x")).status_code == 201
        assert d.get("/w/ops/variables/get/f/ops/admin_only").status_code == 200
