"""Sign-in sessions (HttpOnly, SameSite=Strict, expiring), CSRF tokens, roles; refusals are audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Awaitable, Callable, Optional
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from clinic.staff.accounts import audit, csrf_matches, resolve_session
from clinic.staff.models import StaffSession, StaffUser

SESSION_COOKIE = "vitawell_staff"
LOGIN_COOKIE = "vitawell_staff_login"
COOKIE_PATH = "/staff"
BASE = "/staff"
MAX_FORM_BYTES = 64 * 1024


@dataclass
class StaffContext:
    """The signed-in staff member of this request."""

    user: StaffUser
    session: StaffSession

    @property
    def csrf_token(self) -> str:
        """The token every form of this session must send back."""
        return self.session.csrf_token


def client_ip(request: Request) -> str:
    """The caller's address (the app is served directly, no proxy headers are trusted)."""
    return request.client.host if request.client else "unknown"


def _serializer(request: Request, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt=salt)


def session_lifetime(request: Request) -> timedelta:
    """How long a sign-in lasts."""
    return timedelta(minutes=request.app.state.settings.session_minutes)


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
        secure=request.app.state.settings.cookie_secure,
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
        return _serializer(request, "staff-session").loads(
            raw, max_age=int(session_lifetime(request).total_seconds())
        )
    except BadSignature:
        return None


def new_login_nonce() -> str:
    """A CSRF token for the sign-in form (mirrored in a cookie by set_login_cookie)."""
    return secrets.token_urlsafe(24)


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    """The sign-in form's CSRF token in a short-lived, signed, HttpOnly cookie."""
    response.set_cookie(
        LOGIN_COOKIE,
        _serializer(request, "staff-login").dumps(nonce),
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
    )


def login_nonce_matches(request: Request, submitted: Optional[str]) -> bool:
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
    """Audit the refusal, then answer with a plain explanation (never a stack trace)."""
    with request.app.state.db() as db:
        audit(db, action, outcome="refused", username=username, target=target,
              client_ip=client_ip(request), detail=reason)
        db.commit()
    templates = request.app.state.templates
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
                with request.app.state.db() as db:
                    audit(db, action, outcome="refused", client_ip=client_ip(request), detail=reason)
                    db.commit()
                next_path = quote(request.url.path, safe="/")
                response = RedirectResponse(f"{BASE}/login?next={next_path}", status_code=303)
                clear_session_cookie(response)
                return response
            return refuse(request, action, reason, status=401)
        if request.method == "POST":
            if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
                return refuse(request, action, "That form is too large.", context.user.username, status=413)
            form = await request.form()
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
