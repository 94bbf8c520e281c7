"""The staff console at /staff: a Starlette sub-app with server-rendered Jinja2 pages (no script).

`clinic.web.app.routes()` mounts it with `Mount("/staff", app=staff_app())`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import jinja2
from markupsafe import Markup
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinic.config import get_settings
from clinic.conversations.index import ConversationIndex
from clinic.conversations.labels import domain_intents
from clinic.conversations.repository import ConversationRepository
from clinic.conversations.store import tracker_engine
from clinic.db.engine import engine_for, session_factory
from clinic.masking import mask_text
from clinic.rasa_api import RasaClient
from clinic.staff.console import StaffConsole
from clinic.staff.throttle import SignInThrottle
from clinic.web.limits import BodySizeLimit
from clinic.web.staff import (
    admin,
    bookings,
    calendars,
    conversations,
    erasure,
    handoff,
    insights,
    notes,
    review,
    sign_in,
)
from clinic.web.staff.security import BASE
from clinic.web.staff.settings import StaffSettings

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Every console response: strict CSP (no script at all), no framing, no caching."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    header for header in SECURITY_HEADERS if header[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


@jinja2.pass_context
def _masked(context: jinja2.runtime.Context, value: Any) -> Any:
    """Every value a page prints: contact details masked unless the page is for an admin.

    Transcript text, slot and entity values, payloads, names, search terms: whatever a template prints
    goes through the project's one masking (`clinic.masking.mask_text`), so a new field can't leak.
    """
    if context.get("reveal_contacts") is True or value is None or isinstance(value, Markup):
        return value
    if isinstance(value, (str, list, tuple, dict)):
        return mask_text(str(value))
    return value


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, finalize=_masked
    )
    env.filters["when"] = lambda d: d.strftime("%d %b %Y %H:%M") if d else ""
    env.filters["epoch"] = lambda t: (
        datetime.fromtimestamp(t, tz=timezone.utc).strftime("%d %b %Y %H:%M") if t else "")
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{v * 100:.0f}%"
    return Jinja2Templates(env=env)


def _error_page(request: Request, status: int, message: str) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"base": BASE, "status": status, "message": message, "staff": None,
                                "notice": None},
        status_code=status,
    )


async def _database_down(request: Request, exc: Exception) -> Response:
    """A database that can't be reached: 503 and a plain explanation (the details go to the log)."""
    logger.error("Staff console: database unreachable (%s).", type(exc).__name__)
    return _error_page(request, 503, "The clinic's database can't be reached right now, so nothing was "
                                     "shown or changed. Please try again in a few minutes.")


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "There is no such page.", 405: "That is not allowed here."}.get(
        status, "Something went wrong on our side; nothing was changed. Please try again."
    )
    return _error_page(request, status, message)


def staff_app(settings: Optional[StaffSettings] = None) -> Starlette:
    """Build the console (settings from the environment unless given)."""
    settings = settings or get_settings().staff()
    routes = [
        *sign_in.routes(),
        *conversations.routes(),
        *handoff.routes(),
        *erasure.routes(),
        *insights.routes(),
        *admin.routes(),
        *bookings.routes(),
        *review.routes(),
        *notes.routes(),
        *calendars.routes(),
    ]
    app = Starlette(
        routes=routes,
        # The web app limits bodies too; this keeps the console safe wherever it is mounted.
        middleware=[Middleware(SecurityHeaders),
                    Middleware(BodySizeLimit, max_bytes=get_settings().web_max_body_bytes)],
        exception_handlers={HTTPException: _error, OperationalError: _database_down, 500: _error},
    )
    app.state.settings = settings
    app.state.db = session_factory(settings.database_url)
    app.state.throttle = SignInThrottle(engine_for(settings.database_url))
    app.state.password_checks = asyncio.Semaphore(settings.password_checks)
    app.state.conversations = ConversationRepository(tracker_engine(settings.tracker_store_url))
    app.state.index = ConversationIndex(tracker_engine(settings.tracker_store_url), app.state.db,
                                        settings.secret_key)
    app.state.rasa = RasaClient(settings.rasa_url, settings.rasa_auth_token)
    app.state.console = StaffConsole(app.state.db, app.state.index, app.state.conversations, app.state.rasa,
                                     settings.secret_key, settings.database_url)
    app.state.templates = _templates()
    app.state.intents = domain_intents()
    return app
