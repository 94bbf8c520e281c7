"""The insights page: the clinic's numbers over the last 30 days, drawn as inline SVG plots."""

from __future__ import annotations

from typing import Dict, List

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from clinic.conversations.insights import Insights
from clinic.web.staff import charts
from clinic.web.staff.pages import actor, console, render
from clinic.web.staff.security import StaffContext, protected


def plots(figures: Insights) -> Dict[str, str]:
    """The page's four plots: conversations a day, triage mix, booking funnel, fallback rate."""
    return {
        "per_day": charts.daily_bars(figures.days, figures.conversations_per_day, "Conversations per day"),
        "mix": charts.category_bars(figures.triage_mix, "Triage outcome"),
        "funnel": charts.funnel(figures.conversations, figures.offered, figures.booked,
                                "Booking conversion"),
        "fallback": charts.daily_rate(figures.days, figures.fallback_rate_per_day,
                                      "Messages not understood (nlu_fallback), % per day"),
    }


async def insights(request: Request, staff: StaffContext) -> Response:
    """The clinic's numbers over the last 30 days, with plots."""
    found = await run_in_threadpool(console(request).insights, actor(request, staff))
    drawn = await run_in_threadpool(plots, found.figures)
    return render(request, "insights.html", {"figures": found.figures, "plots": drawn,
                                             "weakest": found.weakest}, staff=staff)


def routes() -> List[BaseRoute]:
    """The insights page (reviewers and admins)."""
    return [Route("/insights", protected(insights), methods=["GET"])]
