"""Erasure from the console: an admin erases a conversation and the patient's personal data."""

from __future__ import annotations

from typing import List

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.web.staff.pages import actor, console, find_sender, no_such_conversation
from clinic.web.staff.security import BASE, StaffContext, protected


async def erase(request: Request, staff: StaffContext) -> Response:
    """Admin only: erase a conversation and the patient's personal data, once the form confirms it."""
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    if sender is None:
        return no_such_conversation(request, staff, "erase conversation", key)
    if request.state.form.get("confirm") != "yes":
        return RedirectResponse(f"{BASE}/conversations/{key}", status_code=303)
    console(request).erase(sender, actor(request, staff))
    return RedirectResponse(f"{BASE}/conversations?notice=erased", status_code=303)


def routes() -> List[BaseRoute]:
    """The erase form's target (admins only)."""
    return [Route("/conversations/{key}/erase", protected(erase, admin=True), methods=["POST"])]
