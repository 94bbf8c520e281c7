"""The widget's socket.io channel (credentials.yml: `clinic.channels.socketio.ClinicSocketIOInput`).

Rasa's `SocketIOInput` (same events, path and session persistence), with the session id issued by
the server instead of chosen by the browser:

- `session_request` with an id this server issued (clinic.channels.widget_session) continues that
  conversation; any other id (none, a phone number, a guess, too long) gets a fresh one, which
  `session_confirm` carries back and the widget keeps. Only then does the socket join the id's room
  (where staff replies arrive).
- A message counts only for the session confirmed to its socket: a `session_id` in the message that
  differs (another patient's conversation) is refused and logged; none at all is ignored as before.
- The message's metadata is ignored (nothing in the assistant reads widget metadata), and a message
  that is not text is treated as empty.

The handlers replace Rasa's through python-socketio's public `AsyncServer.on(event, handler)`.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from clinic.channels.widget_session import WidgetSessions

logger = logging.getLogger(__name__)


class ClinicSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with server-issued session ids (see the module docstring)."""

    sessions: Optional[WidgetSessions] = None

    @classmethod
    def name(cls) -> str:
        """Same name as Rasa's channel (`output_channel=socketio`)."""
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, with the session and message handlers replaced."""
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        sessions = self.sessions or WidgetSessions.from_env()
        confirmed: Dict[str, str] = {}  # socket id -> the session id confirmed to it

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            if sessions.is_issued(requested):
                session_id = requested
            else:
                session_id = sessions.issue()
                if requested:
                    size = len(requested) if isinstance(requested, str) else 0
                    logger.info("socket.io: a session id the server did not issue (%d characters) was "
                                "replaced by a new session.", size)
            previous = confirmed.get(sid)
            if previous and previous != session_id:
                sio.leave_room(sid, previous, namespace=self.namespace)
            confirmed[sid] = session_id
            if self.session_persistence:
                sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def handle_message(sid: str, data: Any) -> None:
            session_id = confirmed.get(sid)
            if session_id is None or not isinstance(data, dict):
                logger.info("socket.io: a message before any session was confirmed was ignored.")
                return
            claimed = data.get("session_id")
            if self.session_persistence and claimed != session_id:
                logger.warning("socket.io: refused a message for a session id not confirmed to its socket.")
                return
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",
                SocketIOOutput(sio, self.bot_message_evt),
                session_id if self.session_persistence else sid,
                input_channel=self.name(),
                metadata=None,
            )
            await on_new_message(message)

        async def disconnect(sid: str) -> None:
            confirmed.pop(sid, None)

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        return webhook
