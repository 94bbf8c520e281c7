"""Rasa's MessageProcessor with its private steps turned into public hooks.

`HookedMessageProcessor` overrides the three private methods the clinic needs (Rasa 3.6) and calls a
hook from each; a subclass (clinic/hardening/processor.py) overrides only the hooks and Rasa's public
`handle_message`:

- `prepare_message(message, tracker)`: before the message is parsed and logged, with its tracker.
- `handle_paused(output_channel, tracker)`: instead of the prediction loop while the conversation is
  paused (Rasa's own: nothing is predicted).
- `wrap_action(action)`: every action the processor runs, before it runs.
- `run_named_action(name, tracker, output_channel, policy_name)`: run one action as a policy's prediction.
"""

from __future__ import annotations

from typing import Any

from rasa.core.actions.action import Action, action_for_name_or_text
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker


class HookedMessageProcessor(MessageProcessor):
    """`MessageProcessor` whose private steps call the public hooks listed in the module docstring."""

    async def prepare_message(self, message: UserMessage, tracker: DialogueStateTracker) -> None:
        """Called with the conversation's tracker before the message is parsed (Rasa's own: nothing)."""

    async def handle_paused(self, output_channel: OutputChannel, tracker: DialogueStateTracker) -> None:
        """Called instead of predicting while the conversation is paused (Rasa's own: nothing)."""
        await super()._run_prediction_loop(output_channel, tracker)

    def wrap_action(self, action: Action) -> Action:
        """The action the processor runs in place of `action` (Rasa's own: `action` itself)."""
        return action

    @staticmethod
    def should_predict(tracker: DialogueStateTracker) -> bool:
        """Whether Rasa predicts the next actions for this conversation (not while it is paused)."""
        return MessageProcessor._should_handle_message(tracker)

    async def run_named_action(
        self, name: str, tracker: DialogueStateTracker, output_channel: OutputChannel, policy_name: str
    ) -> bool:
        """Run the action `name` as if `policy_name` had predicted it (through `wrap_action`)."""
        prediction = PolicyPrediction.for_action_name(self.domain, name, policy_name)
        action = action_for_name_or_text(name, self.domain, self.action_endpoint)
        return await self._run_action(action, tracker, output_channel, self.nlg, prediction)

    # Rasa 3.6's private methods: overridden here and nowhere else.

    async def _handle_message_with_tracker(self, message: UserMessage, tracker: DialogueStateTracker) -> None:
        await self.prepare_message(message, tracker)
        await super()._handle_message_with_tracker(message, tracker)

    async def _run_prediction_loop(
        self, output_channel: OutputChannel, tracker: DialogueStateTracker
    ) -> None:
        if self.should_predict(tracker):
            await super()._run_prediction_loop(output_channel, tracker)
            return
        await self.handle_paused(output_channel, tracker)

    async def _run_action(self, action: Action, *args: Any, **kwargs: Any) -> bool:
        return await super()._run_action(self.wrap_action(action), *args, **kwargs)
