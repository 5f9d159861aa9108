"""Instance-level endpoints of the emulator: global settings, the bulk instance config, worker-group
configs, instance groups and global users, as Windmill's source answers them (see
windmill_emulator/instance_config.py and instance_groups.py for the files and commits)."""

from __future__ import annotations

from windmill_emulator import WindmillEmulator
from windmill_emulator.testing import api, make_workspace


def test_a_global_setting_is_set_read_and_deleted_with_null_or_a_blank_string(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        assert c.get("/settings/global/base_url").json() is None
        r = c.post("/settings/global/base_url", json={"value": "https://windmill.example"})
        assert (r.status_code, r.text) == (200, "")
        assert c.get("/settings/global/base_url").json() == "https://windmill.example"
        c.post("/settings/global/base_url", json={"value": "  "})
        assert c.get("/settings/global/base_url").json() is None
        c.post("/settings/global/base_url", json={"value": "https://windmill.example"})
        c.post("/settings/global/base_url", json={"value": None})
        assert c.get("/settings/global/base_url").json() is None


def test_protected_settings_cannot_be_deleted(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        r = c.post("/settings/global/jwt_secret", json={"value": None})
        assert r.status_code == 400 and "protected setting" in r.text


def test_ce_clamps_the_retention_period_to_30_days_and_ee_does_not(
    windmill: WindmillEmulator, windmill_ee: WindmillEmulator
) -> None:
    ninety_days = 90 * 24 * 3600
    for emu, expected in ((windmill, 30 * 24 * 3600), (windmill_ee, ninety_days)):
        with api(emu) as c:
            c.post("/settings/global/retention_period_secs", json={"value": ninety_days})
            assert c.get("/settings/global/retention_period_secs").json() == expected


def test_settings_need_a_superadmin_except_the_public_keys(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("dev@example.com")
    with api(windmill, windmill.create_token("dev@example.com")) as c:
        assert c.get("/settings/global/base_url").status_code == 401
        assert c.post("/settings/global/base_url", json={"value": "https://x.example"}).status_code == 401
        assert c.get("/settings/global/email_domain").status_code == 200
        assert c.get("/settings/instance_config").status_code == 401


def test_the_bulk_instance_config_upserts_only_what_it_carries(windmill_ee: WindmillEmulator) -> None:
    with api(windmill_ee) as c:
        c.post("/settings/global/email_domain", json={"value": "mail.example"})
        c.post("/settings/global/automate_username_creation", json={"value": True})
        r = c.put("/settings/instance_config", json={"global_settings": {"base_url": "https://w.example"},
                                                     "worker_configs": {"gpu": {"worker_tags": ["gpu"]}}})
        assert r.status_code == 200
        config = c.get("/settings/instance_config").json()
    # Nothing the PUT did not name was deleted; the hidden settings are not shown.
    assert config["global_settings"] == {"base_url": "https://w.example", "email_domain": "mail.example"}
    assert config["worker_configs"] == {"gpu": {"worker_tags": ["gpu"]}}


def test_worker_group_configs_need_the_enterprise_edition(
    windmill: WindmillEmulator, windmill_ee: WindmillEmulator
) -> None:
    with api(windmill) as c:
        r = c.post("/configs/update/worker__reports", json={"worker_tags": ["reports"]})
        assert r.status_code == 400 and "only in the enterprise version" in r.text
    with api(windmill_ee) as c:
        assert c.get("/configs/get/worker__reports").json() is None
        assert c.post("/configs/update/worker__reports", json={"worker_tags": ["reports"]}).status_code == 200
        assert c.get("/configs/get/worker__reports").json() == {"worker_tags": ["reports"]}
        assert [g["name"] for g in c.get("/configs/list_worker_groups").json()] == ["worker__reports"]
        assert c.delete("/configs/update/worker__reports").status_code == 200
        r = c.delete("/configs/update/worker__reports")
        assert r.status_code == 404 and r.text == "Not found: Config worker__reports not found"


def test_instance_groups_are_normalized_created_once_and_hold_emails(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        created = c.post("/groups/create", json={"name": "Ops Team", "summary": "on call"})
        assert created.text == "Created group ops_team"
        c.post("/groups/create", json={"name": "ops_team", "summary": "ignored"})  # ON CONFLICT DO NOTHING
        assert c.post("/groups/adduser/ops_team", json={"email": "a@example.com"}).status_code == 200
        c.post("/groups/adduser/ops_team", json={"email": "a@example.com"})
        group = c.get("/groups/get/ops_team").json()
        assert (group["summary"], group["emails"]) == ("on call", ["a@example.com"])
        assert c.post("/groups/update/ops_team", json={"new_summary": "pager"}).status_code == 200
        assert c.post("/groups/removeuser/ops_team", json={"email": "a@example.com"}).status_code == 200
        assert c.get("/groups/get/ops_team").json()["emails"] == []
        missing = c.post("/groups/update/nope", json={"new_summary": "x"})
        assert missing.status_code == 404 and "instance_group not found at name nope" in missing.text
        assert c.post("/groups/adduser/nope", json={"email": "a@example.com"}).status_code == 404
        assert c.delete("/groups/delete/ops_team").status_code == 200
        assert c.delete("/groups/delete/ops_team").status_code == 200
        assert c.get("/groups/list").json() == []


def test_instance_groups_do_not_count_toward_the_ce_group_limit(windmill: WindmillEmulator) -> None:
    with api(windmill) as c:
        for i in range(5):
            assert c.post("/groups/create", json={"name": f"g{i}"}).status_code == 200


def test_a_global_user_can_be_disabled_and_the_flag_is_listed(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("dev@example.com")
    with api(windmill) as c:
        assert c.post("/users/update/dev@example.com", json={"disabled": True, "is_devops": True}).status_code == 200
        row = next(u for u in c.get("/users/list_as_super_admin").json() if u["email"] == "dev@example.com")
    assert (row["disabled"], row["devops"], row["role_source"]) == (True, True, "manual")


def test_deleting_a_user_leaves_the_tokens_it_minted_working(windmill: WindmillEmulator) -> None:
    windmill.add_instance_user("root@example.com", super_admin=True)
    token = windmill.create_token("root@example.com")
    with api(windmill) as c:
        c.post("/groups/create", json={"name": "ops"})
        c.post("/groups/adduser/ops", json={"email": "root@example.com"})
        assert c.delete("/users/delete/root@example.com").text == "email root@example.com deleted"
        assert c.get("/groups/get/ops").json()["emails"] == []
    make_workspace(windmill, "ops")
    with api(windmill, token) as c:
        # users.rs (delete_user) deletes no token row: the token still acts with the super_admin flag it
        # was minted with, as an admin of every workspace; only the checks that look the email up fail.
        assert c.get("/w/ops/users/whoami").json()["is_admin"] is True
        assert c.get("/workspaces/list_as_superadmin").status_code == 401
