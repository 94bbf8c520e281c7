"""Bookings as a calendar (day: slots x practitioners; week: practitioners x days); attended, no-show, cancel.

The layout and what each booking's card shows are `clinic.web.staff.calendar` (pure); changes go through
`clinic.booking.handlers`, whose rules (`clinic_may_mark`, `clinic_may_cancel`) also decide the buttons.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.booking import handlers
from clinic.booking.handlers import BookingView
from clinic.booking.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from clinic.contract import BookingStatus
from clinic.privacy import mask_contact
from clinic.web.staff import calendar
from clinic.web.staff.pages import fresh_index, key_of, record, render
from clinic.web.staff.security import BASE, StaffContext, protected, refuse

NOTICES = {
    BookingStatus.ATTENDED: "Marked as attended.",
    BookingStatus.NO_SHOW: "Marked as a no-show.",
    BookingStatus.CANCELLED: "The booking is cancelled and its time is free again.",
    "not_changeable": "That booking can't be changed now (cancelled, or not started yet for attendance).",
}


def _uow(request: Request) -> UnitOfWorkFactory:
    return unit_of_work_factory(request.app.state.settings.database_url)


def _day(value: Optional[str]) -> Optional[date]:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


async def schedule(request: Request, staff: StaffContext) -> Response:
    """The calendar: a day (slots x practitioners) or a week (practitioners x days); today by default."""
    now = datetime.now(timezone.utc)
    week = request.query_params.get("view") == "week"
    uow = _uow(request)
    wanted = _day(request.query_params.get("day"))
    if wanted is None:  # today, on the clinic's clock
        wanted = (await run_in_threadpool(handlers.current_schedule, uow)).local(now).date()
    first = calendar.week_start(wanted) if week else wanted
    step = timedelta(days=7 if week else 1)
    found = await run_in_threadpool(handlers.calendar, uow, first, first + step - timedelta(days=1), now)
    shown = found.bookings + found.upcoming
    index = await fresh_index(request)
    senders = await run_in_threadpool(index.exists, [b.sender_id for b in shown if b.sender_id])
    keys = {b.sender_id: key_of(request, b.sender_id) for b in shown if b.sender_id in senders}
    messages = await run_in_threadpool(handlers.messages_for_bookings, uow,
                                       list({b.reference: None for b in shown}))
    contact: Callable[[str], str] = (lambda c: c) if staff.user.is_admin else mask_contact
    record(request, staff, "view bookings", target=f"{'week' if week else 'day'} {first.isoformat()}",
           detail=f"{len(found.bookings)} bookings, {len(found.upcoming)} upcoming")
    return render(request, "bookings.html", {
        "week": week, "day": wanted, "first": first, "last": first + step - timedelta(days=1),
        "previous": first - step, "next": first + step, "today": found.today,
        "grid": calendar.week_grid(found.schedule, first, found.bookings) if week
        else calendar.day_grid(found.schedule, first, found.bookings),
        "schedule": found.schedule, "works_on": calendar.works_on, "covered": calendar.COVERED,
        "upcoming": found.upcoming, "contact": contact, "count": len(found.bookings),
        "cards": calendar.booking_cards(shown, now, staff.user.is_admin, keys, messages),
        "back": f"{BASE}/bookings?day={wanted.isoformat()}{'&view=week' if week else ''}",
        "booking_notice": NOTICES.get(request.query_params.get("done", "")),
    }, staff=staff)


async def _change(request: Request, staff: StaffContext, action: str) -> Response:
    reference = request.path_params["reference"][:20]
    back = str(request.state.form.get("back") or "")
    back = back if back.startswith(f"{BASE}/bookings") and "//" not in back else f"{BASE}/bookings"
    now = datetime.now(timezone.utc)
    changes: Dict[str, Callable[[UnitOfWorkFactory, str, datetime], BookingView]] = {
        BookingStatus.ATTENDED: handlers.mark_attended, BookingStatus.NO_SHOW: handlers.mark_no_show,
        BookingStatus.CANCELLED: handlers.cancel_by_clinic,
    }
    change = changes[action]
    try:
        await run_in_threadpool(change, _uow(request), reference, now)
    except handlers.BookingNotFound:
        return refuse(request, f"booking {action}", "There is no such booking.", staff.user.username,
                      target=f"booking {reference}", status=404)
    except handlers.BookingNotChangeable:
        record(request, staff, f"booking {action}", target=f"booking {reference}", detail="not changeable")
        return RedirectResponse(_with(back, "done=not_changeable"), status_code=303)
    record(request, staff, f"booking {action}", target=f"booking {reference}")
    return RedirectResponse(_with(back, f"done={action}"), status_code=303)


def _with(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def attended(request: Request, staff: StaffContext) -> Response:
    """The patient came."""
    return await _change(request, staff, BookingStatus.ATTENDED)


async def no_show(request: Request, staff: StaffContext) -> Response:
    """The patient did not come."""
    return await _change(request, staff, BookingStatus.NO_SHOW)


async def cancel(request: Request, staff: StaffContext) -> Response:
    """Admin only: the clinic cancels a booking."""
    return await _change(request, staff, BookingStatus.CANCELLED)


def routes() -> List[BaseRoute]:
    """The bookings pages."""
    return [
        Route("/bookings", protected(schedule), methods=["GET"]),
        Route("/bookings/{reference}/attended", protected(attended), methods=["POST"]),
        Route("/bookings/{reference}/no-show", protected(no_show), methods=["POST"]),
        Route("/bookings/{reference}/cancel", protected(cancel, admin=True), methods=["POST"]),
    ]
