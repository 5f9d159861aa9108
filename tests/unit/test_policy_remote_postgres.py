"""The postgres-never-published policy with remote worker groups: a private address with TLS passes,
anything else still fails."""

from __future__ import annotations

import pytest

from policy.homeops_policy import docker_host
from tests.unit.policy_stacks import one, postgres_stack, violations

TLS_COMMAND = ["postgres", "-c", "max_connections=100", "-c", "ssl=on",
               "-c", "hba_file=/etc/homeops/postgres/pg_hba.conf"]


def test_postgres_published_on_a_private_address_with_tls_is_allowed():
    policy = docker_host.POSTGRES_NOT_PUBLISHED
    for address in ("10.20.0.5", "192.168.1.20", "172.16.3.4", "100.100.1.2", "fd00::5"):
        stack = postgres_stack(command=TLS_COMMAND,
                               ports=[{"internal": 5432.0, "external": 5432.0, "ip": address}])
        assert violations(policy, stack.args()) == [], address


@pytest.mark.parametrize(("address", "command"), [
    ("10.20.0.5", ["postgres", "-c", "max_connections=100"]),           # no TLS
    ("10.20.0.5", ["postgres", "-c", "ssl=on"]),                         # no pg_hba of its own
    ("0.0.0.0", TLS_COMMAND),                                            # noqa: S104 - every interface
    ("203.0.113.7", TLS_COMMAND),                                        # public (documentation range)
    ("127.0.0.1", TLS_COMMAND),                                          # loopback
    (None, TLS_COMMAND),                                                 # Docker's default: every interface
])
def test_anything_else_is_still_refused(address, command):
    port = {"internal": 5432.0, "external": 5432.0}
    if address is not None:
        port["ip"] = address
    stack = postgres_stack(command=command, ports=[port])
    assert "publishes 1 port(s)" in one(docker_host.POSTGRES_NOT_PUBLISHED, stack.args())
