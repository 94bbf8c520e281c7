"""Attacks on the action server: forged action calls from anyone who can reach it."""

import httpx
import pytest

from clinic.testing.servers import ACTION_TOKEN
from tests.integration.chat import new_sender, texts

pytestmark = pytest.mark.integration


def forged_call(sender: str, action: str = "action_delete_my_data"):
    return {"next_action": action, "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": {}, "events": [],
                        "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


@pytest.mark.parametrize(
    "headers, status",
    [({}, 401), ({"Authorization": "Bearer guessed"}, 403), ({"Authorization": ACTION_TOKEN}, 403),
     ({"X-Token": ACTION_TOKEN}, 401)],
)
def test_a_forged_action_call_is_refused(assistant, headers, status):
    url = f"http://127.0.0.1:{assistant.action_port}"
    response = httpx.post(f"{url}/webhook", json=forged_call("+447911123456"), headers=headers, timeout=30)
    assert response.status_code == status, response.text
    assert "events" not in response.text
    assert httpx.get(f"{url}/actions", headers=headers, timeout=30).status_code == status
    assert httpx.get(f"{url}/health", timeout=30).status_code == 200  # liveness stays open, says nothing


def test_with_the_shared_secret_rasa_still_runs_its_actions(assistant):
    url = f"http://127.0.0.1:{assistant.action_port}"
    ok = httpx.get(f"{url}/actions", headers={"Authorization": f"Bearer {ACTION_TOKEN}"}, timeout=30)
    assert ok.status_code == 200 and {"name": "action_delete_my_data"} in ok.json()
    # and through Rasa, which sends it from endpoints.yml: a custom action answers (the triage form)
    sender = new_sender()
    reply = texts(assistant.say(sender, "I have a white bump under my eye"))
    assert "unavailable" not in reply.lower() and reply


def listening_addresses(port: int):
    """Local addresses of the sockets listening on `port` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":  # LISTEN
                    found.append(address)
    return found


def test_the_action_server_listens_on_loopback_only(assistant):
    addresses = listening_addresses(assistant.action_port)
    assert addresses and set(addresses) <= {"0100007F", "00000000000000000000000001000000"}, addresses
