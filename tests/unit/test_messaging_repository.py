"""Opt-out state and pending options, stored in the migrated clinic database."""

from clinic.channels.sms_text import Option

ADDRESS = "+447700900123"


def test_opt_out_then_in_is_stored_per_address(messaging):
    assert not messaging.is_opted_out(ADDRESS)
    assert messaging.set_opted_out(ADDRESS, True, "stop") is True
    assert messaging.set_opted_out(ADDRESS, True, "quit") is False  # already opted out
    consent = messaging.consent(ADDRESS)
    assert (consent.opted_out, consent.keyword) == (True, "stop")
    assert messaging.is_opted_out(ADDRESS)
    assert not messaging.is_opted_out("whatsapp:" + ADDRESS)  # WhatsApp has its own consent
    assert messaging.set_opted_out(ADDRESS, False, "start") is True
    assert not messaging.is_opted_out(ADDRESS)
    assert messaging.consent(ADDRESS).keyword == "start"


def test_start_without_a_prior_stop_is_recorded_without_a_change(messaging):
    assert messaging.set_opted_out(ADDRESS, False, "start") is False
    assert messaging.consent(ADDRESS).opted_out is False


def test_reply_options_are_replaced_and_cleared(messaging):
    first = [Option(1, "Hard", "/a"), Option(2, "Soft", "/b")]
    messaging.remember_reply_options(ADDRESS, first)
    assert messaging.reply_options(ADDRESS) == first
    messaging.remember_reply_options(ADDRESS, [Option(1, "Nose", "/c")])
    assert messaging.reply_options(ADDRESS) == [Option(1, "Nose", "/c")]
    messaging.remember_reply_options(ADDRESS, [])
    assert messaging.reply_options(ADDRESS) == []
    assert messaging.reply_options("+15005550006") == []


def test_opting_out_forgets_pending_options(messaging):
    messaging.remember_reply_options(ADDRESS, [Option(1, "Hard", "/a")])
    messaging.set_opted_out(ADDRESS, True, "stop")
    assert messaging.reply_options(ADDRESS) == []


def test_a_message_sid_is_handled_once_within_48_hours(messaging):
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    sid = "SM" + "a" * 32
    assert messaging.first_delivery(sid, now) is True
    assert messaging.first_delivery(sid, now + timedelta(minutes=5)) is False  # Twilio's retry, a replay
    assert messaging.first_delivery(sid, now + timedelta(hours=47)) is False
    assert messaging.first_delivery("SM" + "b" * 32, now) is True
    # after 48 hours the sid is forgotten (its row deleted by the next delivery)
    assert messaging.first_delivery(sid, now + timedelta(hours=49)) is True
