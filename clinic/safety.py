"""Red flags at any turn, urgent that lasts, safety questions inside a description: one decision.

Pure (no Rasa imports). `clinic/dialogue/safety_policy.py` feeds it each turn of every conversation,
whatever form is active, so no rule per form is needed:

- A message that reports a red flag (a `red_flag` entity from the negation-aware reader, or the
  `report_red_flag` intent, which the NLU drops when the reader found the flag negated or
  hypothetical) stops what is going on (the active form is deactivated) and gets the doctor advice.
- Once a conversation is urgent, describing the bump again, answering a triage question, or asking to
  book or move a booking gets "you mentioned a warning sign earlier: please see a doctor first".
- A safety question that also describes a bump ("can I pop these little white spots by my eye?") gets
  its warning, then the triage goes on with what the message said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from clinic import contract, findings
from clinic.contract import Entity, Intent, Slot

RED_FLAG_INTENT = Intent.REPORT_RED_FLAG
RED_FLAG_ADVICE = "utter_red_flag_advice"
URGENT_EARLIER = "utter_urgent_earlier"
DEACTIVATE_LOOP = "action_deactivate_loop"
LISTEN = "action_listen"
TRIAGE_FORM = "triage_form"
URGENT_DAYS = 14  # an urgent conversation stays urgent for this patient this long

# Asked once a conversation is urgent, these get "please see a doctor first" instead.
REPEATS_AFTER_URGENT = frozenset(
    {Intent.DESCRIBE_BUMP, Intent.INFORM, Intent.BOOK_APPOINTMENT, Intent.CHOOSE_TIME}
)
# A safety question answered with its warning before the triage goes on.
SAFETY_WARNINGS: Dict[str, str] = {
    Intent.ASK_SQUEEZE: "utter_squeeze_warning",
    Intent.ASK_SELF_EXTRACT: "utter_self_extract_warning",
}
SCREENING_SLOT = Slot.WARNING_SIGNS
DESCRIBING_ENTITIES = contract.DESCRIBING_ENTITIES


@dataclass(frozen=True)
class Turn:
    """What the policy sees of the conversation at one prediction."""

    intent: Optional[str]
    entities: Sequence[Mapping[str, Any]] = ()
    done: Sequence[str] = ()  # the bot's actions since the patient's latest message, in order
    active_loop: Optional[str] = None
    urgent: bool = False  # the conversation was urgent before this message
    red_flags: Sequence[str] = field(default_factory=tuple)  # known before this message
    asked: Optional[str] = None  # the slot the bot's question was for (`requested_slot`)
    text: str = ""


def red_flags_in(
    intent: Optional[str], entities: Iterable[Mapping[str, Any]], asked: Optional[str] = None, text: str = ""
) -> Optional[List[str]]:
    """The red flags a message reports (possibly none named), or None if it reports none.

    A yes to the screening question ("Yes", "the second one") reports one without naming it.
    """
    named: List[str] = []
    for entity in entities:
        if entity.get("entity") == Entity.RED_FLAG and entity.get("value") and entity["value"] not in named:
            named.append(str(entity["value"]))
    if named or intent == RED_FLAG_INTENT:
        return named
    if asked == SCREENING_SLOT and (
        (text.startswith("/") and intent == Intent.AFFIRM)  # the "Yes" button
        or (not text.startswith("/") and findings.screening_answer(text) == "present")  # words decide
    ):
        return named
    return None


def _describes_bump(entities: Iterable[Mapping[str, Any]]) -> bool:
    return any(entity.get("entity") in DESCRIBING_ENTITIES for entity in entities)


def _sequence(turn: Turn, reply: str, then: str) -> Optional[str]:
    """Deactivate the form (if one is active) -> reply -> `then`; None once it has all run."""
    if not turn.done:
        return DEACTIVATE_LOOP if turn.active_loop and then == LISTEN else reply
    last = turn.done[-1]
    if last == DEACTIVATE_LOOP and reply not in turn.done:
        return reply
    if last == reply:
        return then
    return None


def next_action(turn: Turn) -> Optional[str]:
    """The action safety requires next, or None when other policies decide."""
    if red_flags_in(turn.intent, turn.entities, turn.asked, turn.text) is not None:
        return _sequence(turn, RED_FLAG_ADVICE, LISTEN)
    if turn.urgent and turn.intent in REPEATS_AFTER_URGENT:
        return _sequence(turn, URGENT_EARLIER, LISTEN)
    warning = SAFETY_WARNINGS.get(turn.intent or "")
    describing = (Intent.DESCRIBE_BUMP, Intent.INFORM)
    if warning is None and turn.intent in describing and findings.asks_to_squeeze(turn.text):
        warning = SAFETY_WARNINGS[Intent.ASK_SQUEEZE]  # a description that asks to pop it: warn first
    describes = _describes_bump(turn.entities) or findings.names_a_bump(turn.text)
    if warning and not turn.active_loop and not turn.urgent and describes:
        return _sequence(turn, warning, TRIAGE_FORM)
    return None


def flags_after(turn: Turn) -> List[str]:
    """Every red flag known once this message is read (earlier ones kept)."""
    flags = list(turn.red_flags)
    for flag in red_flags_in(turn.intent, turn.entities, turn.asked, turn.text) or []:
        if flag not in flags:
            flags.append(flag)
    return flags


def still_urgent(urgent_since: Optional[float], now: float, days: int = URGENT_DAYS) -> bool:
    """Whether an urgency recorded at `urgent_since` (epoch seconds) still holds at `now`."""
    return urgent_since is not None and 0 <= now - float(urgent_since) <= days * 86400
