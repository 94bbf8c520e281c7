"""The Rasa HTTP API needs the token, refuses model changes even with it, and CORS is an allow-list."""

import httpx
import pytest

from clinic.testing.servers import API_TOKEN

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/status"),
        ("GET", "/domain"),
        ("GET", "/conversations/someone/tracker"),
        ("POST", "/conversations/someone/tracker/events"),
        ("POST", "/conversations/someone/trigger_intent"),
        ("POST", "/model/parse"),
    ],
)
def test_the_http_api_needs_the_token(assistant, method, path):
    for params in ({}, {"token": "wrong-token"}):
        response = httpx.request(method, assistant.url + path, params=params, json={}, timeout=30)
        assert response.status_code in (401, 403), (path, params, response.status_code)


@pytest.mark.parametrize(
    "method, path",
    [("PUT", "/model"), ("DELETE", "/model"), ("POST", "/model/train"), ("POST", "/model/test/intents")],
)
def test_model_changes_are_refused_even_with_the_token(assistant, method, path):
    response = httpx.request(
        method, assistant.url + path, params={"token": API_TOKEN}, json={"model_file": "/tmp/evil.tar.gz"},
        timeout=30,
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "ModelChangesDisabled"
    status = httpx.get(assistant.url + "/status", params={"token": API_TOKEN}, timeout=30).json()
    assert status["model_file"].endswith("clinic.tar.gz")


def test_cors_answers_only_the_allowed_origin(assistant):
    def preflight(origin):
        return httpx.options(
            assistant.url + "/webhooks/rest/webhook",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=30,
        )

    origin = assistant.cors[0]  # the allow-list the fixture started Rasa with
    allowed = preflight(origin)
    assert allowed.headers.get("access-control-allow-origin") == origin
    refused = preflight("https://evil.example")
    assert "access-control-allow-origin" not in refused.headers
    assert refused.status_code < 500
