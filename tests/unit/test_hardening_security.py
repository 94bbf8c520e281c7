"""Log masking, the launcher's refusal of unsafe servers, and the HTTP guards' decisions."""

import logging
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.hardening import logmask
from clinic.hardening.http import client_address, model_change_refused
from clinic.hardening.launcher import UnsafeConfiguration, check_arguments


@pytest.mark.parametrize(
    "secret, line",
    [
        ("+49 170 1234567", "please call me on +49 170 1234567 tomorrow"),
        ("0170-123 45 67", "my number: 0170-123 45 67"),
        ("4917012345678", "sender whatsapp:+4917012345678 said hi"),
        ("anna.berg+skin@example.org", "mail anna.berg+skin@example.org"),
        ("Anna", "My name is Anna and I have a bump"),
        ("Berg", "my name is Anna Berg"),
        ("Jörg", "i'm called Jörg"),
        ("Anna Berg", '{"patient_name": "Anna Berg", "slot": 1}'),
    ],
)
def test_mask_hides_phone_numbers_emails_and_names(secret, line):
    masked = logmask.mask(line)
    assert secret not in masked
    assert "***name***" in masked or "•••" in masked  # contact details by clinic.masking


@pytest.mark.parametrize(
    "line",
    [
        "2026-11-26 03:34:24 Rasa server is up and running.",
        "Starting Rasa server on http://0.0.0.0:5005",
        "this is a hard bump on my cheek",
        "Action 'validate_triage_form' failed (ClientConnectorError)",
    ],
)
def test_mask_leaves_ordinary_log_lines_alone(line):
    assert logmask.mask(line) == line


@given(st.text(max_size=200))
def test_mask_never_fails(text):
    assert isinstance(logmask.mask(text), str)


def test_installed_masking_applies_to_every_logger(caplog):
    logmask.install()
    logmask.install()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("rasa.core.processor").info("Patient %s wrote from %s", "Anna", "+49 170 1234567")
        logging.getLogger("some.library").warning("contact: anna@example.org")
    text = caplog.text
    assert "+49 170 1234567" not in text and "anna@example.org" not in text
    assert "+49•••67" in text and "a•••@example.org" in text


def test_launcher_refuses_an_api_without_authentication():
    with pytest.raises(UnsafeConfiguration):
        check_arguments(["run", "--enable-api", "--model", "m.tar.gz"], {})
    with pytest.raises(UnsafeConfiguration):
        check_arguments(["run", "--enable-api"], {"RASA_AUTH_TOKEN": "  "})
    with pytest.raises(UnsafeConfiguration):
        check_arguments(["run", "--enable-api", "--cors", "*"], {"RASA_AUTH_TOKEN": "t"})
    assert check_arguments(["run", "actions", "--port", "5055"], {}) == ["run", "actions", "--port", "5055"]


def test_launcher_takes_the_token_from_the_environment_never_the_command_line(tmp_path):
    for flag in ("--auth-token", "-t"):
        with pytest.raises(UnsafeConfiguration, match="RASA_AUTH_TOKEN"):
            check_arguments(["run", "--enable-api", flag, "secret"], {"RASA_AUTH_TOKEN": "secret"})
    # The token is handed to Rasa inside the process; "=" keeps a token that starts with "-" a value.
    assert check_arguments(["run", "--enable-api", "--port", "1"], {"RASA_AUTH_TOKEN": "-tok"}) == [
        "run", "--enable-api", "--port", "1", "--auth-token=-tok",
    ]
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    assert check_arguments(["run", "--enable-api"], {"RASA_AUTH_TOKEN_FILE": str(token_file)})[-1] == (
        "--auth-token=from-a-file"
    )
    with pytest.raises(UnsafeConfiguration):
        check_arguments(["run", "--enable-api"], {"RASA_AUTH_TOKEN_FILE": str(tmp_path / "missing")})


def test_launcher_turns_a_comma_list_into_a_cors_allow_list():
    argv = ["run", "--cors", "https://a.example, https://b.example", "--port", "1"]
    expected = ["run", "--cors", "https://a.example", "https://b.example", "--port", "1"]
    assert check_arguments(argv, {}) == expected


def test_clinic_rasa_exits_before_starting_an_open_api():
    env = {k: v for k, v in os.environ.items() if not k.startswith("RASA_AUTH_TOKEN")}
    result = subprocess.run(
        [sys.executable, "-m", "clinic.hardening.launcher", "run", "--enable-api"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert result.returncode != 0
    assert "RASA_AUTH_TOKEN" in result.stderr


@pytest.mark.parametrize(
    "method, path, refused",
    [
        ("PUT", "/model", True),
        ("PUT", "/model/", True),
        ("DELETE", "/model", True),
        ("POST", "/model/train", True),
        ("POST", "/model/test/stories", True),
        ("POST", "/model/test/intents", True),
        ("POST", "/model/parse", False),
        ("GET", "/status", False),
        ("POST", "/webhooks/rest/webhook", False),
    ],
)
def test_model_changes_are_refused(method, path, refused):
    assert model_change_refused(method, path) is refused


def test_client_address_trusts_forwarded_for_only_from_a_trusted_proxy():
    assert client_address("10.0.0.5", "203.0.113.9", []) == "10.0.0.5"
    assert client_address("127.0.0.1", "203.0.113.9", ["127.0.0.1"]) == "203.0.113.9"
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.9", ["127.0.0.1"]) == "203.0.113.9"
    assert client_address("127.0.0.1", "203.0.113.9, 127.0.0.1", ["127.0.0.1"]) == "203.0.113.9"
    assert client_address("127.0.0.1", "not-an-ip", ["127.0.0.1"]) == "127.0.0.1"
    assert client_address("127.0.0.1", None, ["127.0.0.1"]) == "127.0.0.1"


def test_lock_store_url_gives_rasa_redis_arguments(monkeypatch):
    from rasa.core.lock_store import InMemoryLockStore

    from clinic.hardening.stores import LockStoreFromUrl, redis_lock_store_arguments

    assert redis_lock_store_arguments("redis://:s3cret@cache.example:6380/2?key_prefix=clinic") == {
        "host": "cache.example", "port": 6380, "db": 2, "use_ssl": False,
        "password": "s3cret", "key_prefix": "clinic",
    }
    assert redis_lock_store_arguments("rediss://cache.example")["use_ssl"] is True
    with pytest.raises(ValueError):
        redis_lock_store_arguments("http://cache.example")
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    assert isinstance(LockStoreFromUrl(None), InMemoryLockStore)


def test_redis_lock_store_issues_distinct_tickets_under_concurrency(redis_server):
    """Many processes' worth of simultaneous ticket requests: every ticket distinct, none lost."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from rasa.utils.endpoints import EndpointConfig

    from clinic.hardening.stores import LockStoreFromUrl

    url = f"{redis_server}?key_prefix=unit{uuid.uuid4().hex[:8]}"
    stores = [LockStoreFromUrl(EndpointConfig(url=url)) for _ in range(8)]  # separate clients, like servers
    conversation = "patient-1"
    with ThreadPoolExecutor(max_workers=8) as pool:
        tickets = list(pool.map(lambda n: stores[n % 8].issue_ticket(conversation), range(40)))
    assert sorted(tickets) == list(range(40))
    lock = stores[0].get_lock(conversation)
    assert len(lock.tickets) == 40
    for n, ticket in enumerate(tickets):
        stores[n % 8].cleanup(conversation, ticket)
    assert stores[0].get_lock(conversation) is None


def test_prepared_action_response_validation_accepts_and_refuses_like_rasa():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    from clinic.rasa_adapter import speedups

    speedups.install()
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:9"))
    assert action._validate_action_result({"events": [{"event": "slot", "name": "near_eye", "value": True}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})


def test_rate_limits_are_shared_by_every_server_through_redis(redis_server):
    """Two servers' limiters on one Redis: one budget per conversation, whichever server takes the message."""
    import asyncio
    import time
    import uuid

    from clinic.hardening.ratelimit import Rate, SharedRateLimiter

    url = f"{redis_server}?key_prefix=unit{uuid.uuid4().hex[:8]}:"

    async def scenario():
        first, second = (SharedRateLimiter(Rate(5, 1.0), url, scope="sender") for _ in range(2))
        taken = [await (first, second)[n % 2].acquire("whatsapp:+447911123456") for n in range(7)]
        other = await second.acquire("another-patient")
        await asyncio.sleep(0.5)  # five tokens a second: two back
        refilled = [await first.acquire("whatsapp:+447911123456") for _ in range(3)]
        together = await asyncio.gather(*(first.acquire("burst") for _ in range(20)))
        keys = [key async for key in first._redis.scan_iter(match=f"{url.split('=')[1]}*")]
        return taken, other, refilled, together, keys

    started = time.monotonic()
    taken, other, refilled, together, keys = asyncio.run(scenario())
    assert taken == [True] * 5 + [False] * 2
    assert other is True  # each conversation has its own budget
    if time.monotonic() - started < 0.9:  # (a very slow machine may refill more)
        assert refilled == [True, True, False]
    assert sum(together) == 5  # concurrent takes are atomic: never more than the budget
    assert keys and not any(b"447911" in key for key in keys)  # no phone number stored in Redis


def test_unreachable_rate_limit_store_lets_messages_through():
    import asyncio

    from clinic.hardening.ratelimit import Rate, SharedRateLimiter

    limiter = SharedRateLimiter(Rate(1, 60), "redis://127.0.0.1:9/1", scope="sender", timeout=0.5)
    assert asyncio.run(limiter.acquire("p")) is True


def test_rate_limits_use_redis_when_the_scale_out_profile_is_configured():
    from clinic.config import Settings
    from clinic.hardening.ratelimit import RateLimiter, SharedRateLimiter, rate_limiter

    def limiter_from_env(variable, default, scope, environ):
        return rate_limiter(environ.get(variable, default), scope, Settings.from_env(environ))

    redis = {"LOCK_STORE_URL": "redis://cache:6379/1?key_prefix=clinic:"}
    assert isinstance(limiter_from_env("RATE_LIMIT_PER_SENDER", "30/60", "sender", redis), SharedRateLimiter)
    explicit = {"RATE_LIMIT_STORE_URL": "redis://limits:6379/2"}
    assert isinstance(limiter_from_env("RATE_LIMIT_PER_IP", "600/60", "ip", explicit), SharedRateLimiter)
    local = {**redis, "RATE_LIMIT_STORE_URL": "memory"}
    assert isinstance(limiter_from_env("RATE_LIMIT_PER_IP", "600/60", "ip", local), RateLimiter)
    assert isinstance(limiter_from_env("RATE_LIMIT_PER_SENDER", "30/60", "sender", {}), RateLimiter)
    off = limiter_from_env("RATE_LIMIT_PER_SENDER", "0", "sender", redis)
    assert isinstance(off, RateLimiter) and off.rate is None
