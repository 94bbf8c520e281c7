"""The messaging tables on SQLite and a real PostgreSQL server: migrations, round trips, races."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect

from clinic.channels.repository import MessagingRepository
from clinic.channels.sms_text import Option
from clinic.db.engine import engine_for, session_factory

pytestmark = pytest.mark.integration
ADDRESS = "whatsapp:+447700900123"


def test_migration_creates_the_tables(clinic_db):
    tables = set(inspect(engine_for(clinic_db)).get_table_names())
    assert {"messaging_consent", "messaging_reply_options"} <= tables


def test_consent_and_options_round_trip(clinic_db):
    repository = MessagingRepository(session_factory(clinic_db))
    options = [Option(1, "Yes, fluid or pus", '/inform{"fluid": "yes"}'), Option(2, "Not sure", "/x")]
    repository.remember_reply_options(ADDRESS, options)
    assert repository.reply_options(ADDRESS) == options
    assert repository.set_opted_out(ADDRESS, True, "unsubscribe") is True
    consent = repository.consent(ADDRESS)
    assert (consent.opted_out, consent.keyword) == (True, "unsubscribe")
    assert consent.changed_at is not None
    assert repository.reply_options(ADDRESS) == []
    assert repository.set_opted_out(ADDRESS, False, "start") is True
    assert not repository.is_opted_out(ADDRESS)


def test_simultaneous_stops_and_replies_from_one_number_store_one_row(clinic_db):
    repository = MessagingRepository(session_factory(clinic_db))
    with ThreadPoolExecutor(max_workers=8) as pool:
        changes = list(pool.map(lambda _: repository.set_opted_out(ADDRESS, True, "stop"), range(8)))
        list(pool.map(lambda i: repository.remember_reply_options("+15005550006",
                                                                   [Option(1, f"T{i}", "/p")]), range(8)))
    assert changes.count(True) == 1  # exactly one of them changed the state
    assert repository.is_opted_out(ADDRESS)
    assert len(repository.reply_options("+15005550006")) == 1
