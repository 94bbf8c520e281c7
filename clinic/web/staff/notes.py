"""Notes and tags on a conversation: add and remove them from the conversation page (audited)."""

from __future__ import annotations

from typing import List, Tuple, Union

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.conversations.notes import MAX_NOTE, NotesRepository, clean_tag
from clinic.web.staff.pages import find_sender, no_such_conversation, record
from clinic.web.staff.security import BASE, StaffContext, protected, refuse


def repository(request: Request) -> NotesRepository:
    """The notes and tags in the console's clinic database."""
    return NotesRepository(request.app.state.db)


async def _conversation(
    request: Request, staff: StaffContext, action: str
) -> Union[Response, Tuple[str, str, str]]:
    """(key, sender, back URL), or the refusal of a key that names no conversation."""
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    if sender is None:
        return no_such_conversation(request, staff, action, key)
    return key, sender, f"{BASE}/conversations/{key}"


def _done(back: str, notice: str) -> Response:
    return RedirectResponse(f"{back}?notice={notice}#notes", status_code=303)


async def add_note(request: Request, staff: StaffContext) -> Response:
    """Keep a note on the conversation ("called back: GP letter posted")."""
    found = await _conversation(request, staff, "add note")
    if isinstance(found, Response):
        return found
    key, sender, back = found
    text = str(request.state.form.get("note") or "").strip()
    if not text:
        return _done(back, "note_empty")
    if len(text) > MAX_NOTE:
        return _done(back, "note_too_long")
    note = await run_in_threadpool(repository(request).add_note, sender, text, staff.user.username)
    record(request, staff, "add note", target=key, detail=f"note {note.id}, {len(text)} characters")
    return _done(back, "note_added")


async def delete_note(request: Request, staff: StaffContext) -> Response:
    """Delete a note: its author or an admin."""
    found = await _conversation(request, staff, "delete note")
    if isinstance(found, Response):
        return found
    key, sender, back = found
    raw = request.path_params["note_id"]
    note_id = int(raw) if raw.isdigit() and len(raw) < 12 else -1
    notes = repository(request)
    note = await run_in_threadpool(notes.note, sender, note_id)
    if note is None:
        return refuse(request, "delete note", "There is no such note.", staff.user.username,
                      target=key, status=404)
    if note.author != staff.user.username and not staff.user.is_admin:
        return refuse(request, "delete note", "Only the note's author or an administrator may delete it.",
                      staff.user.username, target=key)
    await run_in_threadpool(notes.delete_note, sender, note_id)
    record(request, staff, "delete note", target=key, detail=f"note {note_id} by {note.author}")
    return _done(back, "note_deleted")


async def add_tag(request: Request, staff: StaffContext) -> Response:
    """Tag the conversation ("called back", "needs GP letter")."""
    found = await _conversation(request, staff, "add tag")
    if isinstance(found, Response):
        return found
    key, sender, back = found
    tag = await run_in_threadpool(repository(request).add_tag, sender,
                                  str(request.state.form.get("tag") or ""), staff.user.username)
    if tag is None:
        return _done(back, "tag_empty")
    record(request, staff, "add tag", target=key, detail=tag)
    return _done(back, "tag_added")


async def remove_tag(request: Request, staff: StaffContext) -> Response:
    """Take a tag off the conversation."""
    found = await _conversation(request, staff, "remove tag")
    if isinstance(found, Response):
        return found
    key, sender, back = found
    tag = clean_tag(str(request.state.form.get("tag") or ""))
    if await run_in_threadpool(repository(request).remove_tag, sender, tag):
        record(request, staff, "remove tag", target=key, detail=tag)
    return _done(back, "tag_removed")


def routes() -> List[BaseRoute]:
    """The notes and tags forms' targets (reviewers and admins)."""
    return [
        Route("/conversations/{key}/notes", protected(add_note), methods=["POST"]),
        Route("/conversations/{key}/notes/{note_id}/delete", protected(delete_note), methods=["POST"]),
        Route("/conversations/{key}/tags", protected(add_tag), methods=["POST"]),
        Route("/conversations/{key}/tags/remove", protected(remove_tag), methods=["POST"]),
    ]
