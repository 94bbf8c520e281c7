"""Text-only rendering rules of the SMS/WhatsApp channel."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.channels.sms_text import (
    TWILIO_MAX_BODY,
    Option,
    choice_from_reply,
    clean_inbound,
    mask_address,
    opt_keyword,
    parse_address,
    render_turn,
    split_message,
    text_length,
)

HARDNESS_BUTTONS = [
    {"title": "Hard", "payload": '/inform{"hardness": "hard"}'},
    {"title": "Soft", "payload": '/inform{"hardness": "soft"}'},
    {"title": "Not sure", "payload": '/inform{"hardness": "unsure"}'},
]


def test_buttons_become_numbered_options():
    reply = render_turn([{"text": "Does it feel hard or soft?", "buttons": HARDNESS_BUTTONS}])
    assert reply.parts == ["Does it feel hard or soft?\n\nReply 1 for Hard, 2 for Soft, 3 for Not sure"]
    assert [o.number for o in reply.options] == [1, 2, 3]
    assert reply.options[2].payload == '/inform{"hardness": "unsure"}'


def test_options_are_numbered_across_the_messages_of_a_turn():
    reply = render_turn([
        {"text": "Hi, I'm Vitawell's assistant."},
        {"text": "Hard or soft?", "buttons": HARDNESS_BUTTONS[:2]},
        {"text": "Or:", "buttons": [{"title": "Talk to a person", "payload": "/human_handoff"}]},
    ])
    assert len(reply.parts) == 1  # one message: several TwiML messages may arrive out of order
    assert reply.parts[0] == (
        "Hi, I'm Vitawell's assistant.\n\nHard or soft?\n\nReply 1 for Hard, 2 for Soft"
        "\n\nOr:\n\nReply 3 for Talk to a person"
    )
    assert choice_from_reply("3", reply.options) == "/human_handoff"


def test_image_is_sent_as_a_link_and_empty_turn_sends_nothing():
    assert render_turn([{"image": "https://clinic.example/map.png"}]).parts == [
        "https://clinic.example/map.png"
    ]
    assert render_turn([]).parts == []
    assert render_turn([{"text": "  "}]).parts == []


@pytest.mark.parametrize(
    "reply, payload",
    [
        ("1", '/inform{"hardness": "hard"}'),
        (" 2. ", '/inform{"hardness": "soft"}'),
        ("hard", '/inform{"hardness": "hard"}'),
        ("HARD", '/inform{"hardness": "hard"}'),
        ("not SURE!", '/inform{"hardness": "unsure"}'),
        ("4", None),
        ("0", None),
        ("it's hard", None),  # not a title: the assistant reads it as text
        ("", None),
    ],
)
def test_reply_maps_to_a_button_by_number_or_title(reply, payload):
    options = render_turn([{"text": "?", "buttons": HARDNESS_BUTTONS}]).options
    assert choice_from_reply(reply, options) == payload


def test_title_with_punctuation_matches_without_it():
    options = [Option(1, "Yes, fluid or pus", "/a"), Option(2, "No fluid", "/b")]
    assert choice_from_reply("yes fluid or pus", options) == "/a"
    assert choice_from_reply("No Fluid.", options) == "/b"
    assert choice_from_reply("1", []) is None


def test_short_reply_is_not_split():
    assert split_message("Hello") == ["Hello"]
    assert split_message("") == []
    assert split_message("x" * TWILIO_MAX_BODY) == ["x" * TWILIO_MAX_BODY]


def test_long_reply_splits_at_paragraphs_and_numbers_the_parts():
    paragraphs = [f"Paragraph {i}. " + "word " * 150 for i in range(6)]  # ~770 characters each
    parts = split_message("\n\n".join(p.strip() for p in paragraphs))
    assert len(parts) == 3
    assert all(text_length(p) <= TWILIO_MAX_BODY for p in parts)
    assert [p[:6] for p in parts] == ["(1/3) ", "(2/3) ", "(3/3) "]
    assert parts[1].startswith("(2/3) Paragraph 2.")  # whole paragraphs, none cut in half


def test_a_long_paragraph_splits_between_sentences_then_words():
    sentence = "Please don't squeeze it. "
    parts = split_message(sentence * 100)  # 2,500 characters, one paragraph
    assert len(parts) == 2
    assert parts[0].endswith("squeeze it.")
    words = split_message("milia " * 400)
    assert all(not p.endswith("mil") and text_length(p) <= TWILIO_MAX_BODY for p in words)


def test_unbreakable_text_is_cut_at_the_limit():
    parts = split_message("a" * 4000)
    assert len(parts) == 3
    assert "".join(p.split(" ", 1)[1] for p in parts) == "a" * 4000


def test_emoji_count_as_two_units():
    parts = split_message("😀" * 1000)  # 2,000 UTF-16 units
    assert len(parts) == 2 and all(text_length(p) <= TWILIO_MAX_BODY for p in parts)


@given(st.text(min_size=1, max_size=5000))
def test_split_never_exceeds_the_limit_and_loses_nothing(text):
    parts = split_message(text)
    assert all(text_length(p) <= TWILIO_MAX_BODY for p in parts)
    bodies = [p.split(" ", 1)[1] for p in parts] if len(parts) > 1 else parts
    assert "".join("".join(bodies).split()) == "".join(text.split())


@pytest.mark.parametrize("body", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END",
                                  "quit", "OptOut", "revoke"])
def test_bare_opt_out_keywords(body):
    assert opt_keyword(body) == "opt_out"


@pytest.mark.parametrize("body", ["cancel my appointment", "please stop", "stop squeezing?", "the end of"
                                  " my nose", "", "stopp"])
def test_keywords_inside_sentences_are_not_opt_outs(body):
    assert opt_keyword(body) is None


def test_opt_in_keywords():
    assert [opt_keyword(b) for b in ("START", "unstop", "Yes!")] == ["opt_in"] * 3
    assert opt_keyword("yes please") is None


@pytest.mark.parametrize(
    "raw, address",
    [
        ("+447700900123", "+447700900123"),
        (" +15005550006 ", "+15005550006"),
        ("whatsapp:+447700900123", "whatsapp:+447700900123"),
        ("WhatsApp:+447700900123", "whatsapp:+447700900123"),
        ("447700900123", None),
        ("+44 7700 900123", None),
        ("client:alice", None),
        ("messenger:123", None),
        ("+0123456789", None),
        ("+1234567890123456", None),
        ("", None),
        (None, None),
    ],
)
def test_addresses(raw, address):
    assert parse_address(raw) == address


def test_numbers_are_masked_for_logs():
    assert mask_address("+447700900123") == "+44•••23"
    assert mask_address("whatsapp:+447700900123") == "whatsapp:+44•••23"
    assert mask_address("+1234") == "•••"
    assert mask_address(None) == "<none>"
    assert "7700900" not in mask_address("+447700900123")


def test_inbound_text_loses_control_characters():
    assert clean_inbound("  hard\x00 bump\x1b\n on my nose\t ") == "hard bump\n on my nose"
    assert clean_inbound("cafe\u0301") == "caf\u00e9"


def test_reminder_reply_words_and_cancel_stays_an_opt_out():
    from clinic.channels.sms_text import opt_keyword, reminder_reply

    assert [reminder_reply(w) for w in ("C", "c.", "Yes", "Y", "confirm")] == ["confirm"] * 5
    assert [reminder_reply(w) for w in ("X", "x!")] == ["cancel"] * 2
    assert [reminder_reply(w) for w in ("R", "reschedule", "Change")] == ["reschedule"] * 3
    assert reminder_reply("cancel") is None and opt_keyword("cancel") == "opt_out"
    assert [reminder_reply(w) for w in ("yes I have a bump", "cx", "", "stop")] == [None] * 4
