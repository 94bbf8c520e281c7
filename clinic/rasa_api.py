"""The project's one client for Rasa's HTTP API (external events into a conversation).

`RasaClient` (async) is the staff console's; `post_events` (sync) sends a proactive message
(clinic.channels.proactive). Both build the conversation's URL with `conversation_url`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx

from clinic.channels.identity import REST, output_channel_for


def conversation_url(rasa_url: str, conversation_id: str, endpoint: str) -> str:
    """URL of a conversation endpoint for an id such as `+44...` or `whatsapp:+44...`.

    Rasa does not percent-decode the id in the path, so `+` and `:` stay as they are.
    """
    return f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='+:@')}/{endpoint}"


def post_events(rasa_url: str, token: str, conversation_id: str, events: List[Dict[str, Any]],
                params: Dict[str, str], timeout: float = 15.0) -> Dict[str, Any]:
    """Append `events` to the conversation (synchronously); the tracker as Rasa answers it.

    Raises `httpx.HTTPError` if Rasa is unreachable or refuses.
    """
    response = httpx.post(
        conversation_url(rasa_url, conversation_id, "tracker/events"),
        params={"token": token, **params},
        json=events,
        timeout=timeout,
    )
    response.raise_for_status()
    tracker: Dict[str, Any] = response.json()
    return tracker


class RasaUnavailable(Exception):
    """Rasa did not accept the request (down, wrong token, or an error)."""


class RasaClient:
    """Append events to a conversation and run actions in it, on the patient's own channel."""

    def __init__(self, base_url: str, token: str, timeout: float = 15.0,
                 transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport

    def _url(self, sender_id: str, tail: str) -> str:
        return conversation_url(self.base_url, sender_id, tail)

    async def _request(self, method: str, url: str, payload: Any, params: Dict[str, str]) -> Dict[str, Any]:
        params = {**params, "token": self.token}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
                response = await client.request(method, url, json=payload, params=params)
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa is not reachable: {error.__class__.__name__}") from error
        if response.status_code >= 400:
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        try:
            answer: Dict[str, Any] = response.json()
            return answer
        except ValueError as error:
            raise RasaUnavailable("Rasa answered with something that is not JSON") from error

    async def _post(self, url: str, payload: Any, params: Dict[str, str]) -> Dict[str, Any]:
        return await self._request("POST", url, payload, params)

    async def output_channel(self, sender_id: str) -> str:
        """The conversation's own channel (clinic.channels.identity), never the latest message's claim.

        Only an id outside the SMS/WhatsApp and widget namespaces needs the tracker: a widget session
        from before the server issued them is recorded as socket.io, anything else is REST.
        """
        channel = output_channel_for(sender_id)
        if channel != REST:
            return channel
        tracker = await self._request("GET", self._url(sender_id, "tracker"), None,
                                      {"include_events": "NONE"})
        return output_channel_for(sender_id, tracker.get("latest_input_channel"))

    async def append_events(
        self, sender_id: str, events: List[Dict[str, Any]], send_to_patient: bool = False
    ) -> Dict[str, Any]:
        """Append events; with `send_to_patient`, bot messages go out on the conversation's own channel.

        The channel comes from the conversation id's namespace (clinic.channels.identity), never from
        Rasa's `latest`, which is whatever the latest message claimed to come from.
        """
        params = {"include_events": "NONE"}
        if send_to_patient:
            params.update(execute_side_effects="true", output_channel=await self.output_channel(sender_id))
        return await self._post(self._url(sender_id, "tracker/events"), events, params)

    async def execute(self, sender_id: str, action: str) -> Dict[str, Any]:
        """Run an action (e.g. a response) in the conversation; output on the conversation's own channel."""
        return await self._post(
            self._url(sender_id, "execute"), {"name": action},
            {"output_channel": await self.output_channel(sender_id), "include_events": "NONE"},
        )

    async def send_staff_reply(self, sender_id: str, text: str, staff_username: str) -> None:
        """A staff member's message, delivered to the patient and recorded in the transcript."""
        event = {"event": "bot", "text": text, "metadata": {"staff_reply": True, "staff": staff_username}}
        await self.append_events(sender_id, [event], send_to_patient=True)

    async def pause(self, sender_id: str) -> None:
        """Staff take over: the bot stops answering, the patient is told a person has joined."""
        await self.execute(sender_id, "utter_staff_joined")
        await self.append_events(sender_id, [{"event": "pause"}])

    async def resume(self, sender_id: str) -> None:
        """Hand the conversation back to the bot and tell the patient."""
        await self.append_events(sender_id, [{"event": "resume"}])
        await self.execute(sender_id, "utter_handback")
