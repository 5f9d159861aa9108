"""One error module: one root for everything the package raises, and one "deleted outside Pulumi"
error that every update of a vanished object raises, whatever Windmill answered."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from components.windmill import errors
from components.windmill.base import WindmillProvider
from components.windmill.client import ConnectionSettings, RetryPolicy, WindmillClient
from components.windmill.folders import FolderProvider
from components.windmill.members import MemberProvider
from components.windmill.resources import ResourceProvider
from components.windmill.variables import VariableProvider

CONNECTION = {"api_url": "http://windmill.test", "api_token": "unit-token-0123456789"}


def test_every_error_of_the_package_has_the_one_root() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)]
    assert len(classes) > 10
    assert all(issubclass(c, errors.WindmillError) for c in classes)
    assert not issubclass(errors.PathConflictError, ValueError)


def test_deleted_outside_pulumi_keeps_the_call_and_says_how_to_repair() -> None:
    cause = errors.NotFoundError("POST", "/w/ws/variables/update/f/a/b", 404, "Variable not found")
    error = errors.deleted_outside_pulumi(cause, "variable", "f/a/b", "ws")
    assert (error.method, error.path, error.status) == (cause.method, cause.path, 404)
    assert "variable 'f/a/b' no longer exists in workspace 'ws'" in str(error)
    assert "pulumi refresh" in str(error) and "Variable not found" in str(error)


def _answering(handler: Callable[[httpx.Request], httpx.Response], monkeypatch: pytest.MonkeyPatch) -> None:
    def client(self: WindmillProvider, props: dict[str, Any]) -> WindmillClient:
        settings = ConnectionSettings(url=props["api_url"], token=props["api_token"])
        http = httpx.Client(base_url=settings.api_base, transport=httpx.MockTransport(handler))
        return WindmillClient(settings, retry=RetryPolicy(attempts=1), http=http)

    monkeypatch.setattr(WindmillProvider, "client", client)


UPDATES = [
    # Windmill answers 401 "not an owner" for a folder that is gone (the exists probe says false).
    (FolderProvider, {"workspace": "ws", "name": "ops", "summary": "a"}, {"summary": "b"}, "folder 'ops'"),
    (VariableProvider, {"workspace": "ws", "path": "f/ops/v", "value": "x", "is_secret": False},
     {"description": "d"}, "variable 'f/ops/v'"),
    (ResourceProvider, {"workspace": "ws", "path": "f/ops/r", "resource_type": "c_t"}, {"description": "d"},
     "resource 'f/ops/r'"),
    (MemberProvider, {"workspace": "ws", "email": "a@example.com", "role": "developer"}, {"role": "admin"},
     "member 'a@example.com'"),
]


@pytest.mark.parametrize(("provider_class", "inputs", "change", "named"), UPDATES,
                         ids=[u[0].__name__ for u in UPDATES])
def test_an_update_of_an_object_deleted_outside_pulumi_says_so(
    provider_class: type[WindmillProvider], inputs: dict[str, Any], change: dict[str, Any], named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/users/list"):
            return httpx.Response(200, json=[])
        if "/exists/" in request.url.path:
            return httpx.Response(200, json=False)
        status = 401 if "/folders/" in request.url.path else 404
        return httpx.Response(status, text="Not found or not an owner")

    _answering(handler, monkeypatch)
    provider = provider_class()
    olds = provider.check({}, {**inputs, **CONNECTION}).inputs
    news = provider.check({}, {**inputs, **change, **CONNECTION}).inputs
    with pytest.raises(errors.NotFoundError) as caught:
        provider.update("id", olds, news)
    assert named in str(caught.value) and "deleted outside Pulumi" in str(caught.value)
    assert CONNECTION["api_token"] not in str(caught.value)
