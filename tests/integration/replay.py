"""Replay the independently written conversations end to end through the REST channel.

    python -m tests.integration.replay [--results results] [--concurrency 4] [FILE ...]

Each `tests/independent/<set>/conversations.yml` (format: written by helpers who never saw `data/`) holds
whole conversations: an opening, then the patient's answers to each question the assistant may ask. The
replayer sends the opening, then reads the tracker through Rasa's HTTP API after every bot turn: the
question pending is the `requested_slot` (outside a form: the turn's last `utter_ask_<slot>`), answered
with the conversation's first text for it the first time it is asked, the second text the second time,
the last text from then on. It stops when `triage_result` is set, when the conversation is handed to a
person (an `utter_handoff_*` response or a paused tracker), when no question of the triage is pending, or
after 15 bot turns.

Without FILE it replays every set. As a script it starts its own servers (as the integration tests do),
writes `results/conversations.json` and prints the summary; `make eval` runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
INDEPENDENT = ROOT / "tests" / "independent"
RESULTS = ROOT / "results" / "conversations.json"
MAX_BOT_TURNS = 15
CONCURRENCY = 4
TARGET_ACCURACY = 0.9
URGENT = "urgent"
# The question the form is asking (`requested_slot`) -> which of the conversation's messages answers it.
ANSWER_FOR_SLOT = {
    "bump_hardness": "hardness",
    "bump_fluid": "fluid",
    "bump_location": "location",
    "warning_signs": "warning_signs",
}
# When a conversation has no text for a question the bot asks (the writer expected the opening to answer
# it), the patient says the fact plainly; each such answer is recorded on the outcome.
PLAIN_ANSWERS = {
    "hardness": {"hard": "it's hard", "soft": "it's soft", "unsure": "not sure"},
    "fluid": {"yes": "yes there's pus", "no": "no fluid", "unsure": "not sure"},
    "location": {
        "eye_area": "near my eye", "nose": "on my nose", "cheek": "on my cheek", "forehead": "on my forehead",
        "chin": "on my chin", "lip_mouth": "by my lip", "neck": "on my neck", "body": "on my arm",
        "other": "on my ear",
    },
}
HANDOFF_PREFIX = "utter_handoff_"
# An opening that leaves no question pending (a greeting, a question answered, a fallback): the patient
# then says, once, that they have a bump, with no fact in it; the writer's own texts answer the rest.
PLAIN_DESCRIPTION = "I have a small white bump"
ASK_PREFIX = "utter_ask_"


class Assistant(Protocol):
    """What the replayer needs of the running servers (clinic.testing.servers.RunningAssistant)."""

    def say(self, sender: str, text: str, timeout: float = 30) -> List[Dict[str, Any]]:
        """Send one message through the REST channel."""

    def tracker(self, sender: str) -> Dict[str, Any]:
        """The conversation's tracker through the HTTP API."""


@dataclass
class Conversation:
    """One written conversation: the truth about the bump and what the patient says."""

    set: str
    id: str
    expected: str
    opening: str
    answers: Dict[str, List[str]]
    facts: Dict[str, Any] = field(default_factory=dict)
    channel: str = ""
    note: str = ""

    def answer(self, key: str, times_asked: int) -> Tuple[str, bool]:
        """The patient's answer the n-th time (1-based) a question is asked; True if taken from the facts."""
        texts = self.answers.get(key) or []
        if texts:
            return texts[min(times_asked, len(texts)) - 1], False
        if key == "warning_signs":
            return ("yes" if self.facts.get("red_flags") else "no, none of these"), True
        return PLAIN_ANSWERS.get(key, {}).get(str(self.facts.get(key)), "not sure"), True


@dataclass
class Turn:
    """The patient's message and the bot's reply to it, as the tracker recorded them."""

    patient: str
    responses: List[str]
    texts: List[str]
    requested_slot: Optional[str]


@dataclass
class Outcome:
    """How one replayed conversation ended."""

    set: str
    id: str
    sender: str
    expected: str
    triage_result: Optional[str]
    to_person: bool
    stopped: str  # result | person | no question | turn limit | error
    turns: int
    responses: List[str]
    loop: Optional[str]  # what was asked three bot turns in a row, if anything
    answered_from_facts: List[str]
    transcript: List[Turn]
    seconds: float
    error: Optional[str] = None

    @property
    def correct(self) -> bool:
        """The triage result is the one the conversation's facts call for."""
        return self.triage_result == self.expected

    @property
    def resolved(self) -> bool:
        """The conversation reached a triage result or a person."""
        return self.triage_result is not None or self.to_person


def conversation_files(root: Path = INDEPENDENT) -> List[Path]:
    """Every independent set's conversations, `tests/independent/<set>/conversations.yml`."""
    return sorted(root.glob("*/conversations.yml"))


def _texts(value: Any) -> List[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def load_conversations(path: Path) -> List[Conversation]:
    """The conversations of one set (named by its folder)."""
    data = yaml.safe_load(path.read_text()) or {}
    conversations = []
    for raw in data.get("conversations") or []:
        messages = dict(raw.get("messages") or {})
        conversations.append(
            Conversation(
                set=path.parent.name,
                id=str(raw["id"]),
                expected=str(raw["expected"]),
                opening=str(messages.pop("opening")),
                answers={key: _texts(value) for key, value in messages.items()},
                facts=dict(raw.get("facts") or {}),
                channel=str(raw.get("channel") or ""),
                note=str(raw.get("note") or ""),
            )
        )
    return conversations


def load_all(paths: Optional[Sequence[Path]] = None) -> List[Conversation]:
    """The conversations of the given files, or of every independent set."""
    return [c for path in (paths or conversation_files()) for c in load_conversations(path)]


def _asked(turn: Turn) -> set:
    """What a bot turn asked or said: its utter_ask_* responses and its texts."""
    return {r for r in turn.responses if r.startswith(ASK_PREFIX)} | {f"text: {t}" for t in turn.texts if t}


def three_in_a_row(turns: Sequence[Turn]) -> Optional[str]:
    """The first question (the same utter_ask_* response, or the same text) in three bot turns in a row."""
    for first in range(len(turns) - 2):
        repeated = _asked(turns[first]) & _asked(turns[first + 1]) & _asked(turns[first + 2])
        if repeated:
            return sorted(repeated)[0]
    return None


def pending_question(turn: Turn) -> Optional[str]:
    """The slot the bot is asking for: the form's `requested_slot`, else the turn's last utter_ask_<slot>."""
    if turn.requested_slot in ANSWER_FOR_SLOT:
        return turn.requested_slot
    asks = [r[len(ASK_PREFIX):] for r in turn.responses if r.startswith(ASK_PREFIX)]
    return asks[-1] if asks and asks[-1] in ANSWER_FOR_SLOT and turn.requested_slot is None else None


def _bot_turn(patient: str, new_events: List[Dict[str, Any]], tracker: Dict[str, Any]) -> Turn:
    bot = [e for e in new_events if e.get("event") == "bot"]
    return Turn(
        patient=patient,
        responses=[(e.get("metadata") or {}).get("utter_action") or "(text)" for e in bot],
        texts=[e.get("text") or "" for e in bot],
        requested_slot=(tracker.get("slots") or {}).get("requested_slot"),
    )


def replay(assistant: Assistant, conversation: Conversation, run: str) -> Outcome:
    """Have the conversation with the running assistant, answering what it asks."""
    sender = f"indep-{conversation.set}-{conversation.id}-{run}"
    started = time.monotonic()
    turns: List[Turn] = []
    asked: Dict[str, int] = {}
    from_facts: List[str] = []
    seen = 0
    message: Optional[str] = conversation.opening
    described = False
    stopped, error = "turn limit", None
    tracker: Dict[str, Any] = {}
    try:
        while message is not None and len(turns) < MAX_BOT_TURNS:
            assistant.say(sender, message)
            tracker = assistant.tracker(sender)
            events = tracker.get("events") or []
            turns.append(_bot_turn(message, events[seen:], tracker))
            paused = bool(tracker.get("paused")) or any(e.get("event") == "pause" for e in events[seen:])
            seen = len(events)
            message = None
            slot = pending_question(turns[-1])
            if (tracker.get("slots") or {}).get("triage_result") is not None:
                stopped = "result"
            elif paused or any(r.startswith(HANDOFF_PREFIX) for r in turns[-1].responses):
                stopped = "person"
            elif slot is None and not described and len(turns) == 1:
                described = True
                message = PLAIN_DESCRIPTION
                from_facts.append(f"described: {message}")
            elif slot is None:
                stopped = "no question"
            else:
                key = ANSWER_FOR_SLOT[slot]
                asked[key] = asked.get(key, 0) + 1
                message, plain = conversation.answer(key, asked[key])
                if plain:
                    from_facts.append(f"{key}: {message}")
                stopped = "turn limit"
    except Exception as exc:  # noqa: BLE001 - a transport error is recorded on the outcome, not raised
        stopped, error = "error", f"{type(exc).__name__}: {exc}"
    slots = tracker.get("slots") or {}
    return Outcome(
        set=conversation.set,
        id=conversation.id,
        sender=sender,
        expected=conversation.expected,
        triage_result=slots.get("triage_result"),
        to_person=stopped == "person",
        stopped=stopped,
        turns=len(turns),
        responses=[r for t in turns for r in t.responses],
        loop=three_in_a_row(turns),
        answered_from_facts=from_facts,
        transcript=turns,
        seconds=round(time.monotonic() - started, 2),
        error=error,
    )


class Replayed(List[Outcome]):
    """The outcomes of one run, in the conversations' order (short repr: pytest prints fixture values)."""

    def __repr__(self) -> str:
        return f"<{len(self)} replayed conversations, see {RESULTS.relative_to(ROOT)}>"

    @property
    def accuracy(self) -> float:
        """Share of conversations whose triage result is the expected one."""
        return sum(o.correct for o in self) / len(self) if self else 0.0


def replay_all(
    assistant: Assistant, conversations: Sequence[Conversation], concurrency: int = CONCURRENCY
) -> Replayed:
    """Replay every conversation, a few at once (each under its own new sender id), in their order."""
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return Replayed(pool.map(lambda c: replay(assistant, c, run), conversations))


def _ratio(hits: int, total: int) -> Optional[float]:
    return round(hits / total, 3) if total else None


def summarise(outcomes: Sequence[Outcome]) -> Dict[str, Dict[str, Any]]:
    """Per set, then all sets together: urgent recall, accuracy, loops, unresolved, people."""
    groups: Dict[str, List[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.set, []).append(outcome)
    if len(groups) > 1:
        groups["all"] = list(outcomes)
    summary = {}
    for name, group in groups.items():
        urgent = [o for o in group if o.expected == URGENT]
        summary[name] = {
            "conversations": len(group),
            "urgent": len(urgent),
            "urgent_recall": _ratio(sum(o.triage_result == URGENT for o in urgent), len(urgent)),
            "accuracy": _ratio(sum(o.correct for o in group), len(group)),
            "loops": sum(o.loop is not None for o in group),
            "unresolved": sum(not o.resolved for o in group),
            "to_a_person": sum(o.to_person for o in group),
            "errors": sum(o.error is not None for o in group),
            "mean_turns": _ratio(sum(o.turns for o in group), len(group)),
        }
    return summary


def summary_table(outcomes: Sequence[Outcome]) -> str:
    """The printed summary: one row per set (and all together)."""
    columns = ["set", "conversations", "urgent recall", "accuracy", "loops", "unresolved", "to a person",
               "errors", "mean turns"]
    keys = ["conversations", "urgent_recall", "accuracy", "loops", "unresolved", "to_a_person", "errors",
            "mean_turns"]
    rows = [[name, *("n/a" if figures[k] is None else str(figures[k]) for k in keys)]
            for name, figures in summarise(outcomes).items()]
    for row, figures in zip(rows, summarise(outcomes).values(), strict=True):
        row[2] += f" ({figures['urgent']})"
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    return "\n".join([
        "Independent conversations replayed through REST (urgent recall: of the (n) urgent ones; loops: a",
        "question asked three bot turns in a row; unresolved: neither a triage result nor a person)",
        line(columns), "-" * len(line(columns)), *(line(r) for r in rows),
        f"targets: urgent recall 1.0, accuracy >= {TARGET_ACCURACY}, loops 0, unresolved 0",
    ])


def describe(outcome: Outcome) -> str:
    """One line per failing conversation, for failure messages."""
    extra = f"; error {outcome.error}" if outcome.error else ""
    extra += f"; loop on {outcome.loop}" if outcome.loop else ""
    return (f"{outcome.set}/{outcome.id}: expected {outcome.expected}, got {outcome.triage_result} "
            f"(stopped: {outcome.stopped}, {outcome.turns} turns{extra}); bot: {' '.join(outcome.responses)}")


def write_results(outcomes: Sequence[Outcome], path: Path = RESULTS) -> None:
    """results/conversations.json: the summary, then every conversation with its transcript."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "summary": summarise(outcomes),
        "conversations": [{**asdict(o), "correct": o.correct, "resolved": o.resolved} for o in outcomes],
    }, indent=2))


def main(argv: Optional[List[str]] = None) -> int:
    """Start the servers, replay every set, write the results and print the summary."""
    from clinic.testing.servers import RunningAssistant

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="conversations.yml files (default: every set)")
    parser.add_argument("--results", type=Path, default=RESULTS.parent)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args(argv)
    conversations = load_all(args.files)
    if not conversations:
        print(f"no conversations to replay (none in {INDEPENDENT}/*/conversations.yml)")
        return 0
    with tempfile.TemporaryDirectory(prefix="replay-") as workdir:
        assistant = RunningAssistant(workdir=Path(workdir)).start()
        try:
            started = time.monotonic()
            outcomes = replay_all(assistant, conversations, args.concurrency)
            seconds = time.monotonic() - started
        finally:
            assistant.stop()
    write_results(outcomes, args.results / "conversations.json")
    print(summary_table(outcomes))
    print(f"{len(outcomes)} conversations in {seconds:.0f} s, {args.concurrency} at once; details in "
          f"{args.results / 'conversations.json'}")
    for outcome in outcomes:
        if not outcome.correct or outcome.loop or not outcome.resolved:
            print("  " + describe(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
