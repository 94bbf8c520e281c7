"""Admin-only pages: the audit log (all of it, or one patient's conversation) and the CSV export."""

from __future__ import annotations

from typing import List

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from clinic.staff.console import MAX_SEARCH
from clinic.web.staff.pages import actor, console, render
from clinic.web.staff.security import StaffContext, protected


async def audit_log(request: Request, staff: StaffContext) -> Response:
    """Admin only: the latest 300 audit entries, or those about one patient's conversation."""
    sender = (request.query_params.get("sender") or "").strip()[:MAX_SEARCH]
    entries = console(request).audit_log(sender, actor(request, staff))
    return render(request, "audit.html", {"entries": entries, "sender": sender}, staff=staff)


async def export_csv(request: Request, staff: StaffContext) -> Response:
    """Admin only: every conversation's summary as CSV (full sender ids)."""
    body = await run_in_threadpool(console(request).export_csv, actor(request, staff))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="conversations.csv"'})


def routes() -> List[BaseRoute]:
    """The audit log and the export (admins only)."""
    return [
        Route("/audit", protected(audit_log, admin=True), methods=["GET"]),
        Route("/export/conversations.csv", protected(export_csv, admin=True), methods=["GET"]),
    ]
