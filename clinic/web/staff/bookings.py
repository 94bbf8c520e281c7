"""Bookings: the day and week schedule, attended / no-show, cancel (through the booking repository)."""

from __future__ import annotations

from typing import List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from clinic.web.staff.security import StaffContext, protected
from clinic.web.staff.views import render


async def schedule(request: Request, staff: StaffContext) -> Response:
    """The schedule (online booking is not part of this clinic's assistant yet)."""
    return render(request, "bookings.html", {"available": False}, staff=staff)


def routes() -> List[BaseRoute]:
    """The bookings pages."""
    return [Route("/bookings", protected(schedule), methods=["GET"])]
