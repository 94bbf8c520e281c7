"""The staff console's pages: sign-in, conversations, transcripts, handoff, insights, audit, export."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
import re
from typing import Callable, Dict, List, Optional
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from clinic.booking.handlers import bookings_for_sender
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.contract import Slot
from clinic.conversations.index import ConversationIndex
from clinic.conversations.insights import TRIAGE_OUTCOMES, compute
from clinic.conversations.notes import MAX_NOTE, SUGGESTED_TAGS, NotesRepository, clean_tag, conditions
from clinic.conversations.summary import transcript
from clinic.privacy import conversation_key, erase_patient, mask_contact
from clinic.rasa_api import RasaUnavailable
from clinic.staff.accounts import (
    audit,
    authenticate,
    end_session,
    normalise_username,
    resolve_session,
    start_session,
)
from clinic.staff.models import AuditEntry
from clinic.staff.throttle import Throttled
from clinic.web.staff import charts
from clinic.web.staff.security import (
    BASE,
    StaffContext,
    anonymous_log,
    clear_session_cookie,
    client_ip,
    cookie_secure,
    known_device,
    login_nonce_matches,
    new_device_id,
    new_login_nonce,
    refuse,
    session_lifetime,
    session_token,
    set_device_cookie,
    set_login_cookie,
    set_session_cookie,
)

PAGE_SIZE = 50
MAX_REPLY = 1000
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


def render(request: Request, name: str, context: Dict, status: int = 200,
           staff: Optional[StaffContext] = None) -> Response:
    """A page with the layout's common values; contact details printed masked unless for an admin."""
    notice = NOTICES.get(request.query_params.get("notice", ""))
    values = {"base": BASE, "staff": staff, "notice": notice, **context,
              "reveal_contacts": bool(staff and staff.user.is_admin)}
    return request.app.state.templates.TemplateResponse(request, name, values, status_code=status)


def sender_display(staff: StaffContext) -> Callable[[str], str]:
    """Admins see contact details (sender ids are phone numbers on SMS); reviewers see them masked."""
    return (lambda sender: sender) if staff.user.is_admin else mask_contact


def key_of(request: Request, sender_id: str) -> str:
    """The opaque key of a conversation, used in URLs and the audit log."""
    return conversation_key(request.app.state.settings.secret_key, sender_id)


# A request reads at most this long of new tracker events into the index; the rest waits for the next.
REFRESH_BUDGET_SECONDS = 2.0


async def fresh_index(request: Request) -> ConversationIndex:
    """The conversation index, brought up to date with the tracker store (newer events only)."""
    index: ConversationIndex = request.app.state.index
    await run_in_threadpool(index.refresh, REFRESH_BUDGET_SECONDS)
    return index


async def find_sender(request: Request, key: str) -> Optional[str]:
    """The sender behind an opaque key, or None (a guessed or stale URL)."""
    index = await fresh_index(request)
    return await run_in_threadpool(index.sender_for_key, key)


def record(request: Request, staff: Optional[StaffContext], action: str, target: Optional[str] = None,
           detail: Optional[str] = None) -> None:
    """An audit entry for something done."""
    with request.app.state.db() as db:
        audit(db, action, username=staff.user.username if staff else None, target=target,
              client_ip=client_ip(request), detail=detail)
        db.commit()


# --- signing in and out ---------------------------------------------------------------------------

def _safe_next(value: Optional[str]) -> str:
    if value and value.startswith(BASE + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{BASE}/conversations"


async def login_page(request: Request) -> Response:
    """The sign-in form (or straight in, when already signed in)."""
    token = session_token(request)
    if token:
        with request.app.state.db() as db:
            if resolve_session(db, token):
                return RedirectResponse(f"{BASE}/conversations", status_code=303)
    return _login_form(request, error=None, status=200)


def _login_form(request: Request, error: Optional[str], status: int, username: str = "",
                headers: Optional[Dict[str, str]] = None) -> Response:
    nonce = new_login_nonce()
    https_needed = cookie_secure(request) and request.url.scheme != "https"
    response = render(request, "login.html", {
        "error": error, "username": username, "next": _safe_next(request.query_params.get("next")),
        "csrf_token": nonce, "https_needed": https_needed,
    }, status=status)
    response.headers.update(headers or {})
    set_login_cookie(request, response, nonce)
    return response


def _wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _busy(request: Request, username: str) -> Response:
    return _login_form(request, "The console is busy signing other people in. Please try again in a moment.",
                       503, username, headers={"Retry-After": "1"})


async def login(request: Request) -> Response:
    """The CSRF token, then the throttle (before any password check), then the password; a session.

    Nothing here writes to the audit log before the password is right: anonymous attempts are counted
    in the throttle and logged within a budget, so they can't flood the audit log.
    """
    form = await request.form()  # bodies are limited by clinic.web.limits.BodySizeLimit
    username = normalise_username(str(form.get("username") or ""))[:64]
    password = str(form.get("password") or "")
    if not login_nonce_matches(request, form.get("csrf_token")):
        return refuse(request, "login",
                      "The sign-in form expired or was forged. Reload the page and try again.")
    if not username or not password:
        return _login_form(request, "Enter your username and password.", 400, username)
    checks = request.app.state.password_checks
    if checks.locked():  # every password check is busy: answer at once rather than queue
        return _busy(request, username)
    ip = client_ip(request)
    throttle = request.app.state.throttle
    device = known_device(request, username)
    keys = throttle.keys(username, ip, device)
    try:
        await run_in_threadpool(throttle.reserve, keys)
    except Throttled as throttled:
        anonymous_log.warning("staff console: sign-in as %r from %s throttled (%s key, %d s)",
                              username, ip, throttled.kind, throttled.retry_after)
        return _login_form(
            request,
            f"Too many failed sign-ins. For this account's safety, signing in from here is paused: "
            f"try again in {_wait(throttled.retry_after)}.",
            429, username, headers={"Retry-After": str(throttled.retry_after)},
        )
    if checks.locked():  # they all became busy meanwhile: this attempt was not checked, so it doesn't count
        await run_in_threadpool(throttle.release, keys)
        return _busy(request, username)

    def check():
        with request.app.state.db() as db:
            user = authenticate(db, username, password)
            if user is None:
                return None
            token, _ = start_session(db, user, session_lifetime(request))
            audit(db, "login", username=user.username, client_ip=ip)
            db.commit()
            return token

    async with checks:
        token = await run_in_threadpool(check)
    if token is None:
        anonymous_log.warning("staff console: wrong password for %r from %s", username, ip)
        return _login_form(request, "Wrong username or password.", 401, username)
    await run_in_threadpool(throttle.succeeded, keys)
    response = RedirectResponse(_safe_next(str(form.get("next") or "")), status_code=303)
    set_session_cookie(request, response, token)
    set_device_cookie(request, response, username, device or new_device_id())
    return response


async def logout(request: Request, staff: StaffContext) -> Response:
    """End the session everywhere it could be used."""
    token = session_token(request)
    with request.app.state.db() as db:
        if token:
            end_session(db, token)
        audit(db, "logout", username=staff.user.username, client_ip=client_ip(request))
        db.commit()
    response = RedirectResponse(f"{BASE}/login?notice=signed_out", status_code=303)
    clear_session_cookie(response)
    return response


async def home(request: Request, staff: StaffContext) -> Response:
    """The console opens on the conversations."""
    return RedirectResponse(f"{BASE}/conversations", status_code=303)


# --- conversations --------------------------------------------------------------------------------

FILTERS = {
    "triage": TRIAGE_OUTCOMES + ("none",),
    "handoff": ("yes", "no"),
    "booked": ("yes", "no"),
    "flags": ("yes", "no"),
    "status": ("paused", "active"),
}


async def conversations(request: Request, staff: StaffContext) -> Response:
    """Every conversation, filtered and searched, 50 a page (SQL over the conversation index)."""
    params = request.query_params
    index = await fresh_index(request)
    channels = await run_in_threadpool(index.channels)
    filters = {name: params[name] for name, allowed in FILTERS.items() if params.get(name) in allowed}
    if params.get("channel") in channels:
        filters["channel"] = params["channel"]
    query = (params.get("q") or "").strip()[:255]
    # Reviewers find a conversation by its full sender id only: a partial search would let them
    # work out phone numbers they are shown masked.
    exact = not staff.user.is_admin
    wanted = int(params["page"]) if params.get("page", "").isdigit() and len(params["page"]) < 7 else 1
    notes = NotesRepository(request.app.state.db)
    tags = await run_in_threadpool(notes.tags_in_use)
    tag = clean_tag(params.get("tag") or "")
    if tag not in {name for name, _ in tags}:
        tag = ""
    note = (params.get("note") or "").strip()[:100]
    found = await run_in_threadpool(lambda: index.page(filters, query, exact, wanted, PAGE_SIZE,
                                                       conditions=conditions(tag, note)))
    row_tags = await run_in_threadpool(notes.tags_for, [summary.sender_id for summary, _ in found.rows])
    if query or note:
        record(request, staff, "search conversations",
               detail=f"{found.found} found{' by their notes' if note else ''}")
    else:
        record(request, staff, "list conversations", detail=f"page {found.page}, {len(found.rows)} shown")
    searched = {**filters, **({"tag": tag} if tag else {}), **({"note": note} if note else {}),
                **({"q": query} if query else {})}
    return render(request, "conversations.html", {
        "rows": found.rows, "total": found.total, "found": found.found, "page": found.page,
        "pages": found.pages, "filters": filters, "query": query, "channels": channels, "choices": FILTERS,
        "show_sender": sender_display(staff), "tags": tags, "tag": tag, "note": note, "row_tags": row_tags,
        "page_query": urlencode(searched),
    }, staff=staff)


def _inbox_fingerprint(request: Request, staff: StaffContext, waiting: List) -> str:
    """What this member of staff is shown: the conversations and how far each has gone (keyed HMAC)."""
    shown = ";".join(f"{key}:{summary.last_event_id}" for summary, key in waiting)
    message = f"inbox|{staff.user.username}|{shown}".encode()
    return hmac.new(request.app.state.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


async def inbox(request: Request, staff: StaffContext) -> Response:
    """Conversations waiting for a person (the bot is paused, or a question for the team), longest first.

    A question passed on by the bot (actions/questions.py) is marked as one and shows the patient's words;
    the bot goes on answering in that conversation, and the first staff reply takes it off the list.

    The page refreshes with `<meta http-equiv="refresh">` (the console runs no script), to a URL that
    carries a fingerprint of what it showed. A reload that would show this member of staff exactly the
    same is not audited again (an inbox left open would otherwise write a row every half minute); any
    change, a new patient waiting or a new message, is.
    """
    index = await fresh_index(request)
    waiting = await run_in_threadpool(index.waiting)
    rows = [(summary, key, summary.team_question or summary.last_message) for summary, key in waiting]
    fingerprint = _inbox_fingerprint(request, staff, waiting)
    if not hmac.compare_digest(request.query_params.get("seen", ""), fingerprint):
        refreshed = " (refreshed)" if "seen" in request.query_params else ""
        record(request, staff, "view inbox", detail=f"{len(rows)} waiting{refreshed}")
    return render(request, "inbox.html", {
        "rows": rows, "show_sender": sender_display(staff), "fingerprint": fingerprint,
        "refresh_seconds": request.app.state.settings.inbox_refresh_seconds,
    }, staff=staff)


async def conversation(request: Request, staff: StaffContext) -> Response:
    """One transcript as a chat; each view is audited."""
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    if sender is None:
        return refuse(request, "view transcript", "There is no such conversation.", staff.user.username,
                      target=key[:128], status=404)
    repo = request.app.state.conversations
    summary = await run_in_threadpool(request.app.state.index.summary, sender)
    items = await run_in_threadpool(lambda: transcript(repo.events_for(sender)))
    if summary is None or not items:
        return refuse(request, "view transcript", "There is no such conversation.", staff.user.username,
                      target=key, status=404)
    bookings = await run_in_threadpool(
        bookings_for_sender, unit_of_work_factory(request.app.state.settings.database_url), sender
    )
    notes = NotesRepository(request.app.state.db)
    kept = await run_in_threadpool(notes.notes, sender)
    tags = await run_in_threadpool(notes.tags, sender)
    in_use = await run_in_threadpool(notes.tags_in_use)
    offered = list(dict.fromkeys([name for name, _ in in_use] + list(SUGGESTED_TAGS)))
    record(request, staff, "view transcript", target=key)
    return render(request, "transcript.html", {
        "notes": kept, "tags": tags, "offered_tags": [t for t in offered if t not in tags],
        "max_note": MAX_NOTE,
        "bookings": bookings, "contact": sender_display(staff),
        "summary": summary, "key": key, "items": items,
        "details": request.query_params.get("details") == "1",
        "sender": sender_display(staff)(sender), "max_reply": MAX_REPLY,
    }, staff=staff)


async def _conversation_action(request: Request, staff: StaffContext, action: str) -> Response:
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    if sender is None:
        return refuse(request, action, "There is no such conversation.", staff.user.username,
                      target=key[:128], status=404)
    back = f"{BASE}/conversations/{key}"
    rasa = request.app.state.rasa
    try:
        if action == "staff reply":
            text = str(request.state.form.get("message") or "").strip()
            if not text:
                return RedirectResponse(f"{back}?notice=empty", status_code=303)
            if len(text) > MAX_REPLY:
                return RedirectResponse(f"{back}?notice=too_long", status_code=303)
            await rasa.send_staff_reply(sender, text, staff.user.username)
            notice = "sent"
        elif action == "take over":
            await rasa.pause(sender)
            notice = "paused"
        elif action == "clear urgent":
            await rasa.append_events(sender, URGENT_CLEARED)
            notice = "urgent_cleared"
        else:
            await rasa.resume(sender)
            notice = "resumed"
    except RasaUnavailable as error:
        record(request, staff, action, target=key, detail=f"failed: {error}")
        return RedirectResponse(f"{back}?notice=rasa_down", status_code=303)
    record(request, staff, action, target=key)
    return RedirectResponse(f"{back}?notice={notice}", status_code=303)


async def reply(request: Request, staff: StaffContext) -> Response:
    """A staff member answers the patient on the patient's own channel."""
    return await _conversation_action(request, staff, "staff reply")


async def take_over(request: Request, staff: StaffContext) -> Response:
    """Pause the bot for this conversation so a person can answer."""
    return await _conversation_action(request, staff, "take over")


# What clearing an urgent conversation resets (clinic/safety.py keeps it urgent 14 days otherwise).
URGENT_CLEARED = [
    {"event": "slot", "name": name.value, "value": None}
    for name in (Slot.TRIAGE_RESULT, Slot.RED_FLAGS, Slot.URGENT_SINCE, Slot.WARNING_SIGNS)
]


async def clear_urgent(request: Request, staff: StaffContext) -> Response:
    """A member of staff who has spoken to the patient clears the warning sign (audited)."""
    return await _conversation_action(request, staff, "clear urgent")


async def hand_back(request: Request, staff: StaffContext) -> Response:
    """Give the conversation back to the bot."""
    return await _conversation_action(request, staff, "hand back")


async def erase(request: Request, staff: StaffContext) -> Response:
    """Admin only: erase a conversation and the patient's personal data (e.g. a request by phone)."""
    key = request.path_params["key"]
    sender = await find_sender(request, key)
    if sender is None:
        return refuse(request, "erase conversation", "There is no such conversation.", staff.user.username,
                      target=key[:128], status=404)
    if request.state.form.get("confirm") != "yes":
        return RedirectResponse(f"{BASE}/conversations/{key}", status_code=303)
    with request.app.state.db() as db:
        erased = erase_patient(request.app.state.conversations.engine, db, sender)
    record(request, staff, "erase conversation", target=key,
           detail=f"{erased['events']} events, {erased['personal_records']} personal records")
    return RedirectResponse(f"{BASE}/conversations?notice=erased", status_code=303)


# --- insights, audit, export ----------------------------------------------------------------------

async def insights(request: Request, staff: StaffContext) -> Response:
    """The clinic's numbers over the last 30 days, with plots."""
    index = await fresh_index(request)
    figures = await run_in_threadpool(compute, index)
    plots = await run_in_threadpool(lambda: {
        "per_day": charts.daily_bars(figures.days, figures.conversations_per_day, "Conversations per day"),
        "mix": charts.category_bars(figures.triage_mix, "Triage outcome"),
        "funnel": charts.funnel(figures.conversations, figures.offered, figures.booked,
                                "Booking conversion"),
        "fallback": charts.daily_rate(figures.days, figures.fallback_rate_per_day,
                                      "Messages not understood (nlu_fallback), % per day"),
    })
    weakest = [(w, key_of(request, w.sender_id)) for w in figures.weakest]
    record(request, staff, "view insights", detail=f"{len(weakest)} messages shown")
    return render(request, "insights.html", {"figures": figures, "plots": plots, "weakest": weakest},
                  staff=staff)


async def audit_log(request: Request, staff: StaffContext) -> Response:
    """Admin only: the latest 300 audit entries, or those about one patient's conversation."""
    sender = (request.query_params.get("sender") or "").strip()[:255]
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
    if sender:
        query = query.where(AuditEntry.target == key_of(request, sender))
    with request.app.state.db() as db:
        entries: List[AuditEntry] = list(db.scalars(query))
    record(request, staff, "view audit log", target=key_of(request, sender) if sender else None)
    return render(request, "audit.html", {"entries": entries, "sender": sender}, staff=staff)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"\+?\d+", text):
        return "'" + text
    return text


async def export_csv(request: Request, staff: StaffContext) -> Response:
    """Admin only: every conversation's summary as CSV (full sender ids)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["sender_id", "channel", "started", "last_active", "messages", "triage_result",
                     "red_flags", "booked", "booking_status", "handoff_requested", "waiting_for_person",
                     "fallbacks"])
    index = await fresh_index(request)
    summaries = await run_in_threadpool(index.all_rows)
    for s in summaries:
        writer.writerow([_cell(v) for v in (
            s.sender_id, s.channel, s.started.isoformat() if s.started else "",
            s.last_active.isoformat() if s.last_active else "", s.messages, s.triage_result or "",
            " ".join(s.red_flags), "yes" if s.booked else "no", s.booking_status,
            "yes" if s.handoff_requested else "no",
            "yes" if s.paused else "no", s.fallbacks,
        )])
    record(request, staff, "export conversations", detail=f"{len(summaries)} rows")
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="conversations.csv"'})
