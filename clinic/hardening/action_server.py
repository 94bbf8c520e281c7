"""The action server's door: it listens on 127.0.0.1 by default, and only Rasa may call it.

Installed by `clinic-rasa run actions` (clinic.hardening.launcher) before rasa_sdk starts:

- The address is `ACTION_SERVER_HOST` (default `127.0.0.1`; `0.0.0.0` when Rasa runs on another
  host), handed to rasa_sdk as its `SANIC_HOST`.
- Every request but `GET /health` must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>`, the
  shared secret Rasa sends from endpoints.yml (`action_endpoint.headers`): none is a 401, a wrong
  one a 403, before the body is read as an action call. Without a token the server does not start.

The check is a Sanic middleware attached through rasa_sdk's public plugin hook
(`attach_sanic_app_extensions`), registered with rasa_sdk's plugin manager.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import MutableMapping, Optional

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic.config import Settings, get_settings, set_process_environment

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
hookimpl = pluggy.HookimplMarker("rasa_sdk")


class MissingToken(SystemExit):
    """The action server would start open to anyone who can reach it."""


def action_server_token(settings: Settings) -> str:
    """ACTION_SERVER_TOKEN, else the first line of the file ACTION_SERVER_TOKEN_FILE ("" if neither)."""
    token = settings.action_server_token
    path = settings.action_server_token_file
    if not token and path:
        try:
            token = (Path(path).read_text(encoding="utf-8").strip().splitlines() or [""])[0].strip()
        except OSError as error:
            raise MissingToken(f"clinic-rasa: cannot read ACTION_SERVER_TOKEN_FILE ({error}).") from error
    return token


def refusal(request: Request, token: str) -> Optional[HTTPResponse]:
    """The answer to a request without the shared secret (None: let it through)."""
    if request.method == "GET" and request.path.rstrip("/") in OPEN_PATHS:
        return None
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if not given:
        logger.warning("Action server refused %s %s from %s: no token.", request.method,
                       request.path[:80], request.ip)
        return response.json({"error": "Unauthorized: this action server only answers the clinic's "
                              "Rasa server (Authorization: Bearer token)"}, status=401,
                             headers={"WWW-Authenticate": "Bearer"})
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        logger.warning("Action server refused %s %s from %s: wrong token.", request.method,
                       request.path[:80], request.ip)
        return response.json({"error": "Forbidden: wrong token"}, status=403)
    return None


class TokenGuard:
    """rasa_sdk plugin: the token check on every route but /health."""

    def __init__(self, token: str) -> None:
        self.token = token

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        """Register the check as the first request middleware."""

        async def guard(request: Request) -> Optional[HTTPResponse]:
            return refusal(request, self.token)

        app.register_middleware(guard, "request")


def install(environ: Optional[MutableMapping[str, str]] = None) -> TokenGuard:
    """Bind to ACTION_SERVER_HOST (default 127.0.0.1) and require the token (refuse to start without).

    `environ` stands for the environment (tests): read instead of this process's, and given SANIC_HOST.
    """
    from rasa_sdk.plugin import plugin_manager

    settings = get_settings(environ)
    token = action_server_token(settings)
    if not token:
        raise MissingToken(
            "clinic-rasa: the action server needs ACTION_SERVER_TOKEN (or ACTION_SERVER_TOKEN_FILE) in "
            "the environment, the secret Rasa sends from endpoints.yml (scripts/env.sh generates one)."
        )
    if environ is None:
        set_process_environment(SANIC_HOST=settings.action_server_host)  # rasa_sdk reads it
    else:
        environ["SANIC_HOST"] = settings.action_server_host
    guard = TokenGuard(token)
    plugin_manager().register(guard)
    return guard
