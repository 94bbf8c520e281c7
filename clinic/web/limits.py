"""Request body limit for the web app: counts bytes as they arrive, so chunked bodies are cut off too.

A declared `Content-Length` over the limit is refused before anything is read. Otherwise the body is
counted chunk by chunk as the app reads it; past the limit the app is stopped, the client gets 413
and the connection is closed (the rest of the upload is never read or buffered).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Too large</title>"
    b"<p>That request is too large, so it was not read. Nothing was changed.</p>"
)


class BodyTooLarge(Exception):
    """The request body went past the limit while the app was reading it."""


class BodySizeLimit:
    """ASGI middleware: at most `max_bytes` of request body per request, or 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared or counted body over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = False
        exceeded = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's own error response for the aborted read is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"connection", b"close"),
                        (b"content-length", str(len(TOO_LARGE_PAGE)).encode())],
        })
        await send({"type": "http.response.body", "body": TOO_LARGE_PAGE})
