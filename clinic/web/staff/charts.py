"""Server-rendered plots: small SVG drawn here (inlined in the page: no script, no external file).

Written by hand rather than with matplotlib: four matplotlib figures took over a second per insights page
on the shared machine, these take about a millisecond. Every label is escaped.
"""

from __future__ import annotations

from datetime import date
from typing import List, Mapping, Optional, Sequence, Tuple

from markupsafe import escape

TEAL = "#0f766e"
AMBER = "#b45309"
INK = "#1f2937"
MUTED = "#6b7280"
LINE = "#e5e7eb"
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 30, 34


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def _svg(title: str, body: List[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>"
        f'<text x="4" y="16" font-size="13" fill="{INK}">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def _value_axis(top: float, integer: bool = True, suffix: str = "") -> Tuple[List[str], float]:
    """Horizontal grid lines with their values on the left; returns (elements, axis maximum)."""
    maximum = _nice_max(top)
    inner = HEIGHT - TOP - BOTTOM
    parts = []
    for i in range(5):
        value = maximum * i / 4
        y = HEIGHT - BOTTOM - inner * i / 4
        label = f"{value:.0f}" if integer or value == int(value) else f"{value:.1f}"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{escape(label)}{escape(suffix)}</text>"
        )
    return parts, maximum


def _day_labels(days: Sequence[date]) -> List[str]:
    return [d.strftime("%d %b") if i % 5 == 0 or i == len(days) - 1 else "" for i, d in enumerate(days)]


def _x_labels(days: Sequence[date], slot: float) -> List[str]:
    return [
        f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
        f'fill="{MUTED}">{escape(label)}</text>'
        for i, label in enumerate(_day_labels(days))
        if label
    ]


def daily_bars(days: Sequence[date], values: Sequence[int], title: str) -> str:
    """Bars per day."""
    parts, maximum = _value_axis(max(values, default=0))
    inner_h, inner_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT
    slot = inner_w / max(len(days), 1)
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        height = inner_h * value / maximum
        parts.append(
            f'<rect x="{LEFT + slot * i + slot * 0.15:.1f}" y="{HEIGHT - BOTTOM - height:.1f}" '
            f'width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{TEAL}">'
            f"<title>{escape(day.strftime('%d %b'))}: {value}</title></rect>"
        )
    return _svg(title, parts + _x_labels(days, slot))


def _horizontal(labels: Sequence[str], values: Sequence[int], colours: Sequence[str], title: str) -> str:
    maximum = _nice_max(max(values, default=0))
    label_w = 130
    inner_w = WIDTH - label_w - RIGHT - 40
    row = (HEIGHT - TOP - 10) / max(len(labels), 1)
    parts = []
    for i, (label, value, colour) in enumerate(zip(labels, values, colours, strict=True)):
        y = TOP + row * i
        width = inner_w * value / maximum
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + row * 0.15:.1f}" width="{width:.1f}" height="{row * 0.7:.1f}" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + width + 6:.1f}" y="{y + row / 2 + 4:.1f}" fill="{INK}">{value}</text>'
        )
    return _svg(title, parts)


def category_bars(counts: Mapping[str, int], title: str) -> str:
    """Horizontal bars per category (e.g. triage outcome)."""
    labels = [str(k) for k in counts] or ["none yet"]
    values = [int(v) for v in counts.values()] or [0]
    return _horizontal(labels, values, [TEAL] * len(labels), title)


def funnel(conversations: int, offered: int, booked: int, title: str) -> str:
    """Conversations -> offered a booking -> booked."""
    return _horizontal(
        ["conversations", "offered a booking", "booked"],
        [conversations, offered, booked],
        [TEAL, TEAL, AMBER],
        title,
    )


def daily_rate(days: Sequence[date], rates: Sequence[Optional[float]], title: str) -> str:
    """A percentage per day (days without data are gaps)."""
    parts, _ = _value_axis(100, suffix="%")
    inner_h, inner_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT
    slot = inner_w / max(len(days), 1)
    line: List[str] = []
    for i, (day, rate) in enumerate(zip(days, rates, strict=True)):
        if rate is None:
            if len(line) > 1:
                parts.append(
                    f'<polyline points="{" ".join(line)}" fill="none" stroke="{AMBER}" stroke-width="2"/>'
                )
            line = []
            continue
        x, y = LEFT + slot * (i + 0.5), HEIGHT - BOTTOM - inner_h * min(max(rate, 0.0), 1.0)
        line.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{AMBER}">'
            f"<title>{escape(day.strftime('%d %b'))}: {rate * 100:.0f}%</title></circle>"
        )
    if len(line) > 1:
        parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="{AMBER}" stroke-width="2"/>')
    return _svg(title, parts + _x_labels(days, slot))
