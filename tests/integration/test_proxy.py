"""`make run-scaled` behind nginx (deploy/nginx): what the internet sees of the assistant, and what not.

The real scripts/run-scaled.sh (clinic/testing/supervised.py) on free ports: two Rasa servers on a private
PostgreSQL and Redis, the action server, the web app, and nginx rendered from deploy/nginx/vitawell.conf.in,
on plain HTTP and on HTTPS with the self-signed certificate the script makes.
"""

import socket
import ssl
import time
from pathlib import Path

import httpx
import pytest

from clinic.testing.supervised import SupervisedRun, process_exists, service_ports
from clinic.testing.twilio_fake import message_form, signed_request, twiml_texts
from tests.integration.chat import new_sender, texts
from tests.integration.test_widget_browser import Widget, new_page

pytestmark = pytest.mark.integration

TWILIO_TOKEN = "proxy-twilio-auth-token"


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    names = ("PROXY_PORT", "PROXY_TLS_PORT", "ACTION_SERVER_PORT", "WEB_PORT", "RASA_PORT")
    ports = dict(zip(names, service_ports(6), strict=False))  # the 6th: the second Rasa server
    proxy = f"http://127.0.0.1:{ports['PROXY_PORT']}"
    env = {name: str(port) for name, port in ports.items()}
    env.update(
        RASA_INSTANCES="2",
        DATABASE_URL="", TRACKER_STORE_URL="", LOCK_STORE_URL="",  # the script's own PostgreSQL and Redis
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_NUMBER="+15005550006",
        TWILIO_API_BASE_URL="http://127.0.0.1:9",
        TWILIO_WEBHOOK_URL=f"{proxy}/webhooks/twilio/webhook",  # the public URL Twilio signs
        RATE_LIMIT_PER_IP="1000/60",
    )
    run = SupervisedRun("run-scaled.sh", tmp_path_factory.mktemp("run-scaled"), env)
    run.ports, run.proxy = ports, proxy
    run.tls = f"https://127.0.0.1:{ports['PROXY_TLS_PORT']}"
    run.start()
    try:
        run.wait_for(f"{proxy}/health", 300, "web app through the proxy")
        for offset in (0, 1):
            status = f"http://127.0.0.1:{ports['RASA_PORT'] + offset}/status?token={run.api_token}"
            run.wait_for(status, 600, "Rasa")
        yield run
    finally:
        run.stop()


def say(base: str, sender: str, text: str, **client) -> str:
    """A REST message through `base`; the bot's texts."""
    response = httpx.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                          timeout=60, **client)
    response.raise_for_status()
    return texts(response.json())


def upgrade_status(port: int, origin: str | None, tls: bool = False) -> int:
    """The status nginx answers to a websocket upgrade of socket.io from `origin` (None: no Origin)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        raw = context.wrap_socket(raw, server_hostname="localhost")
    with raw:
        lines = [
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1", f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        raw.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(raw.recv(4096).split(b" ", 2)[1])


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_patient_chats_with_the_widget_in_chromium_through_the_proxy(scaled, browser, scheme):
    base = scaled.proxy if scheme == "http" else scaled.tls
    context, page, seen = new_page(browser, ignore_https_errors=True)
    try:
        page.goto(base + "/")
        assert page.locator("script[data-bot-url]").get_attribute("data-bot-url") == base
        chat = Widget(page)
        chat.open()
        chat.wait_for_opening()
        answers = " ".join(chat.ask("can I squeeze it?"))
        assert "squeez" in answers.lower(), answers
        answers = " ".join(chat.ask("I have a hard white bump under my eye"))
        assert "fluid" in answers.lower() or "pus" in answers.lower(), answers
        assert not seen.errors and not seen.dialogs
    finally:
        context.close()
    # The widget's socket.io went through nginx as a websocket: a 101, logged once the page closed it.
    log = scaled.workdir / "log" / "nginx-access.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not websocket_lines(log.read_text(), scheme):
        time.sleep(0.5)
    assert websocket_lines(log.read_text(), scheme), log.read_text()[-2000:]


def websocket_lines(access_log: str, scheme: str) -> list:
    """Access log lines of socket.io websockets (status 101) on `scheme` (logged as its first word)."""
    return [line for line in access_log.splitlines()
            if line.startswith(scheme + " ") and "/socket.io/?EIO=4&transport=websocket" in line
            and '" 101 ' in line]


def test_a_websocket_from_a_foreign_origin_is_refused(scaled):
    port, tls_port = scaled.ports["PROXY_PORT"], scaled.ports["PROXY_TLS_PORT"]
    assert upgrade_status(port, scaled.proxy) == 101
    assert upgrade_status(tls_port, scaled.tls, tls=True) == 101
    assert upgrade_status(port, "https://evil.example") == 403
    assert upgrade_status(tls_port, f"https://127.0.0.1.evil.example:{tls_port}", tls=True) == 403
    assert upgrade_status(port, None) == 403
    assert upgrade_status(port, "null") == 403


def with_text(body, text: str):  # noqa: ANN001, ANN201
    """`body` with "{via}" replaced by `text` (to tell which request reached the conversation)."""
    return {k: v.replace("{via}", text) for k, v in body.items()} if body else None


def test_rasas_http_api_and_the_action_server_are_not_reachable_through_the_proxy(scaled):
    rasa = f"http://127.0.0.1:{scaled.ports['RASA_PORT']}"
    actions = f"http://127.0.0.1:{scaled.ports['ACTION_SERVER_PORT']}"
    sender = new_sender("proxy")
    say(scaled.proxy, sender, "hi")
    call = {"next_action": "action_session_start", "sender_id": sender, "tracker": {"sender_id": sender,
            "events": [], "slots": {}, "latest_message": {}}, "domain": {}, "version": "3.6.2"}
    token = scaled.api_token
    requests = [
        ("POST", f"/model/parse?token={token}", {"text": "hi"}),
        ("GET", f"/conversations/{sender}/tracker?token={token}", None),
        ("POST", f"/conversations/{sender}/tracker/events?token={token}", {"event": "bot", "text": "{via}"}),
        ("GET", f"/status?token={token}", None),
        ("GET", "/version", None),
        ("GET", f"/domain?token={token}", None),
    ]
    for method, path, body in requests:
        direct = httpx.request(method, rasa + path, json=with_text(body, "direct"), timeout=30,
                               headers={"Accept": "application/json"})
        assert direct.status_code == 200, (path, direct.text)  # the request is real: Rasa itself answers it
        proxied = httpx.request(method, scaled.proxy + path, json=with_text(body, "proxied"), timeout=30,
                                headers={"Accept": "application/json"})
        assert proxied.status_code == 404 and "Rasa" not in proxied.text, (path, proxied.text)
    secret = {"Authorization": f"Bearer {scaled.action_server_token}"}
    assert httpx.post(actions + "/webhook", json=call, headers=secret, timeout=30).status_code == 200
    for path in ("/webhook", "/actions"):
        proxied = httpx.post(scaled.proxy + path, json=call, headers=secret, timeout=30)
        assert proxied.status_code in (404, 405), path
        assert httpx.get(scaled.tls + path, verify=False, timeout=30).status_code == 404, path
    # Only the direct event reached the conversation.
    tracker = httpx.get(f"{rasa}/conversations/{sender}/tracker?token={scaled.api_token}", timeout=30).json()
    bot_texts = [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
    assert "direct" in bot_texts and "proxied" not in bot_texts


def test_an_sms_signed_for_the_public_url_is_accepted_through_the_proxy(scaled):
    public = f"{scaled.proxy}/webhooks/twilio/webhook"
    form = message_form("+447700900321", "can I squeeze it?")
    data, headers = signed_request(public, form, TWILIO_TOKEN)
    response = httpx.post(public, content=data, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    assert "squeez" in " ".join(twiml_texts(response.text)).lower()
    # Signed for the Rasa server's own address instead: not what Twilio signs, refused.
    internal = f"http://127.0.0.1:{scaled.ports['RASA_PORT']}/webhooks/twilio/webhook"
    data, headers = signed_request(internal, message_form("+447700900321", "hi"), TWILIO_TOKEN)
    assert httpx.post(public, content=data, headers=headers, timeout=60).status_code == 403


def test_the_proxy_caps_request_bodies(scaled):
    response = httpx.post(f"{scaled.proxy}/webhooks/rest/webhook", content=b"a" * 300_000, timeout=30)
    assert response.status_code == 413 and "nginx" in response.text


def test_a_crashed_rasa_server_is_restarted_while_the_other_answers(scaled):
    killed = scaled.kill("rasa-2")
    killed_at = time.monotonic()
    # A request that reaches a server as it dies is lost with it (a 502: nginx does not resend a POST that
    # may have been handled); from the moment it is gone, nginx sends everything to the other one.
    while process_exists(killed):
        time.sleep(0.05)
    with pytest.raises(ConnectionRefusedError):  # gone with its listening socket (not yet restarted)
        socket.create_connection(("127.0.0.1", scaled.ports["RASA_PORT"] + 1), timeout=5).close()
    for n in range(6):  # whichever server nginx picks, every message is answered
        try:
            reply = say(scaled.proxy, new_sender("proxy"), "can I squeeze it?")
        except httpx.HTTPStatusError as error:
            raise AssertionError(scaled.log("nginx")[-1500:] + scaled.log("supervisord")[-800:]) from error
        assert "squeez" in reply.lower(), n
    second = f"http://127.0.0.1:{scaled.ports['RASA_PORT'] + 1}/status?token={scaled.api_token}"
    took = scaled.wait_for(second, 300, "restarted Rasa server")
    assert scaled.pid("rasa-2") not in (0, killed)
    assert "exited: rasa-2 (terminated by SIGKILL" in scaled.log("supervisord")
    print(f"rasa-2 answered /status again {time.monotonic() - killed_at:.0f} s after the kill ({took:.0f})")


def test_ctrl_c_stops_everything_and_the_private_databases(scaled):
    status = scaled.supervisorctl("status")
    names = sorted(line.split()[0] for line in status.splitlines() if line.strip())
    assert names == ["actions", "nginx", "rasa-1", "rasa-2", "redis", "web", "worker"], status
    programs = scaled.programs()
    assert len(programs) == len(names) and all(programs), status
    assert scaled.interrupt() in (0, 130), scaled.logs()  # 130: "ended by Ctrl-C", as bash reports it
    assert not [pid for pid in programs if process_exists(pid)]
    postgres_dir = (scaled.workdir / "scaled" / "postgres-dir").read_text().strip()
    assert not Path(postgres_dir).exists()  # PostgreSQL stopped, its data removed
    with pytest.raises(httpx.ConnectError):
        httpx.get(scaled.proxy, timeout=5)
