"""The action server's door: the address it binds and the token check, decided without a server."""

from types import SimpleNamespace

import pytest

from clinic.hardening import action_server


def request(method="POST", path="/webhook", authorization=None):
    headers = {"authorization": authorization} if authorization is not None else {}
    return SimpleNamespace(method=method, path=path, headers=headers, ip="203.0.113.9")


@pytest.mark.parametrize(
    "method, path, authorization, status",
    [
        ("POST", "/webhook", None, 401),
        ("POST", "/webhook", "", 401),
        ("POST", "/webhook", "Bearer wrong", 403),
        ("POST", "/webhook", "Basic c2VjcmV0", 403),
        ("POST", "/webhook", "secret", 403),
        ("GET", "/actions", None, 401),
        ("POST", "/health", None, 401),
        ("GET", "/health", None, None),
        ("POST", "/webhook", "Bearer secret", None),
        ("GET", "/actions", "bearer secret", None),
    ],
)
def test_only_the_shared_secret_opens_the_door(method, path, authorization, status):
    refused = action_server.refusal(request(method, path, authorization), "secret")
    assert (refused.status if refused else None) == status


def test_the_server_binds_loopback_by_default_and_needs_a_token(monkeypatch, tmp_path):
    registered = []
    monkeypatch.setattr("rasa_sdk.plugin.plugin_manager", lambda: SimpleNamespace(register=registered.append))
    with pytest.raises(action_server.MissingToken):
        action_server.install({})
    env = {"ACTION_SERVER_TOKEN": "t", "SANIC_HOST": "0.0.0.0"}
    guard = action_server.install(env)
    assert env["SANIC_HOST"] == "127.0.0.1" and registered == [guard] and guard.token == "t"
    env = {"ACTION_SERVER_TOKEN_FILE": str(tmp_path / "token"), "ACTION_SERVER_HOST": "10.0.0.5"}
    (tmp_path / "token").write_text("from-file\n")
    assert action_server.install(env).token == "from-file" and env["SANIC_HOST"] == "10.0.0.5"


def test_rasa_sends_the_token_from_endpoints_yml(monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    from tests.conftest import ROOT

    monkeypatch.setenv("ACTION_SERVER_TOKEN", "-the-shared-secret")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_STORE_URL", "sqlite://")
    endpoint = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).action
    assert endpoint.headers == {"Authorization": "Bearer -the-shared-secret"}
