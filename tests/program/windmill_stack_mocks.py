"""WindmillStack built under Pulumi mocks for the program tests: the type tokens, the outputs the
mock engine answers (a generated password, image ids, the readiness gate's version), and views of
the recorded containers."""

from __future__ import annotations

from typing import Any

import pulumi

from components.config.windmill_stack import WindmillStackArgs
from components.windmill_stack import WindmillStack
from testkit.mocking import MockEnvironment, install_mocks

PASSWORD = "GeneratedPassw0rdForTheMockEngine42"
COMPONENT = "homeops:windmill:WindmillStack"
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"
PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"
GATE = "pulumi-python:dynamic/windmill:ReadinessGate"


def mock_outputs() -> dict[str, Any]:
    return {
        # Containers get the image *reference* as their image id, which keeps assertions readable.
        IMAGE: lambda a: {"imageId": a.inputs["name"]},
        PASSWORD_TYPE: lambda a: {"result": PASSWORD},
        GATE: lambda a: {
            "version": ("EE" if "-ee:" in _current_image[0] else "CE") + f" v{a.inputs['expected_version']}"
        },
        NETWORK: lambda a: {"name": a.inputs["name"]},
        VOLUME: lambda a: {"name": a.inputs["name"]},
    }


_current_image = [""]


def build(config: dict[str, Any] | None = None) -> tuple[MockEnvironment, dict[str, Any], WindmillStackArgs]:
    """Build the stack from a windmillStack config under fresh mocks; returns recorded state."""
    args = WindmillStackArgs.from_config({"enabled": True, **(config or {})})
    _current_image[0] = args.windmill_image
    env = install_mocks(mock_outputs())
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        stack = WindmillStack("windmill", args)

        async def secret_flag() -> bool:
            return await stack.database_url.is_secret()

        captured["stack"] = stack
        return pulumi.Output.all(
            stack.public_url,
            stack.internal_url,
            stack.api_url,
            stack.windmill_version,
            stack.database_url,
            pulumi.Output.from_input(secret_flag()),
        ).apply(
            lambda v: captured.update(
                public_url=v[0],
                internal_url=v[1],
                api_url=v[2],
                windmill_version=v[3],
                database_url=v[4],
                database_url_secret=v[5],
            )
        )

    run()
    return env, captured, args


def containers(env: MockEnvironment) -> dict[str, Any]:
    return {r.name: r for r in env.find(CONTAINER)}


def env_list(registration: Any) -> list[str]:
    return list(registration.plain_inputs.get("envs") or [])


def env_map(registration: Any) -> dict[str, str]:
    return dict(item.split("=", 1) for item in env_list(registration))


def volume_mounts(registration: Any) -> dict[str, str]:
    return {
        v["containerPath"]: v.get("volumeName") or v.get("hostPath")
        for v in registration.plain_inputs.get("volumes", [])
    }
