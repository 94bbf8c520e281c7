"""The conversations: the list (filters, search, tags, notes), the inbox of those waiting, one transcript."""

from __future__ import annotations

from typing import List
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from clinic.conversations.notes import MAX_NOTE
from clinic.staff.console import FILTERS, MAX_REPLY, Search
from clinic.web.staff.pages import actor, console, find_sender, no_such_conversation, render, sender_display
from clinic.web.staff.security import StaffContext, protected


async def conversations(request: Request, staff: StaffContext) -> Response:
    """Every conversation, filtered and searched, 50 a page (SQL over the conversation index)."""
    listed = await run_in_threadpool(console(request).conversations, Search.from_params(request.query_params),
                                     actor(request, staff))
    found = listed.found
    return render(request, "conversations.html", {
        "rows": found.rows, "total": found.total, "found": found.found, "page": found.page,
        "pages": found.pages, "filters": listed.filters, "query": listed.query, "channels": listed.channels,
        "choices": FILTERS, "show_sender": sender_display(staff), "tags": listed.tags, "tag": listed.tag,
        "note": listed.note, "row_tags": listed.row_tags, "page_query": urlencode(listed.searched),
    }, staff=staff)


async def inbox(request: Request, staff: StaffContext) -> Response:
    """Conversations waiting for a person (the bot is paused, or a question for the team), longest first.

    A question passed on by the bot (actions/questions.py) is marked as one and shows the patient's words;
    the bot goes on answering in that conversation, and the first staff reply takes it off the list.

    The page refreshes with `<meta http-equiv="refresh">` (the console runs no script), to a URL that
    carries a fingerprint of what it showed (`seen`): the service audits a reload only when what it shows
    has changed.
    """
    waiting = await run_in_threadpool(console(request).inbox, actor(request, staff),
                                      request.query_params.get("seen"))
    return render(request, "inbox.html", {
        "rows": waiting.rows, "show_sender": sender_display(staff), "fingerprint": waiting.fingerprint,
        "refresh_seconds": request.app.state.settings.inbox_refresh_seconds,
    }, staff=staff)


async def conversation(request: Request, staff: StaffContext) -> Response:
    """One transcript as a chat; each view is audited."""
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    found = None if sender is None else await run_in_threadpool(console(request).transcript, sender,
                                                                actor(request, staff))
    if sender is None or found is None:
        return no_such_conversation(request, staff, "view transcript", key)
    return render(request, "transcript.html", {
        "notes": found.notes, "tags": found.tags, "offered_tags": found.offered_tags,
        "max_note": MAX_NOTE,
        "bookings": found.bookings, "contact": sender_display(staff),
        "summary": found.summary, "key": key, "items": found.items,
        "details": request.query_params.get("details") == "1",
        "sender": sender_display(staff)(sender), "max_reply": MAX_REPLY,
    }, staff=staff)


def routes() -> List[BaseRoute]:
    """The conversations list, one conversation, the inbox (reviewers and admins)."""
    return [
        Route("/conversations", protected(conversations), methods=["GET"]),
        Route("/conversations/{key}", protected(conversation), methods=["GET"]),
        Route("/inbox", protected(inbox), methods=["GET"]),
    ]
