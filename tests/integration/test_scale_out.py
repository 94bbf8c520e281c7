"""Scale-out: two Rasa servers share a PostgreSQL tracker store and a Redis lock store.

Real servers from Debian's packages: `postgres_server` and `redis_server` (tests/conftest.py) use
TEST_POSTGRES_URL / TEST_REDIS_URL, or start private ones.
"""

import asyncio
import uuid

import httpx
import pytest

from clinic.testing.postgres import fresh_database
from clinic.testing.servers import RunningAssistant
from tests.integration.chat import texts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def two_servers(postgres_server, redis_server, tmp_path_factory):
    """Action server + two Rasa servers on one PostgreSQL tracker store and one Redis lock store."""
    with fresh_database(postgres_server) as tracker_database:
        shared = {
            "TRACKER_STORE_URL": tracker_database,
            "LOCK_STORE_URL": f"{redis_server}?key_prefix=scale{uuid.uuid4().hex[:8]}",
        }
        first = RunningAssistant(workdir=tmp_path_factory.mktemp("scale-a"), extra_env=shared).start()
        second = RunningAssistant(
            workdir=tmp_path_factory.mktemp("scale-b"), extra_env=shared, action_port=first.action_port
        )
        try:
            second.start(with_actions=False)
            yield first, second
        finally:
            second.stop()
            first.stop()


def test_one_conversation_alternating_between_two_servers_loses_and_reorders_nothing(two_servers):
    first, second = two_servers
    sender = f"scaled-{uuid.uuid4().hex[:8]}"
    turns = [
        ("hi", "not a diagnosis"),
        ("I have a white bump", "hard"),
        ("it's hard", "fluid"),
        ("no fluid at all", "Where"),
        ("on my cheek", "is any of these happening"),
        ("no, none of these", "milium"),
    ]
    for index, (message, expected) in enumerate(turns):
        server = (first, second)[index % 2]
        assert expected in texts(server.say(sender, message)), (index, message)

    for server in two_servers:
        tracker = server.tracker(sender)
        assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [m for m, _ in turns]
        assert tracker["slots"]["triage_result"] == "milia"


def test_simultaneous_messages_to_both_servers_are_handled_one_at_a_time(two_servers):
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    messages = [
        "what are milia?", "can I squeeze it?", "does the extraction hurt?",
        "how is the extraction done?", "can I get rid of it myself?", "are you a bot?",
    ]

    async def send_all():
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*(
                client.post(
                    f"{two_servers[n % 2].url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": message},
                )
                for n, message in enumerate(messages)
            ))

    responses = asyncio.run(send_all())
    answers = [(r.status_code, texts(r.json()) if r.status_code == 200 else r.text) for r in responses]
    assert all(status == 200 and text.strip() for status, text in answers), answers

    events = two_servers[0].tracker(sender)["events"]
    users = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(users) == sorted(messages)  # none lost, none twice
    # Each turn is whole: its answer, then exactly one action_listen, before the next message.
    turns = []
    for event in events:
        if event["event"] == "user":
            turns.append([])
        elif turns:
            turns[-1].append(event)
    for turn in turns:
        listens = [e for e in turn if e["event"] == "action" and e["name"] == "action_listen"]
        assert any(e["event"] == "bot" for e in turn), turn
        assert len(listens) == 1 and turn[-1] is listens[0], turn


def test_the_message_rate_limit_is_shared_by_both_servers(two_servers):
    """30 messages a minute per conversation (the default) in all, not 30 per server.

    The bucket refills at half a message a second while we send, so the limit bites a few messages after
    the 30th. Two unshared limits would allow 30 each: 50 messages alternating would never meet either.
    """
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    answers = [texts(two_servers[n % 2].say(sender, "are you a bot?")) for n in range(50)]
    limited = ["faster than I can read" in answer for answer in answers]
    assert not any(limited[:30]), answers
    assert sum(limited) >= 5, answers
    # Limited messages were answered but not stored.
    events = two_servers[1].tracker(sender)["events"]
    assert sum(e["event"] == "user" for e in events) == 50 - sum(limited)
