"""Server-rendered plots (matplotlib, SVG inlined in the page: no script, no external file)."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

TEAL = "#0f766e"
AMBER = "#b45309"
matplotlib.rcParams["svg.hashsalt"] = "vitawell"  # stable ids, comparable output


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)


def _figure(title: str) -> tuple:
    figure = Figure(figsize=(6.4, 2.6), dpi=100)
    axes = figure.subplots()
    axes.set_title(title, fontsize=10, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    return figure, axes


def _day_labels(days: Sequence[date]) -> List[str]:
    return [d.strftime("%d %b") if i % 5 == 0 or i == len(days) - 1 else "" for i, d in enumerate(days)]


def daily_bars(days: Sequence[date], values: Sequence[int], title: str) -> str:
    """Bars per day."""
    figure, axes = _figure(title)
    axes.bar(range(len(days)), values, color=TEAL)
    axes.set_xticks(range(len(days)), _day_labels(days))
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)


def category_bars(counts: dict, title: str) -> str:
    """Horizontal bars per category (e.g. triage outcome)."""
    figure, axes = _figure(title)
    labels = list(counts) or ["none yet"]
    values = list(counts.values()) or [0]
    axes.barh(labels[::-1], values[::-1], color=TEAL)
    axes.xaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)


def funnel(conversations: int, offered: int, booked: int, title: str) -> str:
    """Conversations -> offered a booking -> booked."""
    figure, axes = _figure(title)
    labels = ["conversations", "offered a booking", "booked"]
    axes.barh(labels[::-1], [booked, offered, conversations], color=[AMBER, TEAL, TEAL])
    axes.xaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)


def daily_rate(days: Sequence[date], rates: Sequence[Optional[float]], title: str) -> str:
    """A percentage per day (days without data are gaps)."""
    figure, axes = _figure(title)
    values = [r * 100 if r is not None else float("nan") for r in rates]
    axes.plot(range(len(days)), values, marker="o", markersize=3, color=AMBER)
    axes.set_xticks(range(len(days)), _day_labels(days))
    axes.set_ylim(0, 100)
    axes.set_ylabel("%", fontsize=8)
    return _svg(figure)
