"""Rasa's message processor, hardened: no failed part leaves a patient without an answer.

- Any action that fails (action server down or timing out, clinic database down behind it) is replaced
  by `utter_service_unavailable` and the bot listens again; the session start falls back to Rasa's own
  session start plus the disclaimer. Answers that need no custom action are unaffected.
- A form that fails while it is active first rejects its turn, as a form does when its question was not
  answered: the rules for questions asked during the form (safety warnings, red flags, knowledge) answer
  them. If no rule does, or the form fails again in that turn, the patient gets `utter_service_unavailable`.
- Anything else that fails while handling a message (tracker store down, ...) gets the same answer.
- Empty and overlong messages get a clear reply and are not processed or stored.
- Typed "/intent{...}" payloads count only when the bot offered that button in this conversation;
  otherwise they are read as a message the bot did not understand (no intent, no slots).
- Each conversation may send a limited number of messages per time window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from rasa.core.actions.action import (
    Action,
    ActionBotResponse,
    ActionExecutionRejection,
    ActionSessionStart,
    create_bot_utterance,
)
from rasa.core.actions.loops import LoopAction
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.constants import (
    ACTION_DEFAULT_FALLBACK_NAME,
    ACTION_LISTEN_NAME,
    ACTION_SESSION_START_NAME,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import handoff
from clinic.config import get_settings
from clinic.hardening import input_guard
from clinic.hardening.ratelimit import AnyRateLimiter, rate_limiter
from clinic.rasa_adapter.processor import HookedMessageProcessor

logger = logging.getLogger(__name__)

SERVICE_UNAVAILABLE = "utter_service_unavailable"
SLOW_DOWN = "utter_slow_down"
# What the custom session start says; said by the fallback session start too.
SESSION_START_RESPONSE = "utter_disclaimer"
NOT_UNDERSTOOD_INTENT = "nlu_fallback"


class FaultTolerantAction:
    """Runs an action; if it fails, says the part is unavailable (never silence) and listens."""

    def __init__(self, action: Action, timeout: float, faulted_turns: FaultedTurns) -> None:
        self._action = action
        self._timeout = timeout
        self._faulted_turns = faulted_turns

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    def name(self) -> str:
        """The wrapped action's name."""
        return self._action.name()

    def __str__(self) -> str:
        return str(self._action)

    async def run(
        self,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> List[Event]:
        """Run the action within the time limit, or fall back."""
        if self.name() == ACTION_DEFAULT_FALLBACK_NAME and self._faulted_turns.contains(tracker):
            # No rule answered the turn a form failed in: it's the failure, not the patient's words.
            return await fallback_events(self.name(), output_channel, nlg, tracker, domain)
        try:
            return await asyncio.wait_for(
                self._action.run(output_channel, nlg, tracker, domain), timeout=self._timeout
            )
        except ActionExecutionRejection:
            raise
        except Exception as error:  # noqa: BLE001 - every failure gets the same safe answer
            logger.error(
                "Action '%s' failed (%s: %s); the patient is told to call the clinic.",
                self.name(), type(error).__name__, error,
            )
            if self._should_reject(tracker):
                self._faulted_turns.add(tracker)
                raise ActionExecutionRejection(self.name(), "failed; rules may answer the turn") from error
            return await fallback_events(self.name(), output_channel, nlg, tracker, domain)

    def _should_reject(self, tracker: DialogueStateTracker) -> bool:
        """An active form's first failure in this turn lets the interruption rules answer."""
        if not isinstance(self._action, LoopAction) or tracker.active_loop_name != self.name():
            return False
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                return True
            if isinstance(event, ActionExecutionRejected) and event.action_name == self.name():
                return False
        return True


class FaultedTurns:
    """Turns (conversation, message) in which a form failed, remembered for the rest of the turn."""

    def __init__(self, size: int = 10_000) -> None:
        self._turns: OrderedDict[Tuple[str, Optional[str]], None] = OrderedDict()
        self._size = size

    @staticmethod
    def _key(tracker: DialogueStateTracker) -> Tuple[str, Optional[str]]:
        return tracker.sender_id, tracker.latest_message.message_id if tracker.latest_message else None

    def add(self, tracker: DialogueStateTracker) -> None:
        """Remember the tracker's current turn."""
        self._turns[self._key(tracker)] = None
        while len(self._turns) > self._size:
            self._turns.popitem(last=False)

    def contains(self, tracker: DialogueStateTracker) -> bool:
        """Whether a form failed in the tracker's current turn."""
        return self._key(tracker) in self._turns


async def fallback_events(
    action_name: str,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> List[Event]:
    """Events replacing those of the failed action `action_name`."""
    if action_name == ACTION_SESSION_START_NAME:
        said = await _utter(SESSION_START_RESPONSE, output_channel, nlg, tracker, domain)
        return said + await ActionSessionStart().run(output_channel, nlg, tracker, domain)
    said = await _utter(SERVICE_UNAVAILABLE, output_channel, nlg, tracker, domain)
    return said + [FollowupAction(ACTION_LISTEN_NAME)]


async def _utter(
    response: str,
    output_channel: OutputChannel,
    nlg: NaturalLanguageGenerator,
    tracker: DialogueStateTracker,
    domain: Domain,
) -> List[Event]:
    if response not in domain.responses:
        return []
    return await ActionBotResponse(response).run(output_channel, nlg, tracker, domain)


def offered_payloads(tracker: DialogueStateTracker) -> Set[str]:
    """Button payloads the bot offered in the conversation's current session."""
    return input_guard.offered_payloads(event.data for event in _session_bot_messages(tracker))


def _handoff_steps(tracker: DialogueStateTracker) -> List[Tuple[str, Optional[str]]]:
    steps: List[Tuple[str, Optional[str]]] = []
    for event in tracker.events:
        if isinstance(event, BotUttered):
            steps.append(("bot", (event.metadata or {}).get("utter_action")))
        elif isinstance(event, UserUttered):
            steps.append(("user", (event.intent or {}).get("name")))
        elif isinstance(event, ConversationPaused):
            steps.append(("pause", None))
        elif isinstance(event, ConversationResumed):
            steps.append(("resume", None))
    return steps


def _session_bot_messages(tracker: DialogueStateTracker) -> Iterator[BotUttered]:
    for event in reversed(tracker.events):
        if isinstance(event, (SessionStarted, Restarted)):
            return
        if isinstance(event, BotUttered):
            yield event


class HardenedMessageProcessor(HookedMessageProcessor):
    """Rasa's `MessageProcessor` with the guarantees listed in this module's docstring.

    Through Rasa's public `handle_message` and the hooks of clinic/rasa_adapter/processor.py.
    """

    _sender_limiter: Optional[AnyRateLimiter] = None
    faulted_turns = FaultedTurns()

    @classmethod
    def sender_limiter(cls) -> AnyRateLimiter:
        """Messages per conversation: RATE_LIMIT_PER_SENDER (default 30 per 60 s, "0" = off).

        Shared by every Rasa server when a Redis store is configured (see clinic.hardening.ratelimit).
        """
        if cls._sender_limiter is None:
            settings = get_settings()
            cls._sender_limiter = rate_limiter(settings.rate_limit_per_sender, "sender", settings)
        return cls._sender_limiter

    @staticmethod
    def max_message_chars() -> int:
        """The longest message processed: MAX_MESSAGE_CHARS (default 2000)."""
        return get_settings().max_message_chars

    async def handle_message(self, message: UserMessage) -> Optional[List[Dict[str, Any]]]:
        """Check the message, then handle it; a failure anywhere still gets an answer."""
        if not await self.sender_limiter().acquire(str(message.sender_id)):
            logger.warning("Conversation %s is over its message rate limit.", message.sender_id)
            return await self._reply_only(message, SLOW_DOWN)
        if message.parse_data is None:
            verdict = input_guard.check_message(message.text, self.max_message_chars())
            if verdict.refusal:
                return await self._reply_only(message, verdict.refusal, max_chars=self.max_message_chars())
            message.text = verdict.text
        try:
            return await super().handle_message(message)
        except Exception:  # noqa: BLE001 - tracker store, NLU, anything: the patient still gets an answer
            logger.exception("Could not handle a message of conversation %s.", message.sender_id)
            return await self._reply_only(message, SERVICE_UNAVAILABLE)

    async def prepare_message(self, message: UserMessage, tracker: DialogueStateTracker) -> None:
        """Read a typed payload the bot did not offer as a message it did not understand."""
        if (
            message.parse_data is None
            and input_guard.looks_like_payload(message.text)
            and not input_guard.is_offered(message.text, offered_payloads(tracker))
        ):
            logger.info("Conversation %s typed a payload the bot did not offer.", tracker.sender_id)
            intent = {"name": NOT_UNDERSTOOD_INTENT, "confidence": 1.0}
            message.parse_data = {
                "text": message.text, "intent": intent, "intent_ranking": [intent], "entities": [],
            }

    async def handle_paused(self, output_channel: OutputChannel, tracker: DialogueStateTracker) -> None:
        """A paused conversation gets clinic/handoff.py's answer (Rasa's own: none).

        Waiting for a person, a patient still hears about red flags, and is told once that their
        message is with the team.
        """
        latest = tracker.latest_message
        red_flag = latest is not None and handoff.reports_red_flag(
            (latest.intent or {}).get("name"), latest.entities or []
        )
        response = handoff.reply_while_waiting(_handoff_steps(tracker), red_flag)
        if response is None:
            return
        await self.run_named_action(response, tracker, output_channel, "handoff")
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))

    def wrap_action(self, action: Action) -> Action:
        """Every action runs within ACTION_TIMEOUT_SECONDS (default 10), its failure answered."""
        timeout = get_settings().action_timeout_seconds
        return FaultTolerantAction(action, timeout, self.faulted_turns)  # type: ignore[return-value]

    async def _reply_only(
        self, message: UserMessage, response: str, **values: Any
    ) -> Optional[List[Dict[str, Any]]]:
        """Send `response` without processing or storing the message."""
        channel = message.output_channel
        tracker = DialogueStateTracker(str(message.sender_id), self.domain.slots)
        generated = await self.nlg.generate(
            response, tracker, channel.name(), domain_responses=self.domain.responses, **values
        )
        if generated:
            await channel.send_response(tracker.sender_id, create_bot_utterance(generated).message())
        return channel.messages if isinstance(channel, CollectingOutputChannel) else None
