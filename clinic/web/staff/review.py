"""The Review page: the messages the bot understood worst, labelled by staff as NLU training data."""

from __future__ import annotations

from typing import List

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clinic.conversations.labels import LabelRepository
from clinic.conversations.summary import PATIENT_NAME_SLOT, parse_data
from clinic.staff.console import page_number
from clinic.web.staff.pages import fresh_index, key_of, record, render
from clinic.web.staff.security import BASE, StaffContext, protected, refuse

SHOW = ("open", "labelled", "all")
NOTICES = {
    "labelled": "Label saved: `clinic nlu export` puts it in the training data.",
    "not_real": "Marked as not a real message: it stays out of the training data.",
    "bad_intent": "Choose the right intent from the list first.",
}


def _labels(request: Request) -> LabelRepository:
    return LabelRepository(request.app.state.db)


async def review(request: Request, staff: StaffContext) -> Response:
    """Fallbacks first, then the lowest confidence; 50 a page; a label form on each."""
    await fresh_index(request)
    params = request.query_params
    asked = params.get("show", "")
    show = asked if asked in SHOW else "open"
    wanted = page_number(params.get("page"))
    items, found, page = await run_in_threadpool(lambda: _labels(request).page(show, wanted))
    record(request, staff, "view review", detail=f"{show}, page {page}, {len(items)} shown")
    return render(
        request,
        "review.html",
        {
            "items": [(item, key_of(request, item.message.sender_id)) for item in items],
            "found": found,
            "page": page,
            "pages": max(1, -(-found // 50)),
            "show": show,
            "shows": SHOW,
            "intents": request.app.state.intents,
            "review_notice": NOTICES.get(params.get("done", "")),
        },
        staff=staff,
    )


def _names(request: Request, sender_id: str) -> List[str]:
    """Names the patient gave in this conversation (replaced by a placeholder in the label's text)."""
    names = []
    for row in request.app.state.conversations.events_for(sender_id):
        if row["type_name"] == "slot":
            data = parse_data(row["data"])
            if data.get("name") == PATIENT_NAME_SLOT and data.get("value"):
                names.append(str(data["value"]))
    return names


async def label(request: Request, staff: StaffContext) -> Response:
    """Save the right intent for a message, or mark it as not a real message (audited)."""
    raw = request.path_params["event_id"]
    event_id = int(raw) if raw.isdigit() and len(raw) < 12 else -1
    labels = _labels(request)
    message = await run_in_threadpool(labels.message, event_id)
    if message is None:
        return refuse(
            request,
            "label message",
            "There is no such message to review.",
            staff.user.username,
            target=f"message {raw[:40]}",
            status=404,
        )
    form = request.state.form
    back = f"{BASE}/review?show={form.get('show') if form.get('show') in SHOW else 'open'}"
    if form.get("verdict") == "not_real":
        intent = None
    else:
        intent = str(form.get("intent") or "")
        if intent not in request.app.state.intents:
            return RedirectResponse(f"{back}&done=bad_intent", status_code=303)
    names = await run_in_threadpool(_names, request, message.sender_id)
    saved = await run_in_threadpool(labels.save, event_id, intent, staff.user.username, names)
    record(
        request,
        staff,
        "label message",
        target=f"message {event_id}",
        detail=f"intent {saved.intent} (was {message.intent} {message.confidence:.2f})"
        if saved.intent
        else "not a real message",
    )
    return RedirectResponse(f"{back}&done={saved.status}", status_code=303)


def routes() -> List[BaseRoute]:
    """The review pages (reviewers and admins)."""
    return [
        Route("/review", protected(review), methods=["GET"]),
        Route("/review/{event_id}/label", protected(label), methods=["POST"]),
    ]
