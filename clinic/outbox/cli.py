"""`clinic worker`: send the outbox's due messages (long-running, or `--once` for cron and tests)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `worker` to the `clinic` command."""
    worker = subparsers.add_parser(
        "worker", help="send confirmations, reminders and cancellations (the outbox) when they are due"
    )
    worker.add_argument("--once", action="store_true",
                        help="send everything due now (or at --now), then exit")
    worker.add_argument("--now", metavar="ISO-8601",
                        help="with --once: the instant to send as of, e.g. 2030-06-03T09:00 (no offset: "
                             "the clinic's time zone) or 2030-06-03T08:00+00:00")
    worker.set_defaults(handler=_worker)


def parse_now(text: str, zone_name: str) -> datetime:
    """An aware instant from --now (a naive time is on the clinic's clock); ValueError if unreadable."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone_name))


def _worker(args: argparse.Namespace) -> int:
    from clinic.config import get_settings
    from clinic.db.engine import session_factory
    from clinic.outbox.calendar import Venue
    from clinic.outbox.worker import OutboxWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    clinic = Venue.from_clinic_file()
    now: Optional[datetime] = None
    if args.now:
        if not args.once:
            print("clinic: --now goes with --once (a running worker follows the clock).", file=sys.stderr)
            return 2
        try:
            now = parse_now(args.now, clinic.timezone)
        except ValueError:
            print(f"clinic: --now {args.now!r} is not an ISO 8601 time (e.g. 2030-06-03T09:00).",
                  file=sys.stderr)
            return 2
    from clinic.booking.handlers import expire_waitlist_offers
    from clinic.booking.unit_of_work import unit_of_work_factory

    uow = unit_of_work_factory(settings.database_url)
    worker = OutboxWorker(session_factory(settings.database_url), settings, clinic=clinic,
                          housekeeping=lambda moment: expire_waitlist_offers(uow, moment))
    if args.once:
        report = worker.run_once(now)
        print(f"Outbox: {report}.")
        return 1 if report.counts.get("failed") else 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker.run_forever(stop)
    return 0
