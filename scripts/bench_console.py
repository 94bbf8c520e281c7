"""`make bench-console`: the staff console at a year of a busy clinic (20,000 conversations).

Seeds a tracker store with CONVERSATIONS conversations made of Rasa's own events (SessionStarted,
UserUttered with parse data, BotUttered with buttons, SlotSet, ActionExecuted, pauses), serialised as Rasa's
SQLTrackerStore stores them, spread over the last 365 days: triage then booking, declined at the summary,
"not now", urgent red flags, knowledge questions, booking without a triage, fallbacks, people waiting for
staff. The bookings they made go into the clinic database's bookings table. Then the conversation index is
built once (timed), the real web app starts under uvicorn, and each page is requested ROUNDS times while
new conversations keep arriving (one new conversation of ~30 events before every request, so every
request's refresh has work to do). Reported: p50/p95 per page, against a 500 ms target.

    make bench-console                                   # SQLite, 20,000 conversations
    BENCH_CONSOLE_POSTGRES=1 make bench-console          # the same on a private PostgreSQL server
    .venv/bin/python scripts/bench_console.py --conversations 2000 --rounds 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.bench import percentile  # noqa: E402

TARGET_MS = 500.0
SECRET = "bench-console-secret"
PASSWORD = "bench console password"
PORT = int(os.environ.get("BENCH_CONSOLE_PORT", "31171"))
YEAR = 365 * 86400


def _events(kind: str, sender: str, start: float, rng: random.Random) -> List[dict]:
    """One conversation of `kind` as Rasa event dicts (what SQLTrackerStore serialises)."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        ConversationPaused,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    clock = [start]

    def tick(seconds: float = 4.0) -> float:
        clock[0] += rng.uniform(1.0, seconds)
        return clock[0]

    def user(text: str, intent: str, confidence: Optional[float] = None, entities=()) -> List:
        confidence = confidence if confidence is not None else rng.uniform(0.6, 0.999)
        ranking = [
            {"name": intent, "confidence": confidence},
            {"name": "inform", "confidence": (1 - confidence) * 0.6},
        ]
        top = {"name": intent, "confidence": confidence}
        if intent == "nlu_fallback":  # the FallbackClassifier: its own intent first, then DIET's guesses
            ranking = [
                {"name": "nlu_fallback", "confidence": 0.45},
                {"name": "describe_bump", "confidence": confidence},
                {"name": "inform", "confidence": 0.1},
            ]
            top = {"name": "nlu_fallback", "confidence": 0.45}
        parse = {"text": text, "intent": top, "intent_ranking": ranking, "entities": list(entities)}
        return [UserUttered(text, parse_data=parse, input_channel=channel, timestamp=tick(30))]

    def bot(name: str, text: str, buttons=()) -> List:
        at = tick()
        return [
            ActionExecuted(name, timestamp=at),
            BotUttered(text, {"buttons": list(buttons)}, metadata={"utter_action": name}, timestamp=at),
        ]

    def listen() -> List:
        return [ActionExecuted("action_listen", timestamp=tick(1))]

    channel = (
        "socketio"
        if sender.startswith("web:")
        else "twilio"
        if sender.startswith(("+", "whatsapp:"))
        else "rest"
    )
    out: List = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
    ]
    out += bot(
        "utter_disclaimer",
        "Hi, I'm Vitawell's assistant. I give general information about small white bumps.",
    )
    out += listen()

    def triage(result: str) -> None:
        nonlocal out
        hard, fluid = {"milia": ("hard", "no"), "pustule": ("soft", "yes"), "uncertain": ("unsure", "no")}[
            result
        ]
        out += user(
            f"I have a {hard} white bump on my cheek",
            "describe_bump",
            entities=[{"entity": "hardness", "value": hard}, {"entity": "location", "value": "cheek"}],
        )
        out += [
            SlotSet("bump_hardness", hard, timestamp=clock[0]),
            SlotSet("bump_location", "cheek", timestamp=clock[0]),
        ]
        out += bot(
            "utter_ask_bump_fluid",
            "Does any fluid or pus come out of it?",
            [
                {"title": "Yes", "payload": '/inform{"fluid": "yes"}'},
                {"title": "No", "payload": '/inform{"fluid": "no"}'},
            ],
        )
        out += listen() + user("no" if fluid == "no" else "yes a bit of pus", "inform")
        out += [SlotSet("bump_fluid", fluid, timestamp=clock[0])]
        out += bot(
            "utter_ask_warning_signs",
            "Before I say more: is any of these happening?",
            [{"title": "No, none of these", "payload": "/deny"}, {"title": "Yes", "payload": "/affirm"}],
        )
        out += listen() + user("/deny", "deny", 1.0) + [SlotSet("warning_signs", "none", timestamp=clock[0])]
        out += [
            ActionExecuted("action_give_assessment", timestamp=tick()),
            SlotSet("triage_result", result, timestamp=clock[0]),
            SlotSet("near_eye", False, timestamp=clock[0]),
        ]
        out += bot(
            "utter_assessment",
            "From what you describe... Would you like to book one?",
            [
                {"title": "Book an extraction", "payload": "/book_appointment"},
                {"title": "Not now", "payload": "/deny"},
            ],
        )
        out += listen()

    def booking(outcome: str) -> None:
        nonlocal out
        out += user("/book_appointment", "book_appointment", 1.0)
        out += [
            ActionExecuted("action_start_booking", timestamp=tick()),
            SlotSet("booking_blocked", False, timestamp=clock[0]),
        ]
        out += bot(
            "action_ask_booking_time",
            "When would you like to come in?",
            [{"title": "Tue 10:00", "payload": '/choose_time{"booking_time": "2027-01-05T10:00"}'}],
        )
        out += listen() + user('/choose_time{"booking_time": "2027-01-05T10:00"}', "choose_time", 1.0)
        out += bot("utter_ask_patient_name", "What name should I book under?") + listen()
        out += user(rng.choice(["Jane Doe", "Sam Patel", "Alex Brown"]), "inform")
        out += [SlotSet("patient_name", "Jane Doe", timestamp=clock[0])]
        out += bot("utter_ask_patient_contact", "And a mobile number or e-mail?") + listen()
        out += user("07700 900123", "inform") + [
            SlotSet("patient_contact", "+447700900123", timestamp=clock[0])
        ]
        out += bot("action_ask_booking_confirmed", "Shall I book it?") + listen()
        out += user(
            "yes please" if outcome == "booked" else "no, not now",
            "affirm" if outcome == "booked" else "deny",
        )
        out += [
            ActionExecuted("action_submit_booking", timestamp=tick()),
            SlotSet("booking_outcome", outcome, timestamp=clock[0]),
        ]
        if outcome == "booked":
            out += [
                SlotSet(
                    "booking_reference",
                    "VW-" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=6)),
                    timestamp=clock[0],
                )
            ]
            out += bot("utter_booking_confirmed", "You're booked in.")
        else:
            out += bot("utter_no_problem", "No problem.")
        out += listen()

    if kind in ("book", "decline"):
        triage(rng.choice(["milia", "milia", "pustule", "uncertain"]))
        booking("booked" if kind == "book" else "declined")
    elif kind == "book_direct":
        booking("booked")
    elif kind == "not_now":
        triage(rng.choice(["milia", "pustule", "uncertain"]))
        out += user("/deny", "deny", 1.0) + bot("utter_no_problem", "No problem.") + listen()
    elif kind == "urgent":
        out += user(
            "it's bleeding and growing fast",
            "report_red_flag",
            entities=[{"entity": "red_flag", "value": "bleeding"}],
        )
        out += [
            SlotSet("red_flags", ["bleeding", "fast_growth"], timestamp=clock[0]),
            SlotSet("triage_result", "urgent", timestamp=clock[0]),
            SlotSet("urgent_since", clock[0], timestamp=clock[0]),
        ]
        out += (
            bot("utter_red_flag_advice", "What you describe can be a warning sign that needs a doctor.")
            + listen()
        )
    elif kind == "question":
        for text, intent in rng.sample(
            [
                ("what are milia?", "ask_what_is_milia"),
                ("can I squeeze it", "ask_squeeze"),
                ("does extraction hurt", "ask_pain"),
                ("do you do facials", "ask_facials"),
            ],
            2,
        ):
            out += user(text, intent) + bot("utter_" + intent.replace("ask_", "answer_"), "...") + listen()
    if kind == "waiting" or rng.random() < 0.05:
        out += user("can I talk to a person", "human_handoff")
        out += [ActionExecuted("action_handoff", timestamp=tick())]
        out += bot("utter_handoff_waiting", "A member of staff will reply to you right here.")
        out += [ConversationPaused(timestamp=clock[0])]
        if kind != "waiting":
            from rasa.shared.core.events import ConversationResumed

            out += (
                [ConversationResumed(timestamp=tick(600))] + bot("utter_handback", "You're back.") + listen()
            )
    for _ in range(rng.choice([0, 0, 0, 1, 2])):  # messages the bot did not understand (material for review)
        text = rng.choice(
            ["its like a grain of rice", "hmm", "wat", "my gran had these", "ok so", "pimple or what"]
        )
        out += user(text, "nlu_fallback", rng.uniform(0.2, 0.44))
        out += bot("utter_default", "Sorry, I didn't quite get that.") + listen()
    return [e.as_dict() | {"type_name": e.type_name} for e in out]


KINDS = [
    ("book", 14),
    ("decline", 6),
    ("book_direct", 4),
    ("not_now", 22),
    ("urgent", 8),
    ("question", 40),
    ("waiting", 1),
    ("fallback_only", 5),
]


def _rows(sender: str, dicts: List[dict]) -> List[dict]:
    rows = []
    for data in dicts:
        type_name = data.pop("type_name")
        rows.append(
            {
                "sender_id": sender,
                "type_name": type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
        )
    return rows


def _sender(i: int, rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        return f"web:{rng.getrandbits(64):016x}.{i:06d}"
    if kind < 0.9:
        return f"+447700{900000 + i:06d}"[:13] + f"{i % 10}"
    return f"whatsapp:+447711{i:06d}"


def seed(tracker_url: str, db_url: str, count: int, rng: random.Random, now: float) -> Dict[str, object]:
    """The tracker store and the bookings table, as a year of the clinic leaves them."""
    from sqlalchemy import insert

    from clinic.booking.handlers import sync_schedule
    from clinic.booking.schedule import load_schedule
    from clinic.booking.unit_of_work import unit_of_work_factory
    from clinic.conversations.store import events, metadata, tracker_engine
    from clinic.db.booking import Booking, Patient, Practitioner, Service
    from clinic.db.engine import session_factory
    from clinic.db.migrate import upgrade

    upgrade(db_url)
    sync_schedule(unit_of_work_factory(db_url), load_schedule(), datetime.now(timezone.utc))
    engine = tracker_engine(tracker_url)
    metadata.create_all(engine)
    started = time.monotonic()
    kinds = [k for k, weight in KINDS for _ in range(weight)]
    batch: List[dict] = []
    booked: List[Tuple[str, float, str]] = []
    total = 0
    senders: List[str] = []
    for i in range(count):
        sender = _sender(i, rng)
        kind = rng.choice(kinds)
        start = now - YEAR + YEAR * i / count + rng.uniform(0, 60)
        if kind == "waiting":
            start = now - rng.uniform(600, 86400)
        batch += _rows(sender, _events("question" if kind == "fallback_only" else kind, sender, start, rng))
        senders.append(sender)
        if kind in ("book", "book_direct"):
            booked.append(
                (sender, start, rng.choice(["booked", "attended", "attended", "no_show", "cancelled"]))
            )
        if len(batch) > 20000:
            with engine.begin() as conn:
                conn.execute(insert(events), batch)
            total += len(batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(events), batch)
        total += len(batch)
    with session_factory(db_url)() as db:
        service = db.query(Service).filter_by(code="extraction").one()
        practitioners = db.query(Practitioner).all()
        for n, (sender, start, status) in enumerate(booked):
            patient = Patient(name="Jane Doe", contact=f"+4477009{n:05d}", contact_kind="phone")
            db.add(patient)
            db.flush()
            when = datetime.fromtimestamp(start, tz=timezone.utc).replace(
                second=0, microsecond=0
            ) + timedelta(days=3, minutes=15 * (n % 4))
            db.add(
                Booking(
                    reference=f"VW-B{n:06d}",
                    service_id=service.id,
                    practitioner_id=practitioners[n % len(practitioners)].id,
                    patient_id=patient.id,
                    starts_at=when,
                    ends_at=when + timedelta(minutes=30),
                    status=status,
                    sender_id=sender,
                    triage_result="milia",
                )
            )
        db.commit()
    notes, tags = seed_notes(db_url, senders, rng, now)
    return {
        "conversations": count,
        "events": total,
        "bookings": len(booked),
        "notes": notes,
        "tags": tags,
        "seconds": round(time.monotonic() - started, 1),
        "senders": senders,
    }


NOTE_TEXTS = [
    "Called back, no answer. Try again tomorrow morning.",
    "Spoke to her: she'll send a photo of the bump by e-mail.",
    "Needs a GP letter before the extraction (near the eye).",
    "Booked by phone after the chat, see the bookings page.",
    "Left a voicemail asking her to ring the clinic.",
    "Asked about prices for three milia; sent the price list.",
]
TAGS = ["called back", "needs GP letter", "photo requested", "voicemail", "follow up", "price query"]


def seed_notes(db_url: str, senders: List[str], rng: random.Random, now: float) -> Tuple[int, int]:
    """Staff's notes and tags on one conversation in ten (a year of a busy front desk)."""
    from sqlalchemy import insert

    from clinic.conversations.models import ConversationNote, ConversationTag, NoteWord
    from clinic.conversations.notes import words
    from clinic.db.engine import session_factory

    notes, tags, note_words = [], [], []
    for n, sender in enumerate(rng.sample(senders, len(senders) // 10)):
        text = rng.choice(NOTE_TEXTS)
        notes.append({"id": n + 1, "sender_id": sender, "text": text, "author": "bench",
                      "created_at": now - rng.uniform(0, YEAR)})
        note_words += [{"note_id": n + 1, "word": w, "sender_id": sender} for w in words(text)]
        for tag in rng.sample(TAGS, rng.randint(1, 2)):
            tags.append({"sender_id": sender, "tag": tag, "added_by": "bench", "added_at": now})
    with session_factory(db_url)() as db:
        for table, rows in ((ConversationNote, notes), (NoteWord, note_words), (ConversationTag, tags)):
            for i in range(0, len(rows), 5000):
                db.execute(insert(table), rows[i:i + 5000])
        db.commit()
    return len(notes), len(tags)


def add_conversation(tracker_url: str, rng: random.Random, i: int) -> None:
    """A new conversation arrives (what the clinic's traffic does between two staff requests)."""
    from sqlalchemy import insert

    from clinic.conversations.store import events, tracker_engine

    sender = f"web:new{i:06d}"
    rows = _rows(
        sender, _events(rng.choice(["book", "not_now", "question", "urgent"]), sender, time.time() - 60, rng)
    )
    with tracker_engine(tracker_url).begin() as conn:
        conn.execute(insert(events), rows)


def measure(args: argparse.Namespace, tracker_url: str, db_url: str, workdir: Path) -> Dict[str, object]:
    """Seed, build the index, start the web app, time each page while conversations keep arriving."""
    from clinic.conversations.index import ConversationIndex
    from clinic.conversations.store import tracker_engine
    from clinic.db.engine import session_factory
    from clinic.privacy import conversation_key
    from clinic.staff.accounts import create_user
    from clinic.testing.servers import RunningWebApp

    rng = random.Random(args.seed)
    now = time.time()
    seeded = seed(tracker_url, db_url, args.conversations, rng, now)
    senders = seeded.pop("senders")
    print(
        f"seeded {seeded['conversations']} conversations, {seeded['events']} events, "
        f"{seeded['bookings']} bookings, {seeded['notes']} notes, {seeded['tags']} tags "
        f"in {seeded['seconds']} s",
        flush=True,
    )
    index = ConversationIndex(tracker_engine(tracker_url), session_factory(db_url), SECRET)
    started = time.monotonic()
    index.refresh()
    built = round(time.monotonic() - started, 1)
    print(f"index built from scratch in {built} s", flush=True)
    with session_factory(db_url)() as db:
        create_user(db, "bench", PASSWORD, "admin")
        db.commit()
    web = RunningWebApp(
        workdir=workdir,
        port=args.port,
        extra_env={
            "DATABASE_URL": db_url,
            "TRACKER_STORE_URL": tracker_url,
            "STAFF_SECRET_KEY": SECRET,
            "RASA_URL": "http://127.0.0.1:9",
            "STAFF_COOKIE_SECURE": "false",
        },
    )
    web.start()
    try:
        client = httpx.Client(base_url=web.url, timeout=60, follow_redirects=True)
        page = client.get("/staff/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(
            "/staff/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
        )
        assert response.url.path == "/staff/conversations", response.text[:500]
        # days with bookings on them (the seeded bookings are spread over the year)
        days = [(datetime.fromtimestamp(now, tz=timezone.utc) - timedelta(days=d)).date().isoformat()
                for d in range(0, 365, 7)]
        pages = {
            "list": lambda: f"/staff/conversations?page={rng.randint(1, 400)}",
            "filtered list": lambda: (
                "/staff/conversations?"
                + rng.choice(
                    [
                        "triage=milia&booked=yes",
                        "flags=yes",
                        "channel=twilio&handoff=no&page=3",
                        "booked=no&triage=pustule&page=2",
                        "q=7700900",
                    ]
                )
            ),
            "tag filter": lambda: (
                "/staff/conversations?"
                + rng.choice(["tag=called+back", "tag=needs+GP+letter&page=2", "tag=voicemail&triage=milia"])
            ),
            "note search": lambda: (
                "/staff/conversations?" + rng.choice(["note=gp+letter", "note=call", "note=photo&page=2",
                                                      "note=voicemail&tag=voicemail"])
            ),
            "transcript": lambda: f"/staff/conversations/{conversation_key(SECRET, rng.choice(senders))}",
            "bookings day": lambda: f"/staff/bookings?day={rng.choice(days)}",
            "bookings week": lambda: f"/staff/bookings?view=week&day={rng.choice(days)}",
            "inbox": lambda: "/staff/inbox",
            "insights": lambda: "/staff/insights",
        }
        results: Dict[str, Dict[str, float]] = {}
        arrived = 0
        for name, path in pages.items():
            client.get(path())  # warm-up (templates, caches)
            timings = []
            for _ in range(args.rounds):
                add_conversation(tracker_url, rng, arrived)
                arrived += 1
                url = path()
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (url, response.status_code, response.text[:300])
            results[name] = {
                "p50_ms": round(percentile(timings, 50), 1),
                "p95_ms": round(percentile(timings, 95), 1),
                "max_ms": round(max(timings), 1),
            }
            print(
                f"{name:14s} p50 {results[name]['p50_ms']:7.1f} ms   p95 {results[name]['p95_ms']:7.1f} ms",
                flush=True,
            )
        return {
            "seed": seeded,
            "index_build_seconds": built,
            "pages": results,
            "new_conversations": arrived,
            "target_ms": TARGET_MS,
            "met": all(r["p95_ms"] < TARGET_MS for r in results.values()),
        }
    finally:
        web.stop()


def main(argv: Optional[List[str]] = None) -> int:
    """Run the bench on SQLite (or PostgreSQL) and write results/bench-console.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--conversations", type=int, default=int(os.environ.get("BENCH_CONSOLE_CONVERSATIONS", "20000"))
    )
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_CONSOLE_ROUNDS", "40")))
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument(
        "--postgres",
        action="store_true",
        default=bool(os.environ.get("BENCH_CONSOLE_POSTGRES")),
        help="a private PostgreSQL server for the tracker store and the clinic database",
    )
    parser.add_argument("--out", default=str(ROOT / "results" / "bench-console.json"))
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-console-")))
        if args.postgres:
            from clinic.testing import postgres

            server = stack.enter_context(postgres.private_server())
            tracker_url = stack.enter_context(postgres.fresh_database(server))
            db_url = stack.enter_context(postgres.fresh_database(server))
            store = "postgresql"
        else:
            tracker_url, db_url = f"sqlite:///{workdir / 'tracker.db'}", f"sqlite:///{workdir / 'clinic.db'}"
            store = "sqlite"
        print(
            f"bench-console on {store}: {args.conversations} conversations, {args.rounds} requests per page",
            flush=True,
        )
        report = measure(args, tracker_url, db_url, workdir)
    report.update(
        store=store, at=datetime.now(timezone.utc).isoformat(timespec="seconds"), load_average=os.getloadavg()
    )
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(
        f"target p95 < {TARGET_MS:.0f} ms on every page: {'met' if report['met'] else 'NOT met'} "
        f"(load average {report['load_average'][0]:.1f}); {args.out}"
    )
    return 0 if report["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
