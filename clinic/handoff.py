"""What a patient waiting for a person hears when they write again (the bot is paused).

Pure: a conversation's events are reduced to (kind, name) steps, where kind is "user", "bot", "pause"
or "resume" and name is the bot response's name (utter_action) or the user's intent.

- A red flag is always answered with the doctor advice, whoever is in the conversation: safety first.
- A patient who asked for a person and has heard nothing since is told, once, that their message is with
  the team. After that, or once staff have joined or replied, the bot stays quiet: staff answer.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from clinic.contract import Entity, Intent

ASKED_FOR_A_PERSON = "utter_handoff_waiting"  # what action_handoff says just before it pauses
STILL_WAITING = "utter_handoff_still_waiting"
RED_FLAG_WHILE_WAITING = "utter_red_flag_while_waiting"
RED_FLAG_INTENT = Intent.REPORT_RED_FLAG

Step = Tuple[str, Optional[str]]


def reply_while_waiting(steps: Sequence[Step], red_flag: bool) -> Optional[str]:
    """The response for the latest message of a paused conversation, or None to stay quiet.

    `steps` are the conversation's events in order, the latest message included; `red_flag` tells
    whether that message reports a red flag.
    """
    if red_flag:
        return RED_FLAG_WHILE_WAITING
    pause = max((i for i, (kind, _) in enumerate(steps) if kind == "pause"), default=None)
    if pause is None:
        return None
    if any(kind == "bot" for kind, _ in steps[pause + 1:]):
        return None  # staff have written, or the patient has already been told
    said_before = [name for kind, name in steps[:pause] if kind == "bot"]
    return STILL_WAITING if said_before and said_before[-1] == ASKED_FOR_A_PERSON else None


def reports_red_flag(intent: Optional[str], entities: Iterable[Dict[str, Any]]) -> bool:
    """Whether a parsed message reports a red flag (negated ones never reach the entities)."""
    return intent == RED_FLAG_INTENT or any(e.get("entity") == Entity.RED_FLAG for e in entities)


def paused_at_end(kinds: Iterable[str]) -> bool:
    """Whether a conversation whose events have these kinds ends paused (a new session starts unpaused)."""
    paused = False
    for kind in kinds:
        if kind == "pause":
            paused = True
        elif kind in ("resume", "restart"):
            paused = False
    return paused
