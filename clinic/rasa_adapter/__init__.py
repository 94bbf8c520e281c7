"""Rasa behind one door: every private Rasa / rasa_sdk method the clinic overrides or calls, and every patch.

The rest of the clinic uses Rasa's public API only (channels, policies, components, tracker and lock
stores, the NLG and action-server hooks) and, where it needs more, the hooks of this package. It imports
no other clinic module, so any layer may use it. Written for Rasa 3.6 (`SUPPORTED_RASA`, checked when
`clinic-rasa` starts). tests/unit/test_rasa_adapter.py checks each item below against the installed Rasa,
so an upgrade that changes one fails there, by name, before anything else does.

Rasa internals still relied on (Rasa 3.6.21, rasa_sdk 3.6.2):

1. `MessageProcessor._handle_message_with_tracker(message, tracker)`, overridden (processor.py): the
   one point where the message and its conversation's tracker meet before the message is parsed.
2. `MessageProcessor._run_prediction_loop(output_channel, tracker)`, overridden (processor.py), and
   `MessageProcessor._should_handle_message(tracker)`, called: what a paused conversation gets.
3. `MessageProcessor._run_action(action, tracker, output_channel, nlg, prediction)`, overridden and called
   (processor.py): every action the processor runs passes through it.
4. `rasa.core.agent.MessageProcessor`, patched (server.py): the name the agent builds its processor from.
5. `rasa.core.agent.FailSafeTrackerStore`, patched (server.py), and its `_tracker_store` attribute
   (stores.py): the wrapper the agent puts around every tracker store.
6. `rasa.core.run.configure_app`, patched (server.py): where `rasa run` builds its Sanic app, the only
   moment the HTTP guards can be registered on it.
7. `RemoteAction._validate_action_result(result)`, patched (speedups.py), with
   `RemoteAction.action_response_format_spec()`.
8. `app.ctx.agent`, read (server.py `agent_of`): where Rasa's server keeps its agent.

Public but undocumented attributes relied on outside this package, checked by the same tests:
`SQLTrackerStore.SQLEvent` and `.session_scope()` (clinic/tracker_store.py), the columns of its `events`
table (clinic/conversations/store.py), `RedisLockStore.red` and `.key_prefix` and `LockStore`'s ticket
methods not calling one another (clinic/hardening/stores.py), rasa_sdk's `SANIC_HOST` variable
(clinic/hardening/action_server.py), `FormValidationAction.run` being extraction, validation and the
next requested slot (actions/screening.py `extract_and_validate`, built from the public steps), and
`Tracker.slots_to_validate()` being the SlotSet events at the tracker's end, the latest winning, which
`Tracker.add_slots` appends to (actions/triage_form.py puts a second bump's fresh start after the slots
Rasa sends as candidates when it activates the form).
"""

from __future__ import annotations

SUPPORTED_RASA = "3.6."


def check_rasa_version() -> None:
    """Refuse to run on a Rasa other than the one this package was written for."""
    import rasa

    if not rasa.__version__.startswith(SUPPORTED_RASA):
        raise SystemExit(f"clinic-rasa supports Rasa {SUPPORTED_RASA}x, not {rasa.__version__}.")
