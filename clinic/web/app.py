"""The web app (Starlette): composes the widget's routes and the staff console.

Run with `uvicorn --factory clinic.web.app:create_app --port 8000` (`make run` does).
"""

from __future__ import annotations

from typing import List

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from clinic.config import get_settings
from clinic.hardening import logmask
from clinic.web import widget
from clinic.web.limits import BodySizeLimit
from clinic.web.staff import staff_app


async def health(_request: Request) -> JSONResponse:
    """Liveness probe."""
    return JSONResponse({"status": "ok"})


def routes() -> List[BaseRoute]:
    """Every route of the web app; each concern contributes its own list."""
    return [
        Route("/health", health),
        Mount("/staff", app=staff_app()),
        *widget.routes(),
    ]


def create_app() -> Starlette:
    """Build the ASGI app: every request body is limited (WEB_MAX_BODY_BYTES), chunked ones included.

    Log lines of the process are masked like the Rasa servers' (phone numbers, e-mails, names).
    """
    logmask.install()
    limit = get_settings().web_max_body_bytes
    return Starlette(routes=routes(), middleware=[Middleware(BodySizeLimit, max_bytes=limit)])
