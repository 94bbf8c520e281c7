"""`make bench-outbox`: every message of a busy fortnight sent exactly once, by workers racing and dying.

On a private PostgreSQL server (or SQLite with --sqlite), with the local fake of Twilio's REST API and a real
SMTP server (aiosmtpd), `clinic worker --once --now ...` run as processes, like cron:

1. BOOKINGS bookings on the test clinic's schedule (half by mobile, half by e-mail), WAITLIST patients on
   the waitlist; a tenth of the bookings moved and a tenth cancelled (their times offered to the waitlist).
2. A worker is killed (SIGKILL) while Twilio holds its first send, after Twilio accepted it.
3. WORKERS workers at once send the confirmations (the killed worker's claim is still fresh), then again
   once the claim has expired (the message Twilio already has is found in its log, not sent twice).
4. The waitlist offers' hold passes without an answer: the workers pass each to the next patient.
5. For each day with appointments, WORKERS workers at once send the day-before reminders.

Then every outbox row is compared with what arrived: `sent` rows must have arrived exactly once (SMS by
recipient and text, e-mail by Message-ID); rows left queued, sending or failed count as lost.
Results: results/bench-outbox.json.

    make bench-outbox
    .venv/bin/python scripts/bench_outbox.py --sqlite --bookings 40
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from clinic.booking import handlers  # noqa: E402
from clinic.booking.contact import Contact  # noqa: E402
from clinic.booking.unit_of_work import unit_of_work_factory  # noqa: E402
from clinic.db.engine import session_factory  # noqa: E402
from clinic.db.outbox import OutboxMessage  # noqa: E402
from clinic.testing.booking import NOW, TZ, at, prepare_database  # noqa: E402
from clinic.testing.outbox import SmtpServer, clinic_file, start_worker, worker_env  # noqa: E402
from clinic.testing.servers import free_port  # noqa: E402
from clinic.testing.twilio_fake import FakeTwilioServer  # noqa: E402

DAYS = [NOW.date() + timedelta(days=d) for d in (1, 3, 4, 7, 8, 10, 11)]  # Tue..: Wednesday 5th is closed


def book_all(url: str, count: int) -> List[handlers.BookingView]:
    """`count` bookings on DAYS every 30 minutes from 09:00, two practitioners; SMS and e-mail in turn."""
    uow = unit_of_work_factory(url)
    booked: List[handlers.BookingView] = []
    for day in DAYS:
        for minutes in range(0, 8 * 60, 30):
            for _ in range(2):  # Ana, then Ben where he works
                if len(booked) == count:
                    return booked
                i = len(booked)
                contact = Contact("phone", f"+4479111{i:05d}") if i % 2 == 0 else Contact(
                    "email", f"patient{i}@example.com")
                request = handlers.BookingRequest("extraction", at(day, 9) + timedelta(minutes=minutes),
                                                  f"Patient {i}", contact, sender_id=f"bench-{i}")
                try:
                    booked.append(handlers.book(uow, request, NOW))
                except handlers.SlotUnavailable:
                    break
    return booked


def run_workers(env: Dict[str, str], now: str, workers: int) -> List[str]:
    """`workers` processes of `clinic worker --once --now NOW` at once; their outputs."""
    processes = [start_worker(env, now) for _ in range(workers)]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    for process, output in zip(processes, outputs, strict=True):
        if process.returncode not in (0, 1):
            raise RuntimeError(f"a worker failed: {output[-2000:]}")
    return outputs


def main() -> int:
    """Run the fortnight; exit status 1 if anything was sent twice or lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=120)
    parser.add_argument("--waitlist", type=int, default=12)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of a private PostgreSQL server")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench-outbox.json"))
    args = parser.parse_args()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-outbox-")))
        if args.sqlite:
            url, database = f"sqlite:///{tmp / 'clinic.db'}", "sqlite"
        else:
            from clinic.testing.postgres import fresh_database, private_server

            url = stack.enter_context(fresh_database(stack.enter_context(private_server())))
            database = "postgresql"
        prepare_database(url)
        twilio = FakeTwilioServer().start()
        twilio.server.handle_error = lambda *_: None  # the killed worker's broken connection, expected
        stack.callback(twilio.stop)
        smtp = SmtpServer(free_port()).start()
        stack.callback(smtp.stop)
        env = worker_env(url, smtp.url, twilio.url, clinic_file(tmp))
        started = time.monotonic()

        bookings = book_all(url, args.bookings)
        uow = unit_of_work_factory(url)
        for i in range(args.waitlist):
            handlers.join_waitlist(uow, "extraction", 14, f"Waiting {i}",
                                   Contact("phone", f"+4479222{i:05d}"), f"bench-wait-{i}", NOW)
        moved = cancelled = 0
        for i, booking in enumerate(bookings):
            if i % 10 == 3:
                new_start = booking.starts_at + timedelta(days=14)
                try:
                    handlers.reschedule_booking(uow, booking.reference, booking.contact, new_start, NOW)
                    moved += 1
                except handlers.SlotUnavailable:
                    pass
            elif i % 10 == 7:
                handlers.cancel_booking(uow, booking.reference, booking.contact, NOW)
                cancelled += 1

        first_pass = (NOW + timedelta(minutes=2)).isoformat()
        twilio.api.hold()  # the next SMS waits at Twilio: the worker is killed while it waits
        victim = start_worker(env, first_pass)
        if not twilio.api.holding.wait(120):
            raise RuntimeError("the worker never reached Twilio")
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        twilio.api.release(accept=True)  # Twilio had accepted it: the worker died before recording that
        outputs = run_workers(env, first_pass, args.workers)
        outputs += run_workers(env, (NOW + timedelta(minutes=8)).isoformat(), args.workers)  # claim expired
        outputs += run_workers(env, (NOW + timedelta(minutes=45)).isoformat(), args.workers)  # holds over
        with session_factory(url)() as db:
            due = db.execute(select(OutboxMessage.starts_at).where(
                OutboxMessage.kind == "reminder", OutboxMessage.status == "queued")).scalars()
            reminder_days = sorted({start.astimezone(TZ).date() for start in due})
        for day in reminder_days:
            outputs += run_workers(env, at(day - timedelta(days=1), 17).isoformat(), args.workers)
        elapsed = time.monotonic() - started

        with session_factory(url)() as db:
            rows = db.execute(select(OutboxMessage)).scalars().all()
        # Each SMS Twilio accepted has its own SID; a row records the SIDs of its one send. A second send of
        # a row would leave a received message no row accounts for: that is a duplicate.
        sids = collections.Counter(m["sid"] for m in twilio.api.messages)
        email_received = collections.Counter(str(m["Message-ID"]) for m in smtp.messages)
        statuses = collections.Counter(r.status for r in rows)
        kinds = collections.Counter(r.kind for r in rows if r.status == "sent")
        duplicates = lost = 0
        accounted = set()
        for row in rows:
            if row.status in ("queued", "sending", "failed"):
                lost += 1
                continue
            if row.status != "sent":
                continue
            if row.channel == "sms":
                row_sids = (row.provider_id or "").split(",")
                accounted.update(row_sids)
                lost += not all(sids[sid] for sid in row_sids)
            else:
                copies = email_received[row.provider_id]
                lost += copies == 0
                duplicates += max(0, copies - 1)
        duplicates += sum(count for sid, count in sids.items() if sid not in accounted)
        sms_received = sids
        result = {
            "database": database, "bookings": len(bookings), "moved": moved, "cancelled": cancelled,
            "waitlisted": args.waitlist, "workers_at_once": args.workers,
            "worker_processes": len(outputs) + 1,
            "workers_killed_mid_send": 1,
            "outbox_rows": len(rows), "rows_by_status": dict(statuses), "sent_by_kind": dict(kinds),
            "sms_received": sum(sms_received.values()), "emails_received": sum(email_received.values()),
            "duplicates": duplicates, "lost": lost, "seconds": round(elapsed, 1),
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
