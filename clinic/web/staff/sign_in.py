"""Signing in and out: the sign-in form (CSRF token in a cookie), the throttle, the password, the session."""

from __future__ import annotations

import asyncio
import math
from typing import Dict, List, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.staff.accounts import normalise_username
from clinic.staff.throttle import SignInThrottle, Throttled
from clinic.web.staff.pages import actor, console, render
from clinic.web.staff.security import (
    BASE,
    StaffContext,
    anonymous_log,
    clear_session_cookie,
    client_ip,
    cookie_secure,
    known_device,
    login_nonce_matches,
    new_device_id,
    new_login_nonce,
    protected,
    refuse,
    session_lifetime,
    session_token,
    set_device_cookie,
    set_login_cookie,
    set_session_cookie,
)


def safe_next(value: Optional[str]) -> str:
    """Where to go after signing in: a console page named in `next`, else the conversations."""
    if value and value.startswith(BASE + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{BASE}/conversations"


def wait_text(seconds: int) -> str:
    """How long a throttled sign-in waits, in words ("1 second", "3 minutes")."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def login_page(request: Request) -> Response:
    """The sign-in form (or straight in, when already signed in)."""
    token = session_token(request)
    if token and console(request).signed_in(token):
        return RedirectResponse(f"{BASE}/conversations", status_code=303)
    return _login_form(request, error=None, status=200)


def _login_form(request: Request, error: Optional[str], status: int, username: str = "",
                headers: Optional[Dict[str, str]] = None) -> Response:
    nonce = new_login_nonce()
    https_needed = cookie_secure(request) and request.url.scheme != "https"
    response = render(request, "login.html", {
        "error": error, "username": username, "next": safe_next(request.query_params.get("next")),
        "csrf_token": nonce, "https_needed": https_needed,
    }, status=status)
    response.headers.update(headers or {})
    set_login_cookie(request, response, nonce)
    return response


def _busy(request: Request, username: str) -> Response:
    return _login_form(request, "The console is busy signing other people in. Please try again in a moment.",
                       503, username, headers={"Retry-After": "1"})


async def login(request: Request) -> Response:
    """The CSRF token, then the throttle (before any password check), then the password; a session.

    Nothing here writes to the audit log before the password is right: anonymous attempts are counted
    in the throttle and logged within a budget, so they can't flood the audit log.
    """
    form = await request.form()  # bodies are limited by clinic.web.limits.BodySizeLimit
    username = normalise_username(str(form.get("username") or ""))[:64]
    password = str(form.get("password") or "")
    if not login_nonce_matches(request, form.get("csrf_token")):
        return refuse(request, "login",
                      "The sign-in form expired or was forged. Reload the page and try again.")
    if not username or not password:
        return _login_form(request, "Enter your username and password.", 400, username)
    checks: asyncio.Semaphore = request.app.state.password_checks
    if checks.locked():  # every password check is busy: answer at once rather than queue
        return _busy(request, username)
    ip = client_ip(request)
    throttle: SignInThrottle = request.app.state.throttle
    device = known_device(request, username)
    keys = throttle.keys(username, ip, device)
    try:
        await run_in_threadpool(throttle.reserve, keys)
    except Throttled as throttled:
        anonymous_log.warning("staff console: sign-in as %r from %s throttled (%s key, %d s)",
                              username, ip, throttled.kind, throttled.retry_after)
        return _login_form(
            request,
            f"Too many failed sign-ins. For this account's safety, signing in from here is paused: "
            f"try again in {wait_text(throttled.retry_after)}.",
            429, username, headers={"Retry-After": str(throttled.retry_after)},
        )
    if checks.locked():  # they all became busy meanwhile: this attempt was not checked, so it doesn't count
        await run_in_threadpool(throttle.release, keys)
        return _busy(request, username)
    async with checks:
        token = await run_in_threadpool(console(request).sign_in, username, password,
                                        session_lifetime(request), ip)
    if token is None:
        anonymous_log.warning("staff console: wrong password for %r from %s", username, ip)
        return _login_form(request, "Wrong username or password.", 401, username)
    await run_in_threadpool(throttle.succeeded, keys)
    response = RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)
    set_session_cookie(request, response, token)
    set_device_cookie(request, response, username, device or new_device_id())
    return response


async def logout(request: Request, staff: StaffContext) -> Response:
    """End the session everywhere it could be used."""
    console(request).sign_out(session_token(request), actor(request, staff))
    response = RedirectResponse(f"{BASE}/login?notice=signed_out", status_code=303)
    clear_session_cookie(response)
    return response


async def home(request: Request, staff: StaffContext) -> Response:
    """The console opens on the conversations."""
    return RedirectResponse(f"{BASE}/conversations", status_code=303)


def routes() -> List[BaseRoute]:
    """The sign-in form and its target (open to all), signing out, and the console's front door."""
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", protected(logout), methods=["POST"]),
        Route("/", protected(home), methods=["GET"]),
    ]
