"""The Rasa internals the clinic still relies on (clinic/rasa_adapter's docstring), checked one by one.

Each test names the internal it guards. When an upgrade of Rasa or rasa_sdk breaks one, the test says
which, before any conversation does: change clinic/rasa_adapter (or the module named) and the test together.
"""

import inspect
import re
from types import SimpleNamespace

import pytest
import rasa
import rasa.core.agent
import rasa.core.run
import rasa.server
import rasa_sdk
import rasa_sdk.endpoint
from rasa.core.actions.action import ActionListen, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from sanic import Sanic

from clinic import rasa_adapter
from clinic.conversations.store import events as events_table
from clinic.rasa_adapter import server, speedups, stores
from clinic.rasa_adapter.processor import HookedMessageProcessor
from clinic.tracker_store import ErasableSQLTrackerStore
from tests.conftest import ROOT


def parameters(function) -> list:
    return list(inspect.signature(function).parameters)


def source(function) -> str:
    return inspect.getsource(function)


# The versions: the adapter is written for these; the lock pins them.


def test_the_installed_rasa_is_the_one_the_adapter_supports():
    assert rasa.__version__.startswith(rasa_adapter.SUPPORTED_RASA)
    rasa_adapter.check_rasa_version()


def test_another_rasa_is_refused(monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(SystemExit, match="supports Rasa 3.6.x, not 3.7.0"):
        rasa_adapter.check_rasa_version()


def test_the_requirements_pin_the_rasa_and_rasa_sdk_installed():
    requirements = (ROOT / "requirements.in").read_text()
    pins = dict(re.findall(r"^(rasa(?:\[\w+\])?|rasa-sdk)==(\S+)", requirements, re.M))
    assert pins == {"rasa[spacy]": rasa.__version__, "rasa-sdk": rasa_sdk.__version__}
    assert pins["rasa[spacy]"].startswith(rasa_adapter.SUPPORTED_RASA)


# 1-3. MessageProcessor's private steps (clinic/rasa_adapter/processor.py).


def test_message_processor_private_signatures():
    assert parameters(MessageProcessor._handle_message_with_tracker) == ["self", "message", "tracker"]
    assert parameters(MessageProcessor._run_prediction_loop) == ["self", "output_channel", "tracker"]
    assert parameters(MessageProcessor._run_action) == [
        "self", "action", "tracker", "output_channel", "nlg", "prediction",
    ]
    assert isinstance(inspect.getattr_static(MessageProcessor, "_should_handle_message"), staticmethod)
    assert parameters(MessageProcessor._should_handle_message) == ["tracker"]


def test_message_processor_calls_its_private_steps_where_the_hooks_expect():
    # handle_message -> log_message -> _handle_message_with_tracker; then the prediction loop.
    handle = source(MessageProcessor.handle_message)
    assert "self.log_message(message" in handle
    assert "self._run_prediction_loop(message.output_channel, tracker)" in handle
    assert "self._handle_message_with_tracker(message, tracker)" in source(MessageProcessor.log_message)
    loop = source(MessageProcessor._run_prediction_loop)
    assert "self._should_handle_message(tracker)" in loop
    assert "self._run_action(" in loop


class Probe(HookedMessageProcessor):
    """A processor built without a model: just what the steps under test read."""

    def __init__(self) -> None:  # noqa: D107 - no model, no stores
        self.domain = Domain.empty()
        self.nlg = None
        self.action_endpoint = None
        self.calls = []

    async def prepare_message(self, message, tracker):
        self.calls.append(("prepare", message.text, len(tracker.events)))

    async def handle_paused(self, output_channel, tracker):
        self.calls.append(("paused", tracker.sender_id))

    def wrap_action(self, action):
        self.calls.append(("wrap", action.name()))
        return action

    def predict_next_with_tracker_if_should(self, tracker):
        return (ActionListen(),
                PolicyPrediction.for_action_name(self.domain, ACTION_LISTEN_NAME, "probe"))

    async def execute_side_effects(self, events, tracker, output_channel):
        self.calls.append(("side effects", len(events)))


def message(text="hi"):
    return UserMessage(text, CollectingOutputChannel(), "patient-1",
                       parse_data={"text": text, "intent": {"name": "greet", "confidence": 1.0},
                                   "entities": []})


async def test_the_message_reaches_prepare_message_with_its_tracker_before_it_is_logged():
    processor, tracker = Probe(), DialogueStateTracker("patient-1", [])
    await processor._handle_message_with_tracker(message("hello"), tracker)
    assert processor.calls == [("prepare", "hello", 0)]
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hello"]


async def test_a_paused_conversation_goes_to_handle_paused_and_predicts_nothing():
    processor, tracker = Probe(), DialogueStateTracker("patient-1", [])
    tracker.update(ConversationPaused())
    await processor._run_prediction_loop(CollectingOutputChannel(), tracker)
    assert processor.calls == [("paused", "patient-1")]
    assert not processor.should_predict(tracker)


async def test_every_action_of_the_prediction_loop_passes_wrap_action():
    processor, tracker = Probe(), DialogueStateTracker("patient-1", [])
    await processor._run_prediction_loop(CollectingOutputChannel(), tracker)
    assert processor.calls == [("wrap", ACTION_LISTEN_NAME), ("side effects", 0)]
    assert isinstance(tracker.events[-1], ActionExecuted)
    assert tracker.events[-1].action_name == ACTION_LISTEN_NAME


async def test_run_named_action_runs_it_as_the_named_policys_prediction():
    processor, tracker = Probe(), DialogueStateTracker("patient-1", [])
    await processor.run_named_action(ACTION_LISTEN_NAME, tracker, CollectingOutputChannel(), "handoff")
    assert processor.calls[0] == ("wrap", ACTION_LISTEN_NAME)
    assert tracker.events[-1].policy == "handoff"


def test_the_default_hooks_leave_rasa_as_it_is():
    plain = HookedMessageProcessor.__new__(HookedMessageProcessor)
    action = RemoteAction("action_x", None)
    assert plain.wrap_action(action) is action
    assert inspect.iscoroutinefunction(plain.prepare_message)


# 4. The name the agent builds its processor from (clinic/rasa_adapter/server.py).


def test_the_agent_builds_its_processor_from_the_module_name(monkeypatch):
    assert "self.processor = MessageProcessor(" in source(Agent.load_model)
    monkeypatch.setattr(rasa.core.agent, "MessageProcessor", rasa.core.agent.MessageProcessor)
    server.use_message_processor(HookedMessageProcessor)
    assert rasa.core.agent.MessageProcessor is HookedMessageProcessor


# 5. The tracker store wrapper (clinic/rasa_adapter/stores.py; behaviour: test_strict_tracker_store.py).


def test_the_agent_wraps_its_tracker_store_by_the_module_name(monkeypatch):
    assert "return FailSafeTrackerStore(tracker_store)" in source(Agent._create_tracker_store)
    monkeypatch.setattr(rasa.core.agent, "FailSafeTrackerStore", rasa.core.agent.FailSafeTrackerStore)
    stores.install_strict_tracker_store()
    assert rasa.core.agent.FailSafeTrackerStore is stores.StrictTrackerStore


def test_the_wrapper_keeps_the_wrapped_store_in_tracker_store():
    inner = InMemoryTrackerStore(Domain.empty())
    assert stores.StrictTrackerStore(inner)._tracker_store is inner
    assert parameters(FailSafeTrackerStore.__init__) == [
        "self", "tracker_store", "on_tracker_store_error", "fallback_tracker_store",
    ]


def test_strict_store_overrides_every_read_and_write_that_rasas_wrapper_falls_back_on():
    # A new method of Rasa's wrapper may fall back too: StrictTrackerStore must then override it.
    falls_back = {"retrieve", "retrieve_full_tracker", "keys", "save"}
    properties_and_callbacks = {"domain", "fallback_tracker_store", "on_tracker_store_error",
                                "on_tracker_store_retrieve_error"}
    own = {name for name in vars(FailSafeTrackerStore) if not name.startswith("__")}
    assert own == falls_back | properties_and_callbacks
    assert falls_back <= set(vars(stores.StrictTrackerStore))


# 6. Where `rasa run` builds its Sanic app (clinic/rasa_adapter/server.py).


def test_rasa_run_builds_its_app_with_configure_app_by_the_module_name(monkeypatch):
    assert "app = configure_app(" in source(rasa.core.run.serve_application)
    assert inspect.signature(rasa.core.run.configure_app).return_annotation in (Sanic, "Sanic")
    monkeypatch.setattr(rasa.core.run, "configure_app", lambda *a, **k: SimpleNamespace(args=a, kwargs=k))
    seen = []
    server.on_server_app(seen.append)
    app = rasa.core.run.configure_app(["channel"], port=5005)
    assert seen == [app] and app.args == (["channel"],) and app.kwargs == {"port": 5005}


# 7. The action server's response validation (clinic/rasa_adapter/speedups.py).


def test_remote_action_validates_responses_through_the_patched_method(monkeypatch):
    assert parameters(RemoteAction._validate_action_result) == ["self", "result"]
    assert "self._validate_action_result(response)" in source(RemoteAction.run)
    assert isinstance(RemoteAction.action_response_format_spec(), dict)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    original = RemoteAction._validate_action_result
    speedups.install()
    assert RemoteAction._validate_action_result is not original


# 8. Where Rasa's server keeps its agent (clinic/rasa_adapter/server.py `agent_of`).


def test_rasas_server_keeps_its_agent_in_app_ctx():
    assert "app.ctx.agent = agent" in source(rasa.server.create_app)
    assert "app.ctx.agent = await agent.load_agent(" in source(rasa.core.run.load_agent_on_start)
    agent = object()
    assert server.agent_of(SimpleNamespace(ctx=SimpleNamespace(agent=agent))) is agent
    assert server.agent_of(SimpleNamespace(ctx=SimpleNamespace())) is None


# Public but undocumented attributes relied on outside the adapter.


def test_sql_tracker_store_attributes_the_erasing_store_uses():
    # clinic/tracker_store.py: ErasableSQLTrackerStore deletes through these.
    assert hasattr(SQLTrackerStore, "SQLEvent")
    assert callable(SQLTrackerStore.session_scope)
    assert issubclass(ErasableSQLTrackerStore, SQLTrackerStore)


def test_the_events_table_the_console_reads_is_rasas():
    # clinic/conversations/store.py mirrors SQLTrackerStore's `events` table.
    def shape(table):
        return {c.name: (type(c.type).__name__, getattr(c.type, "length", None), c.nullable, c.primary_key)
                for c in table.columns}

    rasas = SQLTrackerStore.SQLEvent.__table__
    assert rasas.name == events_table.name == "events"
    assert shape(events_table) == shape(rasas)


def test_redis_lock_store_attributes_and_ticket_steps_the_atomic_store_relies_on():
    # clinic/hardening/stores.py AtomicRedisLockStore: a mutex on `red` under `key_prefix` around each
    # ticket step, which must not call one another (the mutex is not re-entrant).
    store = RedisLockStore()  # no connection until used
    assert store.red is not None and store.key_prefix
    steps = {"issue_ticket", "update_lock", "cleanup"}
    assert not steps & set(vars(RedisLockStore))  # Rasa's Redis store inherits them from LockStore
    for step in steps:
        body = source(getattr(LockStore, step)).split(":", 1)[1]
        assert not {other for other in steps - {step} if f"self.{other}(" in body}, step
    assert parameters(LockStore.issue_ticket) == ["self", "conversation_id", "lock_lifetime"]
    assert parameters(LockStore.cleanup) == ["self", "conversation_id", "ticket_number"]


def test_rasa_sdk_binds_to_sanic_host_and_offers_the_plugin_hook():
    # clinic/hardening/action_server.py sets SANIC_HOST and registers its token check as a plugin.
    assert 'os.environ.get("SANIC_HOST"' in source(rasa_sdk.endpoint.run)
    assert "plugin_manager().hook.attach_sanic_app_extensions(app=app)" in source(rasa_sdk.endpoint.run)


class OneSlotForm(FormValidationAction):
    def name(self):
        return "validate_probe_form"

    async def extract_size(self, dispatcher, tracker, domain):
        return {"size": "small"}

    def validate_size(self, slot_value, dispatcher, tracker, domain):
        return {"size": slot_value.upper()}


async def test_form_validation_run_is_the_public_steps_extract_and_validate_repeats():
    # actions/screening.py `extract_and_validate` is FormValidationAction.run made of its public steps.
    from actions.screening import extract_and_validate

    domain = {"forms": {"probe_form": {"required_slots": ["size"]}},
              "slots": {"size": {"type": "text", "mappings": [{"type": "custom"}]}}}

    def tracker():
        return Tracker("patient-1", {"size": None, "requested_slot": "size"},
                       {"text": "a small one", "intent": {"name": "inform"}, "entities": []},
                       [], False, None, {"name": "probe_form"}, "action_listen")

    by_rasa_sdk = await OneSlotForm().run(CollectingDispatcher(), tracker(), domain)
    ours = await extract_and_validate(OneSlotForm(), CollectingDispatcher(), tracker(), domain)
    assert by_rasa_sdk == ours == [SlotSet("size", "SMALL")]


def test_the_candidates_to_validate_are_the_last_slot_events_and_add_slots_goes_after_them():
    # actions/triage_form.py: a second bump's fresh start goes after the candidates Rasa sends on activation.
    candidates = [SlotSet("size", "big"), SlotSet("colour", "white")]
    tracker = Tracker("patient-1", {"size": "big", "colour": "white"}, {}, [
        {"event": "action", "name": "probe_form"}, *candidates], False, None, {"name": "probe_form"},
        "action_listen")
    assert tracker.slots_to_validate() == {"size": "big", "colour": "white"}
    tracker.add_slots([SlotSet("size", None)])
    assert tracker.slots_to_validate() == {"size": None, "colour": "white"}
    assert tracker.get_slot("size") is None


# Moved to public API: SafetyPolicy builds its PolicyPrediction itself, as Policy's private helper did.


def safety_policy(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from clinic.dialogue.safety_policy import SafetyPolicy

    return SafetyPolicy.create(SafetyPolicy.get_default_config(), LocalModelStorage(tmp_path),
                               Resource("safety"), ExecutionContext(GraphSchema({})))


@pytest.mark.parametrize("intent", ["report_red_flag", "greet"])
def test_safety_policy_predicts_what_rasas_private_helpers_would_make(tmp_path, intent):
    domain = Domain.load(str(ROOT / "domain"))
    policy = safety_policy(tmp_path)
    tracker = DialogueStateTracker("patient-1", domain.slots)
    tracker.update(UserUttered("it's spreading", {"name": intent, "confidence": 1.0}, []))
    ours = policy.predict_action_probabilities(tracker, domain)
    red_flag = intent == "report_red_flag"
    rasas = policy._prediction(ours.probabilities, events=ours.events, is_no_user_prediction=red_flag)
    assert ours == rasas and ours.policy_name == "SafetyPolicy" and ours.policy_priority == 7
    assert len(ours.probabilities) == len(policy._default_predictions(domain))
    assert max(ours.probabilities) == (1.0 if red_flag else 0.0) and bool(ours.events) is red_flag
    assert policy.train([], domain) is policy._resource
