"""Sign-in sessions (HttpOnly, SameSite=Strict, expiring), CSRF tokens, roles, known devices.

Refusals of signed-in staff are audited. Anonymous requests never write to the audit log (anyone could
fill it): they are logged as warnings, at most `LOG_BUDGET` a minute per process.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Awaitable, Callable, Optional
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from clinic.staff.accounts import audit, csrf_matches, resolve_session
from clinic.staff.models import StaffSession, StaffUser

logger = logging.getLogger("clinic.staff")

SESSION_COOKIE = "vitawell_staff"
LOGIN_COOKIE = "vitawell_staff_login"
# Set when someone signs in, sent only to the sign-in form: this browser is a known device of that user.
DEVICE_COOKIE = "vitawell_staff_device"
DEVICE_DAYS = 90
COOKIE_PATH = "/staff"
BASE = "/staff"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
LOG_BUDGET = 20  # anonymous refusals logged per minute and process; the rest are counted


class LogBudget:
    """At most `per_minute` warnings a minute; then one line saying how many were left out."""

    def __init__(self, per_minute: int = LOG_BUDGET, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._window = -1.0
        self._used = 0
        self._dropped = 0

    def warning(self, message: str, *args: object) -> bool:
        """Log the warning if the budget allows; whether it was logged."""
        with self._lock:
            now = self.clock()
            if now - self._window >= 60:
                if self._dropped:
                    logger.warning("staff console: %d more anonymous refusals in the last minute "
                                   "(not logged)", self._dropped)
                self._window, self._used, self._dropped = now, 0, 0
            if self._used >= self.per_minute:
                self._dropped += 1
                return False
            self._used += 1
        logger.warning(message, *args)
        return True


anonymous_log = LogBudget()


@dataclass
class StaffContext:
    """The signed-in staff member of this request."""

    user: StaffUser
    session: StaffSession

    @property
    def csrf_token(self) -> str:
        """The token every form of this session must send back."""
        token: str = self.session.csrf_token
        return token


def client_ip(request: Request) -> str:
    """The caller's address (the app is served directly, no proxy headers are trusted)."""
    return request.client.host if request.client else "unknown"


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=salt)


def session_lifetime(request: Request) -> timedelta:
    """How long a sign-in lasts."""
    return timedelta(minutes=request.app.state.settings.session_minutes)


def cookie_secure(request: Request) -> bool:
    """STAFF_COOKIE_SECURE when set; otherwise Secure unless the console is served on localhost.

    Served over HTTPS (also behind a proxy that sends X-Forwarded-Proto, which uvicorn reads from
    127.0.0.1) always counts as "not localhost", so a proxy that passes Host: 127.0.0.1 still gets
    Secure cookies.
    """
    configured: Optional[bool] = request.app.state.settings.cookie_secure
    if configured is not None:
        return configured
    return request.url.scheme == "https" or (request.url.hostname or "").lower() not in LOCAL_HOSTS


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The signed, HttpOnly, SameSite=Strict session cookie, expiring with the session."""
    lifetime = session_lifetime(request)
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(request, "staff-session").dumps(token),
        max_age=int(lifetime.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def session_token(request: Request) -> Optional[str]:
    """The session token from a correctly signed, unexpired cookie."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token: str = _serializer(request, "staff-session").loads(  # signed by set_session_cookie: a str
            raw, max_age=int(session_lifetime(request).total_seconds())
        )
        return token
    except BadSignature:
        return None


def new_login_nonce() -> str:
    """A CSRF token for the sign-in form (mirrored in a cookie by set_login_cookie); hex, like sessions'."""
    return secrets.token_hex(24)


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    """The sign-in form's CSRF token in a short-lived, signed, HttpOnly cookie."""
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer(request, "staff-login").dumps(nonce),
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def set_device_cookie(request: Request, response: Response, username: str, device: str) -> None:
    """Remember this browser as a known device of `username` (signed, HttpOnly, sign-in form only)."""
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer(request, "staff-device").dumps({"u": username, "d": device}),
        max_age=DEVICE_DAYS * 24 * 3600,
        path=f"{BASE}/login",
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


def known_device(request: Request, username: str) -> str:
    """The browser's device id if it signed in as `username` before (a valid device cookie), else ""."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 512:
        return ""
    try:
        value = _serializer(request, "staff-device").loads(raw, max_age=DEVICE_DAYS * 24 * 3600)
    except BadSignature:
        return ""
    if not isinstance(value, dict) or value.get("u") != username or not isinstance(value.get("d"), str):
        return ""
    device: str = value["d"]
    return device[:64]


def new_device_id() -> str:
    """A random id for a browser that has just signed in."""
    return secrets.token_hex(16)


def login_nonce_matches(request: Request, submitted: object) -> bool:
    """Whether the sign-in form's CSRF token matches its cookie."""
    raw = request.cookies.get(LOGIN_COOKIE)
    if not raw:
        return False
    try:
        expected = _serializer(request, "staff-login").loads(raw, max_age=3600)
    except BadSignature:
        return False
    return csrf_matches(expected, submitted)


def refuse(request: Request, action: str, reason: str, username: Optional[str] = None,
           target: Optional[str] = None, status: int = 403) -> Response:
    """Record the refusal, then answer with a plain explanation (never a stack trace).

    `username` is the signed-in staff member: their refusals are audited. Without one the request is
    anonymous, and only logged (within the budget): no audit row before authentication.
    """
    if username:
        with request.app.state.db() as db:
            audit(db, action, outcome="refused", username=username, target=target,
                  client_ip=client_ip(request), detail=reason)
            db.commit()
    else:
        anonymous_log.warning("staff console refused anonymous %r from %s: %s", action[:80],
                              client_ip(request), reason)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"base": BASE, "status": status, "message": reason, "staff": None},
        status_code=status,
    )


Handler = Callable[[Request, StaffContext], Awaitable[Response]]


def protected(handler: Handler, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an endpoint: a live session, a valid CSRF token on POST, and the role, or refuse."""

    async def endpoint(request: Request) -> Response:
        action = f"{request.method} {request.url.path}"
        token = session_token(request)
        context = None
        if token:
            with request.app.state.db() as db:
                found = resolve_session(db, token)
                if found:
                    db.expunge_all()
                    context = StaffContext(user=found[0], session=found[1])
        if context is None:
            reason = "Please sign in." if not request.cookies.get(SESSION_COOKIE) else (
                "Your session has expired or is not valid. Please sign in again."
            )
            if request.method == "GET":
                anonymous_log.warning("staff console refused anonymous %r from %s: %s", action[:80],
                                      client_ip(request), reason)
                query = request.url.query  # back to the same day of the calendar, page of a list
                next_path = quote(request.url.path + (f"?{query}" if query else ""), safe="/")
                response = RedirectResponse(f"{BASE}/login?next={next_path}", status_code=303)
                clear_session_cookie(response)
                return response
            return refuse(request, action, reason, status=401)
        if request.method == "POST":
            form = await request.form()  # bodies are limited by clinic.web.limits.BodySizeLimit
            request.state.form = form
            if not csrf_matches(context.csrf_token, form.get("csrf_token")):
                return refuse(
                    request, action,
                    "The form's security token is missing or wrong. Reload the page and try again.",
                    context.user.username,
                )
        if admin and not context.user.is_admin:
            return refuse(request, action, "Only an administrator may do this.", context.user.username)
        request.state.staff = context
        return await handler(request, context)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    endpoint.__doc__ = handler.__doc__
    return endpoint
