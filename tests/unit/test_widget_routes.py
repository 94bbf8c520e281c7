"""The web app's widget routes: the bundled script and the demo page (no servers needed)."""

import pytest
from starlette.testclient import TestClient

from clinic.web import widget
from clinic.web.app import create_app


@pytest.fixture
def client(monkeypatch):
    monkeypatch.delenv("RASA_PUBLIC_URL", raising=False)
    monkeypatch.setenv("RASA_URL", "http://localhost:5005")
    return TestClient(create_app())


def test_widget_js_bundles_the_socket_io_client_without_a_global(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    body = response.text
    assert "Socket.IO v4.8.4" in body  # from node_modules (package-lock.json)
    assert "var module = { exports: {} }, exports = module.exports, define;" in body
    assert body.index("Socket.IO") < body.index("Vitawell chat widget: one script tag")
    assert "sourceMappingURL" not in body
    again = client.get("/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_widget_js_says_what_is_missing_when_npm_ci_has_not_run(client, monkeypatch, tmp_path):
    monkeypatch.setattr(widget, "SOCKET_IO_CLIENT", tmp_path / "missing.js")
    monkeypatch.setattr(widget, "_bundle", None)
    response = client.get("/widget.js")
    assert response.status_code == 503
    assert "make node" in response.text and response.text.startswith("console.error(")


def test_the_widget_never_writes_html():
    source = widget.WIDGET_SOURCE.read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "document.write" not in source and "eval(" not in source


def test_demo_page_embeds_the_widget_with_the_bot_on_the_pages_host(client):
    response = client.get("/", headers={"host": "clinic.test:8000"})
    assert response.status_code == 200
    assert '<script src="/widget.js" data-bot-url="http://clinic.test:5005"></script>' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self' http://clinic.test:5005 ws://clinic.test:5005;" in policy


def test_demo_page_uses_the_configured_public_bot_url(client, monkeypatch):
    monkeypatch.setenv("RASA_PUBLIC_URL", "https://bot.vitawell.example/")
    response = client.get("/")
    assert 'data-bot-url="https://bot.vitawell.example"' in response.text
    policy = response.headers["content-security-policy"]
    assert "https://bot.vitawell.example wss://bot.vitawell.example" in policy


def test_behind_the_proxy_the_bot_is_the_pages_own_origin(client, monkeypatch):
    monkeypatch.setenv("RASA_PUBLIC_URL", "/")
    response = client.get("/", headers={"host": "127.0.0.1:8080"})
    assert 'data-bot-url="http://127.0.0.1:8080"' in response.text
    policy = response.headers["content-security-policy"]
    assert "connect-src 'self' http://127.0.0.1:8080 ws://127.0.0.1:8080;" in policy


def test_demo_page_ignores_a_bot_url_that_is_not_http(client, monkeypatch):
    monkeypatch.setenv("RASA_PUBLIC_URL", 'javascript:alert(1)//"><script>')
    response = client.get("/")
    assert "javascript:" not in response.text
    assert 'data-bot-url=""' in response.text
