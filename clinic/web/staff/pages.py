"""What every console page shares: the service it calls, who is asking, the layout's values, the notices.

A page parses its request, calls `clinic.staff.console.StaffConsole` (`console(request)`) as `actor(...)`
and renders the result with `render`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from clinic.conversations.index import ConversationIndex
from clinic.conversations.notes import MAX_NOTE
from clinic.masking import mask_contact
from clinic.staff.console import MAX_REPLY, Actor, StaffConsole
from clinic.web.staff.security import BASE, StaffContext, client_ip, refuse

NOTICES = {
    "sent": "Your reply was sent to the patient.",
    "paused": "You have taken over: the bot is paused for this conversation.",
    "resumed": "The conversation is back with the bot.",
    "urgent_cleared": "The warning sign is cleared: the patient can be triaged and booked again.",
    "erased": "The conversation and the patient's personal data were erased.",
    "rasa_down": "The assistant could not be reached, so nothing was sent. Try again in a moment.",
    "empty": "Write a message first.",
    "too_long": f"Replies are limited to {MAX_REPLY} characters (SMS patients get every character).",
    "signed_out": "You have signed out.",
    "note_added": "Your note is saved.",
    "note_deleted": "The note is deleted.",
    "note_empty": "Write the note first.",
    "note_too_long": f"Notes are limited to {MAX_NOTE} characters.",
    "tag_added": "The conversation is tagged.",
    "tag_removed": "The tag is removed.",
    "tag_empty": "Type or choose a tag first.",
}


def console(request: Request) -> StaffConsole:
    """The console's service (built once by `clinic.web.staff.staff_app`)."""
    service: StaffConsole = request.app.state.console
    return service


def actor(request: Request, staff: StaffContext) -> Actor:
    """The signed-in member of staff, as the service audits them."""
    return Actor(username=staff.user.username, is_admin=bool(staff.user.is_admin),
                 client_ip=client_ip(request))


def render(request: Request, name: str, context: Dict[str, Any], status: int = 200,
           staff: Optional[StaffContext] = None) -> Response:
    """A page with the layout's common values; contact details printed masked unless for an admin."""
    notice = NOTICES.get(request.query_params.get("notice", ""))
    values = {"base": BASE, "staff": staff, "notice": notice, **context,
              "reveal_contacts": bool(staff and staff.user.is_admin)}
    response: Response = request.app.state.templates.TemplateResponse(request, name, values,
                                                                      status_code=status)
    return response


def sender_display(staff: StaffContext) -> Callable[[str], str]:
    """Admins see contact details (sender ids are phone numbers on SMS); reviewers see them masked."""
    return (lambda sender: sender) if staff.user.is_admin else mask_contact


def key_of(request: Request, sender_id: str) -> str:
    """The opaque key of a conversation, used in URLs and the audit log."""
    return console(request).key(sender_id)


async def fresh_index(request: Request) -> ConversationIndex:
    """The conversation index, brought up to date with the tracker store (newer events only)."""
    return await run_in_threadpool(console(request).fresh_index)


async def find_sender(request: Request, key: str) -> Optional[str]:
    """The sender behind an opaque key, or None (a guessed or stale URL)."""
    return await run_in_threadpool(console(request).find_sender, key)


def no_such_conversation(request: Request, staff: StaffContext, action: str, key: str) -> Response:
    """The audited 404 of a key that names no conversation."""
    return refuse(request, action, "There is no such conversation.", staff.user.username,
                  target=key[:128], status=404)


def record(request: Request, staff: Optional[StaffContext], action: str, target: Optional[str] = None,
           detail: Optional[str] = None) -> None:
    """An audit entry for something done."""
    console(request).record(action, staff.user.username if staff else None, client_ip(request),
                            target=target, detail=detail)
