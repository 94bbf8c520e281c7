"""Property-based tests of the input guard, the rate limiter and the clinic's text parsers."""

import json
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from clinic import findings, triage
from clinic.hardening import input_guard
from clinic.hardening.input_guard import BadWebhookBody, check_message, clean_text, parse_rest_body
from clinic.hardening.ratelimit import Rate, RateLimiter

any_text = st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=300)


@given(any_text)
def test_clean_text_leaves_no_control_characters_and_is_idempotent(text):
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip()
    assert all(
        unicodedata.category(c) not in ("Cc", "Cs") or c in "\n\t" for c in cleaned
    )
    assert clean_text(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    cleaned.encode("utf-8")  # storable in any database


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=50))
def test_clean_text_keeps_printable_text_of_every_script(text):
    assert clean_text(text) == unicodedata.normalize("NFC", text).strip()


def test_clean_text_examples():
    assert clean_text("  hard\x00bump\x1b[31m  ") == "hard bump [31m"
    assert clean_text("🙂 милиум 粟丘疹 \u200d") == "🙂 милиум 粟丘疹 \u200d".strip()
    assert clean_text("e\u0301") == "é"
    assert clean_text(None) == ""


@given(any_text, st.integers(min_value=1, max_value=100))
def test_check_message_processes_only_non_empty_text_within_the_limit(text, max_chars):
    verdict = check_message(text, max_chars)
    if verdict.refusal is None:
        assert 0 < len(verdict.text) <= max_chars
    else:
        assert verdict.refusal in (input_guard.EMPTY_MESSAGE, input_guard.MESSAGE_TOO_LONG)


def test_check_message_refusals():
    assert check_message("").refusal == input_guard.EMPTY_MESSAGE
    assert check_message(" \n\t ").refusal == input_guard.EMPTY_MESSAGE
    assert check_message("\x00\x01").refusal == input_guard.EMPTY_MESSAGE
    assert check_message("x" * 20_000).refusal == input_guard.MESSAGE_TOO_LONG
    assert check_message("x" * 2000).refusal is None
    assert check_message(12).refusal == input_guard.EMPTY_MESSAGE


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@given(st.binary(max_size=200))
def test_parse_rest_body_never_fails_unexpectedly_on_bytes(raw):
    try:
        body = parse_rest_body(raw)
    except BadWebhookBody:
        return
    assert isinstance(body.sender, str) and body.sender.strip()


@given(st.dictionaries(st.sampled_from(["sender", "message", "metadata", "x"]), json_values, max_size=4))
def test_parse_rest_body_accepts_exactly_the_rest_channel_shape(body):
    raw = json.dumps(body).encode()
    sender, message = body.get("sender"), body.get("message")
    metadata = body.get("metadata")
    valid = (
        isinstance(sender, str)
        and 0 < len(sender.strip()) <= input_guard.MAX_SENDER_ID_CHARS
        and clean_text(sender) == sender.strip()
        and (message is None or isinstance(message, str))
        and (metadata is None or isinstance(metadata, dict))
    )
    try:
        parsed = parse_rest_body(raw)
    except BadWebhookBody:
        assert not valid
    else:
        assert valid and parsed.sender == sender and parsed.message == message


payload_intents = st.sampled_from(["/inform", "/book_appointment", "/deny", "/report_red_flag"])
entity_dicts = st.dictionaries(
    st.sampled_from(["hardness", "fluid", "location"]), st.text(max_size=8), max_size=3
)


@given(payload_intents, entity_dicts)
def test_an_offered_payload_is_accepted_whatever_its_json_spacing(intent, entities):
    offered = {intent + json.dumps(entities)} if entities else {intent}
    typed = intent + json.dumps(entities, indent=1, sort_keys=True) if entities else " " + intent
    assert input_guard.is_offered(typed, offered)


@given(payload_intents, entity_dicts, entity_dicts)
def test_a_payload_that_was_not_offered_is_refused(intent, offered_entities, typed_entities):
    offered = {intent + json.dumps(offered_entities)}
    typed = "/human_handoff" + json.dumps(typed_entities)
    assert not input_guard.is_offered(typed, offered)
    if offered_entities != typed_entities:
        assert not input_guard.is_offered(intent + json.dumps(typed_entities), offered)


def test_the_widgets_opening_payload_is_always_allowed():
    assert input_guard.is_offered("/greet", set())
    assert not input_guard.is_offered('/greet{"hardness": "hard"}', set())
    assert not input_guard.is_offered("/report_red_flag", set())


def test_offered_payloads_reads_buttons_and_quick_replies():
    messages = [
        {"buttons": [{"title": "Hard", "payload": '/inform{"hardness": "hard"}'}]},
        {"quick_replies": [{"title": "Yes", "payload": "/affirm"}], "buttons": None},
        {"buttons": [{"title": "Link", "url": "https://example.org"}, "junk"]},
        {},
    ]
    assert input_guard.offered_payloads(messages) == {'/inform{"hardness": "hard"}', "/affirm"}


@given(st.integers(min_value=1, max_value=50), st.floats(min_value=0.1, max_value=100))
def test_rate_limiter_allows_a_burst_of_count_then_refills(count, seconds):
    now = [0.0]
    limiter = RateLimiter(Rate(count, seconds), clock=lambda: now[0])
    assert all(limiter.allow("patient") for _ in range(count))
    assert not limiter.allow("patient")
    assert limiter.allow("someone else")
    now[0] += seconds
    assert all(limiter.allow("patient") for _ in range(count))
    assert not limiter.allow("patient")


def test_rate_limiter_forgets_old_keys_and_can_be_switched_off():
    limiter = RateLimiter(Rate(1, 60), max_keys=2, clock=lambda: 0.0)
    assert limiter.allow("a") and limiter.allow("b") and limiter.allow("c")
    assert limiter.allow("a")  # "a" was forgotten, not refused
    assert RateLimiter(Rate.parse("0")).allow("x")
    assert Rate.parse("30/1m") == Rate(30, 60.0)
    assert Rate.parse("10/2") == Rate(10, 2.0)


@settings(max_examples=300)
@given(any_text)
def test_findings_readers_return_contract_values_for_any_text(text):
    read = findings.findings_from_text(text)
    assert read.hardness in (None, *triage.HARDNESS_VALUES)
    assert read.fluid in (None, *triage.FLUID_VALUES)
    assert read.location in (None, *triage.LOCATION_VALUES)
    assert set(read.red_flags) <= set(triage.RED_FLAG_VALUES)
    assert len(read.red_flags) == len(set(read.red_flags))


@given(st.sampled_from(["hardness", "fluid", "location"]), st.one_of(st.none(), any_text))
def test_normalise_returns_a_contract_value_or_none(kind, raw):
    allowed = {
        "hardness": triage.HARDNESS_VALUES,
        "fluid": triage.FLUID_VALUES,
        "location": triage.LOCATION_VALUES,
    }[kind]
    assert findings.normalise(kind, raw) in (None, *allowed)


@given(
    st.sampled_from([None, *triage.HARDNESS_VALUES]),
    st.sampled_from([None, *triage.FLUID_VALUES]),
    st.lists(st.sampled_from(triage.RED_FLAG_VALUES), max_size=3),
)
def test_any_red_flag_is_urgent(hardness, fluid, red_flags):
    result = triage.assess(hardness, fluid, red_flags)
    assert (result is triage.TriageResult.URGENT) == bool(red_flags)
