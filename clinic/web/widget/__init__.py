"""The website chat widget: `/widget.js` (one script tag on any page) and the demo clinic page `/`.

`/widget.js` is the socket.io client from npm (`node_modules/`, installed by `make node` = `npm ci`)
followed by `widget.js` from this folder, in one closure: the host page gets no `io` global.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.config import PROJECT_ROOT, Settings, get_settings

HERE = Path(__file__).resolve().parent
WIDGET_SOURCE = HERE / "widget.js"
SOCKET_IO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
JS_TYPE = "application/javascript; charset=utf-8"

_templates = Environment(loader=FileSystemLoader(str(HERE)), autoescape=True)


@dataclass(frozen=True)
class Bundle:
    """The served script, rebuilt when one of its sources changes."""

    stamp: Tuple[float, float]
    body: bytes
    etag: str


_bundle: Optional[Bundle] = None


def build_bundle(client_js: str, widget_js: str) -> str:
    """Wrap the socket.io client's UMD build so it hands `io` to the widget instead of to `window`."""
    client_js = re.sub(r"^//# sourceMappingURL=.*$", "", client_js, flags=re.MULTILINE)
    return (
        "/* Vitawell chat widget. Bundles socket.io-client (MIT License, from npm). */\n"
        "(function () {\n"
        "var module = { exports: {} }, exports = module.exports, define;\n"
        f"{client_js}\n"
        "var io = module.exports;\n"
        f"{widget_js}\n"
        "})();\n"
    )


def current_bundle() -> Bundle:
    """The bundle, cached until `widget.js` or the installed client changes."""
    global _bundle
    stamp = (WIDGET_SOURCE.stat().st_mtime, SOCKET_IO_CLIENT.stat().st_mtime)
    if _bundle is None or _bundle.stamp != stamp:
        body = build_bundle(
            SOCKET_IO_CLIENT.read_text(encoding="utf-8"), WIDGET_SOURCE.read_text(encoding="utf-8")
        ).encode("utf-8")
        _bundle = Bundle(stamp, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return _bundle


async def widget_js(request: Request) -> Response:
    """The embeddable widget script."""
    try:
        bundle = current_bundle()
    except FileNotFoundError:
        message = "Vitawell chat: the socket.io client is not installed on the server (run `make node`)."
        return Response(f"console.error({message!r});\n", status_code=503, media_type=JS_TYPE)
    headers = {
        "ETag": bundle.etag,
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == bundle.etag:
        return Response(status_code=304, headers=headers)
    return Response(bundle.body, media_type=JS_TYPE, headers=headers)


def bot_url_for(request: Request, settings: Settings) -> Optional[str]:
    """Where browsers reach Rasa: RASA_PUBLIC_URL, else this page's host on RASA_URL's port.

    RASA_PUBLIC_URL="/" means this page's own origin: a reverse proxy (deploy/nginx) serves the web app
    and Rasa's /socket.io/ on one address, whatever scheme and port the patient came in by.
    """
    if settings.rasa_public_url == "/":
        url = f"{request.url.scheme}://{request.url.netloc}"
    elif settings.rasa_public_url:
        url = settings.rasa_public_url.rstrip("/")
    else:
        port = urlsplit(settings.rasa_url).port or 5005
        url = f"{request.url.scheme}://{request.url.hostname}:{port}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


def content_security_policy(bot_url: Optional[str], nonce: str) -> str:
    """The demo page loads only its own script and talks only to the bot."""
    connect = ["'self'"]
    if bot_url:
        parts = urlsplit(bot_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        socket_origin = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
        connect += [origin, socket_origin]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            f"connect-src {' '.join(connect)}",
            "img-src 'self' https: data:",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


async def demo_page(request: Request) -> HTMLResponse:
    """The clinic's demo page, embedding the widget with one script tag."""
    bot_url = bot_url_for(request, get_settings())
    nonce = secrets.token_urlsafe(16)
    html = _templates.get_template("demo.html").render(
        widget_src="/widget.js", bot_url=bot_url or "", nonce=nonce
    )
    headers = {
        "Content-Security-Policy": content_security_policy(bot_url, nonce),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(html, headers=headers)


def routes() -> List[BaseRoute]:
    """The widget's routes in the clinic's web app."""
    return [Route("/", demo_page), Route("/widget.js", widget_js)]
