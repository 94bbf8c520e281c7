"""Handoff on a conversation's page: reply to the patient, take over, hand back, clear the warning sign.

Each is a form on the transcript page; the service asks Rasa and audits it, and the page goes back to the
transcript with a notice of what happened ("rasa_down" when Rasa could not be reached).
"""

from __future__ import annotations

from typing import Awaitable, Callable, List

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.staff.console import Actor, StaffConsole
from clinic.web.staff.pages import actor, console, find_sender, no_such_conversation
from clinic.web.staff.security import BASE, StaffContext, protected

Handoff = Callable[[StaffConsole, str, Actor], Awaitable[str]]


async def _on_conversation(request: Request, staff: StaffContext, action: str, handoff: Handoff) -> Response:
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    if sender is None:
        return no_such_conversation(request, staff, action, key)
    notice = await handoff(console(request), sender, actor(request, staff))
    return RedirectResponse(f"{BASE}/conversations/{key}?notice={notice}", status_code=303)


async def reply(request: Request, staff: StaffContext) -> Response:
    """A staff member answers the patient on the patient's own channel."""
    text = str(request.state.form.get("message") or "")
    return await _on_conversation(request, staff, "staff reply",
                                  lambda service, sender, who: service.reply(sender, text, who))


async def take_over(request: Request, staff: StaffContext) -> Response:
    """Pause the bot for this conversation so a person can answer."""
    return await _on_conversation(request, staff, "take over", StaffConsole.take_over)


async def hand_back(request: Request, staff: StaffContext) -> Response:
    """Give the conversation back to the bot."""
    return await _on_conversation(request, staff, "hand back", StaffConsole.hand_back)


async def clear_urgent(request: Request, staff: StaffContext) -> Response:
    """A member of staff who has spoken to the patient clears the warning sign (audited)."""
    return await _on_conversation(request, staff, "clear urgent", StaffConsole.clear_urgent)


def routes() -> List[BaseRoute]:
    """The handoff forms' targets (reviewers and admins)."""
    return [
        Route("/conversations/{key}/reply", protected(reply), methods=["POST"]),
        Route("/conversations/{key}/take-over", protected(take_over), methods=["POST"]),
        Route("/conversations/{key}/hand-back", protected(hand_back), methods=["POST"]),
        Route("/conversations/{key}/clear-urgent", protected(clear_urgent), methods=["POST"]),
    ]
