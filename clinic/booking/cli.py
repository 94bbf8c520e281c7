"""`clinic bookings ...` and `clinic schedule ...`: the clinic's booking commands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, List

if TYPE_CHECKING:
    from clinic.booking.unit_of_work import UnitOfWorkFactory


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `bookings` and `schedule` to the `clinic` command."""
    bookings = subparsers.add_parser("bookings", help="list, cancel and mark bookings")
    sub = bookings.add_subparsers(dest="bookings_command", required=True)
    listing = sub.add_parser("list", help="a day's (or week's) bookings")
    listing.add_argument("--date", default="today", help="YYYY-MM-DD, today or tomorrow (default: today)")
    listing.add_argument("--week", action="store_true", help="the whole week (Monday to Sunday) of --date")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--active", action="store_true", help="leave out cancelled bookings")
    listing.set_defaults(handler=_list)
    for name, action, text in (
        ("cancel", _cancel, "cancel a booking (the clinic cancels; tell the patient)"),
        ("attended", _attended, "mark a booking as attended"),
        ("no-show", _no_show, "mark a booking as a no-show"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("reference", help="the booking reference, e.g. VW-7KM3QD")
        command.set_defaults(handler=action)

    schedule = subparsers.add_parser("schedule", help="services, opening hours, closed days, practitioners")
    schedule_sub = schedule.add_subparsers(dest="schedule_command", required=True)
    show = schedule_sub.add_parser("show", help="the schedule the assistant books from (the database)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(handler=_show)
    sync = schedule_sub.add_parser("sync", help="load the clinic's schedule file into the database")
    sync.add_argument("--file", help="schedule file (default: CLINIC_SCHEDULE_FILE or config/clinic.yml)")
    sync.set_defaults(handler=_sync)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _uow() -> UnitOfWorkFactory:
    from clinic.booking.unit_of_work import unit_of_work_factory

    return unit_of_work_factory()


def _day(text: str, today: date) -> date:
    words = {"today": today, "tomorrow": today + timedelta(days=1), "yesterday": today - timedelta(days=1)}
    if text.lower() in words:
        return words[text.lower()]
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise SystemExit(f"clinic: --date {text!r} is not a date (YYYY-MM-DD, today or tomorrow)") from error


def _list(args: argparse.Namespace) -> int:
    from clinic.booking import handlers

    uow = _uow()
    schedule = handlers.current_schedule(uow)
    day = _day(args.date, schedule.local(_now()).date())
    fetch = handlers.bookings_in_week if args.week else handlers.bookings_on
    rows = fetch(uow, day, include_cancelled=not args.active)
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False))
        return 0
    span = f"week of {day - timedelta(days=day.weekday()):%a %d %b %Y}" if args.week else f"{day:%a %d %b %Y}"
    if not rows:
        print(f"No bookings on the {span}." if args.week else f"No bookings on {span}.")
        return 0
    print(f"Bookings, {span} ({schedule.timezone_name}):")
    lines: List[List[str]] = [["when", "reference", "status", "service", "practitioner", "patient", "contact",
                               "triage"]]
    for row in rows:
        when = f"{row.starts_at:%a %d %b %H:%M}-{row.ends_at:%H:%M}"
        findings = (row.triage_result, row.bump_hardness, row.bump_fluid, row.bump_location)
        triage = "/".join(v for v in findings if v)
        lines.append([when, row.reference, row.status, row.service_name, row.practitioner, row.patient_name,
                      row.contact, triage or "-"])
    widths = [min(max(len(line[i]) for line in lines), 40) for i in range(len(lines[0]))]
    for line in lines:
        print("  ".join(cell[:40].ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0


def _change(args: argparse.Namespace, operation: str, done: str) -> int:
    from clinic.booking import handlers

    try:
        booking = getattr(handlers, operation)(_uow(), args.reference, _now())
    except handlers.BookingNotFound:
        print(f"No booking with reference {args.reference!r}.", file=sys.stderr)
        return 1
    except handlers.BookingNotChangeable as error:
        b = error.booking
        status = b.status.replace("_", "-")
        print(f"{b.reference} is {status} ({b.starts_at:%a %d %b %Y %H:%M}): not changed.", file=sys.stderr)
        return 1
    print(f"{booking.reference} {done}: {booking.service_name}, {booking.starts_at:%a %d %b %Y %H:%M}, "
          f"{booking.patient_name} ({booking.contact}).")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    return _change(args, "cancel_by_clinic", "cancelled (please let the patient know)")


def _attended(args: argparse.Namespace) -> int:
    return _change(args, "mark_attended", "marked attended")


def _no_show(args: argparse.Namespace) -> int:
    return _change(args, "mark_no_show", "marked no-show")


def _show(args: argparse.Namespace) -> int:
    from clinic.booking import handlers
    from clinic.booking.schedule import WEEKDAYS

    schedule = handlers.current_schedule(_uow())
    if not schedule.services:
        print("No services in the database yet: run `clinic schedule sync`.", file=sys.stderr)
        return 1
    hours = {
        WEEKDAYS[d]: [f"{a:%H:%M}-{b:%H:%M}" for a, b in schedule.hours.get(d, ())] or ["closed"]
        for d in range(7)
    }
    if args.json:
        print(json.dumps({
            "timezone": schedule.timezone_name,
            "slot_minutes": schedule.slot_minutes,
            "min_notice_minutes": schedule.min_notice_minutes,
            "horizon_days": schedule.horizon_days,
            "services": [
                {"code": s.code, "name": s.name, "duration_minutes": s.duration_minutes,
                 "price": schedule.price_text(s),
                 "practitioners": [schedule.practitioners[p].name for p in s.practitioner_ids]}
                for s in schedule.services.values()
            ],
            "opening_hours": hours,
            "closed_days": {d.isoformat(): r for d, r in sorted(schedule.closed_days.items())},
        }, indent=2, ensure_ascii=False))
        return 0
    print(f"Time zone {schedule.timezone_name}; start times every {schedule.slot_minutes} min; "
          f"book online from {schedule.min_notice_minutes} min to {schedule.horizon_days} days ahead.")
    print("\nServices:")
    for s in schedule.services.values():
        staff = ", ".join(schedule.practitioners[p].name for p in s.practitioner_ids) or "nobody"
        price = schedule.price_text(s)
        print(f"  {s.code:<14} {s.name:<32} {s.duration_minutes:>3} min  {price:>8}  by {staff}")
    print("\nOpening hours:")
    for name, ranges in hours.items():
        print(f"  {name.capitalize():<10} {', '.join(ranges)}")
    print("\nPractitioners:")
    for p in schedule.practitioners.values():
        days = ", ".join(WEEKDAYS[d].capitalize()[:3] for d in sorted(p.days)) or "every opening day"
        print(f"  {p.code:<14} {p.name} ({days})")
    print("\nClosed days:")
    for day, reason in sorted(schedule.closed_days.items()):
        print(f"  {day:%a %d %b %Y}  {reason}")
    if not schedule.closed_days:
        print("  none")
    return 0


def _sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from clinic.booking import handlers
    from clinic.booking.schedule import ScheduleFileError, load_schedule, schedule_file

    path = Path(args.file) if args.file else schedule_file()
    try:
        config = load_schedule(path)
    except ScheduleFileError as error:
        print(f"clinic: {error}", file=sys.stderr)
        return 1
    result = handlers.sync_schedule(_uow(), config, _now())
    print(f"Schedule loaded from {path}: {result.services} services, {result.practitioners} practitioners.")
    for warning in result.warnings:
        print(f"  check booking {warning}", file=sys.stderr)
    return 0
