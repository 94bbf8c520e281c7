"""REST_CHANNEL=off: a clinic that only uses the widget and SMS has no REST door at all."""

import httpx
import pytest

from tests.security.servers import modelless_rasa

pytestmark = pytest.mark.integration


def test_rest_channel_off_refuses_every_rest_request(tmp_path):
    with modelless_rasa(tmp_path, REST_CHANNEL="off") as url:
        response = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": "me", "message": "hi"},
                              timeout=30)
        assert response.status_code == 404
        assert response.json()["reason"] == "ChannelOff"
        assert httpx.get(f"{url}/webhooks/rest/", timeout=30).status_code == 404
        # the other channels are still there
        assert httpx.get(f"{url}/webhooks/twilio/", timeout=30).status_code == 200
        assert httpx.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                         timeout=30).status_code == 200
