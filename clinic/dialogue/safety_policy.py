"""`SafetyPolicy`: clinic/safety.py's decision, applied to every turn of every conversation.

A Rasa policy (the public extension point for dialogue decisions) with a priority above the RulePolicy,
so its prediction wins whatever form is active: a red flag in any message deactivates the form and
gets `utter_red_flag_advice`, and sets `red_flags`, `triage_result=urgent` and `urgent_since` (as
prediction events: no custom action is needed, so it holds when the action server is down).
It has nothing to learn. `rasa test core` (tests/test_stories.yml) runs it like the server does.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import safety
from clinic.contract import REQUESTED_SLOT, Slot, TriageResult

IGNORED_ACTIONS = frozenset({"action_extract_slots", ACTION_LISTEN_NAME})


def turn_of(tracker: DialogueStateTracker) -> Optional[safety.Turn]:
    """The latest turn as clinic/safety.py reads it (None before the patient has said anything)."""
    done: List[str] = []
    latest: Optional[UserUttered] = None
    asked: Optional[str] = None
    events = reversed(tracker.events)
    for event in events:
        if isinstance(event, UserUttered):
            latest = event
            break
        if isinstance(event, ActionExecuted) and event.action_name not in IGNORED_ACTIONS:
            done.append(str(event.action_name))
    if latest is None:
        return None
    for event in events:  # the question the message answers: requested_slot when it was sent
        if isinstance(event, SlotSet) and event.key == REQUESTED_SLOT:
            asked = event.value
            break
        if isinstance(event, UserUttered):
            break
    done.reverse()
    # Before this message: the slots as they are now, minus what this turn's own policy events set.
    urgent = tracker.get_slot(Slot.TRIAGE_RESULT) == TriageResult.URGENT and not _set_this_turn(tracker)
    return safety.Turn(
        intent=(latest.intent or {}).get("name"),
        entities=tuple(latest.entities or ()),
        done=tuple(done),
        active_loop=tracker.active_loop_name,
        urgent=urgent,
        red_flags=tuple(tracker.get_slot(Slot.RED_FLAGS) or ()),
        asked=asked,
        text=latest.text or "",
    )


def _set_this_turn(tracker: DialogueStateTracker) -> bool:
    """Whether `triage_result=urgent` was set after the patient's latest message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, SlotSet) and event.key == Slot.TRIAGE_RESULT \
                and event.value == TriageResult.URGENT:
            return True
    return False


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class SafetyPolicy(Policy):
    """Red flags at any turn, urgent that lasts, safety questions inside a description."""

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: Any,
        resource: Resource,
        execution_context: Any,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.resource = resource  # what `train` gives back (Policy keeps its own copy private)

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Above the RulePolicy (6): safety wins ties at full confidence."""
        return {"priority": 7}

    @staticmethod
    def supported_data() -> SupportedData:
        """It learns nothing, so it needs no particular data."""
        return SupportedData.ML_AND_RULE_DATA

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the rules are clinic/safety.py."""
        return self.resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Full confidence for the action safety requires; abstain (all zeros) otherwise."""
        probabilities = [0.0] * domain.num_actions  # all zeros: no opinion
        turn = turn_of(tracker)
        action = safety.next_action(turn) if turn is not None else None
        if turn is None or action is None or action not in domain.action_names_or_texts:
            return PolicyPrediction(probabilities, type(self).__name__, self.priority)
        probabilities[domain.index_for_action(action)] = 1.0
        # Marked like the RulePolicy's "the active form goes on" prediction, which otherwise overrules
        # every other policy: among those, full confidence and the higher priority win.
        return PolicyPrediction(probabilities, type(self).__name__, self.priority,
                                events=self._events(turn, action), is_no_user_prediction=True)

    @staticmethod
    def _events(turn: safety.Turn, action: str) -> List[Event]:
        """The red flag recorded on the turn it is first answered."""
        if turn.done or safety.red_flags_in(turn.intent, turn.entities, turn.asked, turn.text) is None:
            return []
        return [
            # Plain strings in Rasa's own events (as the action server's come back from JSON).
            SlotSet(Slot.RED_FLAGS.value, safety.flags_after(turn)),
            SlotSet(Slot.TRIAGE_RESULT.value, TriageResult.URGENT.value),
            SlotSet(Slot.URGENT_SINCE.value, time.time()),
        ]
