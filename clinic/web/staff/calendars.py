"""Practitioners' calendar feeds: the secret `.ics` URL, and the admin page that creates and revokes them.

`GET /staff/calendar/<token>.ics` needs no sign-in (calendar providers fetch it): the token is the key. An
unknown or revoked token gets the same 404 as any page that does not exist, and is logged within the
anonymous budget (never audited: anyone could fill the audit log). Creating and revoking are admin actions,
audited; the URL is shown once, right after it is created.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import List, Optional, Tuple

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from clinic.booking import handlers
from clinic.booking.availability import PractitionerInfo
from clinic.booking.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from clinic.outbox.calendar import Venue
from clinic.staff.calendar_feeds import PAST_DAYS, CalendarFeedRepository, FeedView, feed_ics
from clinic.web.staff.pages import record, render
from clinic.web.staff.security import BASE, StaffContext, anonymous_log, client_ip, protected, refuse

NOTICES = {"revoked": "The feed is revoked: its URL no longer works."}


def _uow(request: Request) -> UnitOfWorkFactory:
    return unit_of_work_factory(request.app.state.settings.database_url)


def _not_found(request: Request) -> Response:
    anonymous_log.warning("staff console: calendar feed with an unknown or revoked token from %s",
                          client_ip(request))
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"base": BASE, "status": 404, "message": "There is no such page.",
                                "staff": None, "notice": None},
        status_code=404,
    )


def _feed(request: Request, token: str) -> Optional[bytes]:
    with request.app.state.db() as db:
        practitioner_id = CalendarFeedRepository(db).practitioner_for(token)
        db.commit()
    if practitioner_id is None:
        return None
    uow = _uow(request)
    schedule = handlers.current_schedule(uow)
    practitioner = schedule.practitioners.get(practitioner_id)
    now = datetime.now(timezone.utc)
    bookings = handlers.practitioner_bookings(uow, practitioner_id, now - timedelta(days=PAST_DAYS))
    name = practitioner.name if practitioner else "practitioner"
    return feed_ics(name, bookings, Venue.from_clinic_file(), now)


async def feed(request: Request) -> Response:
    """The practitioner's bookings as text/calendar, for the holder of the secret URL."""
    body = await run_in_threadpool(_feed, request, request.path_params["token"])
    if body is None:
        return _not_found(request)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"content-disposition": 'inline; filename="vitawell.ics"'})


def _page_data(request: Request) -> Tuple[List[PractitionerInfo], List[Tuple[FeedView, str]]]:
    schedule = handlers.current_schedule(_uow(request))
    with request.app.state.db() as db:
        feeds = CalendarFeedRepository(db).all()
    names = {p.id: p.name for p in schedule.practitioners.values()}
    practitioners = sorted(schedule.practitioners.values(), key=lambda p: p.name)
    return practitioners, [(f, names.get(f.practitioner_id, "?")) for f in feeds]


def feed_url(request: Request, token: str) -> str:
    """The URL to paste into Google Calendar ("From URL") or Outlook ("Subscribe from web")."""
    return f"{str(request.base_url).rstrip('/')}{BASE}/calendar/{token}.ics"


async def calendars(request: Request, staff: StaffContext, created: Optional[Tuple[str, str]] = None,
                    status: int = 200) -> Response:
    """Admin: each practitioner's feeds, who made them, when they were last read; create and revoke."""
    practitioners, feeds = await run_in_threadpool(_page_data, request)
    if created is None:
        record(request, staff, "view calendar feeds", detail=f"{len(feeds)} feeds")
    return render(request, "calendars.html", {
        "practitioners": practitioners, "feeds": feeds, "created": created,
        "calendar_notice": NOTICES.get(request.query_params.get("done", "")),
    }, status=status, staff=staff)


async def create(request: Request, staff: StaffContext) -> Response:
    """Admin: a new secret URL for a practitioner, shown once (audited, without the token)."""
    code = str(request.state.form.get("practitioner") or "")[:40]
    schedule = await run_in_threadpool(handlers.current_schedule, _uow(request))
    practitioner = next((p for p in schedule.practitioners.values() if p.code == code), None)
    if practitioner is None:
        return refuse(request, "create calendar feed", "There is no such practitioner.",
                      staff.user.username, target=f"practitioner {code}", status=404)

    def _create() -> Tuple[str, int]:
        with request.app.state.db() as db:
            token, made = CalendarFeedRepository(db).create(practitioner.id, staff.user.username)
            db.commit()
            return token, made.id

    token, feed_id = await run_in_threadpool(_create)
    record(request, staff, "create calendar feed", target=f"practitioner {practitioner.code}",
           detail=f"feed {feed_id}")
    return await calendars(request, staff, created=(practitioner.name, feed_url(request, token)))


async def revoke(request: Request, staff: StaffContext) -> Response:
    """Admin: the feed's URL stops working at once (audited)."""
    raw = request.path_params["feed_id"]
    feed_id = int(raw) if raw.isdigit() and len(raw) < 10 else -1

    def _revoke() -> Optional[FeedView]:
        with request.app.state.db() as db:
            revoked = CalendarFeedRepository(db).revoke(feed_id, staff.user.username)
            db.commit()
            return revoked

    revoked = await run_in_threadpool(_revoke)
    if revoked is None:
        return refuse(request, "revoke calendar feed", "There is no such calendar feed.", staff.user.username,
                      target=f"feed {raw[:20]}", status=404)
    record(request, staff, "revoke calendar feed", target=f"feed {feed_id}",
           detail=f"practitioner {revoked.practitioner_id}")
    return RedirectResponse(f"{BASE}/calendars?done=revoked", status_code=303)


def routes() -> List[BaseRoute]:
    """The feed (no sign-in: the token is the key) and the admin page."""
    return [
        Route("/calendar/{token}.ics", feed, methods=["GET"]),
        Route("/calendars", protected(calendars, admin=True), methods=["GET"]),
        Route("/calendars", protected(create, admin=True), methods=["POST"]),
        Route("/calendars/{feed_id}/revoke", protected(revoke, admin=True), methods=["POST"]),
    ]
