"""Staff accounts: argon2 hashes, validation, the sign-in throttle's backoff, expiring sessions."""

from datetime import timedelta

import pytest

from clinic.db.engine import engine_for, session_factory
from clinic.db.migrate import upgrade
from clinic.staff.accounts import (
    AccountError,
    authenticate,
    create_user,
    end_session,
    resolve_session,
    start_session,
)
from clinic.staff.models import StaffSession, utcnow
from clinic.staff.throttle import SignInThrottle, Throttled

PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path, cheap_password_hashing):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    with session_factory(url)() as session:
        yield session


def test_passwords_are_stored_as_argon2_hashes(db):
    user = create_user(db, "Nurse.Kim", PASSWORD, "reviewer")
    assert user.username == "nurse.kim"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


@pytest.mark.parametrize("username, password, role, message", [
    ("ab", PASSWORD, "reviewer", "3-64 characters"),
    ("kim smith", PASSWORD, "reviewer", "3-64 characters"),
    ("kim", "short", "reviewer", "at least 10"),
    ("kim", PASSWORD, "owner", "Role must be one of"),
])
def test_bad_accounts_are_refused_with_a_reason(db, username, password, role, message):
    with pytest.raises(AccountError, match=message):
        create_user(db, username, password, role)


def test_duplicate_usernames_are_refused(db):
    create_user(db, "kim", PASSWORD, "admin")
    with pytest.raises(AccountError, match="already exists"):
        create_user(db, "KIM", PASSWORD, "reviewer")


def test_sign_in_checks_the_password(db):
    create_user(db, "kim", PASSWORD, "admin")
    assert authenticate(db, "kim", "wrong password") is None
    assert authenticate(db, "nobody", PASSWORD) is None
    assert authenticate(db, " KIM ", PASSWORD).username == "kim"


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def throttle(tmp_path):
    url = f"sqlite:///{tmp_path / 'throttle.db'}"
    upgrade(url)
    clock = Clock()
    return SignInThrottle(engine_for(url), clock=clock), clock


def waits(throttle, keys, attempts):
    """Reserve `attempts` times, as fast as allowed; the waits (s) each refusal asked for."""
    found = []
    for _ in range(attempts):
        try:
            throttle.reserve(keys)
        except Throttled as refused:
            found.append(refused.retry_after)
            throttle.clock.now += refused.retry_after
    return found


def test_backoff_doubles_after_the_free_attempts_up_to_the_cap(throttle):
    throttle, clock = throttle
    keys = throttle.keys("kim", "10.0.0.1")
    for _ in range(3):
        throttle.reserve(keys)  # three free attempts
    with pytest.raises(Throttled) as refused:
        throttle.reserve(keys)
    assert refused.value.retry_after == 1 and refused.value.kind == "pair"
    assert waits(throttle, keys, 30)[:6] == [1, 2, 4, 8, 16, 32]
    assert max(waits(throttle, keys, 10)) == 900  # never more than 15 minutes: no hard lock


def test_a_refused_attempt_counts_nothing_and_pushes_no_wait_further(throttle):
    throttle, clock = throttle
    keys = throttle.keys("kim", "10.0.0.1")
    for _ in range(3):
        throttle.reserve(keys)
    for _ in range(100):
        with pytest.raises(Throttled):
            throttle.reserve(keys)
    assert [throttle.failures(k) for k in keys] == [3, 3, 3]
    clock.now += 1
    throttle.reserve(keys)


def test_the_real_user_is_not_stopped_by_an_attacker_elsewhere(throttle):
    throttle, clock = throttle
    attacker = throttle.keys("kim", "203.0.113.9")
    waits(throttle, attacker, 100)
    user = throttle.keys("kim", "10.0.0.1")
    throttle.reserve(user)  # the real user's own address: no wait
    throttle.succeeded(user)


def test_a_known_device_is_its_own_key_even_when_the_username_is_under_attack(throttle):
    throttle, clock = throttle
    for n in range(40):  # a distributed guesser: 3 guesses from each of 40 addresses
        for _ in range(3):
            try:
                throttle.reserve(throttle.keys("kim", f"198.51.100.{n}"))
            except Throttled as refused:
                assert refused.kind == "username" and refused.retry_after <= 300
    with pytest.raises(Throttled) as refused:
        throttle.reserve(throttle.keys("kim", "10.0.0.1"))  # a new browser: the username key waits
    assert refused.value.kind == "username" and refused.value.retry_after <= 300
    device = throttle.keys("kim", "10.0.0.1", device="d" * 32)
    throttle.reserve(device)  # the browser kim signed in with before is not slowed down
    throttle.succeeded(device)


def test_success_clears_the_users_own_key_and_gives_the_shared_ones_their_attempt_back(throttle):
    throttle, clock = throttle
    keys = throttle.keys("kim", "10.0.0.1")
    throttle.reserve(keys)
    throttle.reserve(keys)
    throttle.succeeded(keys)
    pair, address, username = keys
    assert (throttle.failures(pair), throttle.failures(address), throttle.failures(username)) == (0, 1, 1)
    throttle.reserve(keys)
    throttle.release(keys)  # reserved but never checked (server busy): doesn't count
    assert throttle.failures(pair) == 0


def test_failures_are_forgotten_after_a_quiet_day(throttle):
    throttle, clock = throttle
    keys = throttle.keys("kim", "10.0.0.1")
    waits(throttle, keys, 8)
    clock.now += 24 * 3600 + 1
    throttle.reserve(keys)
    assert throttle.failures(keys[0]) == 1


def test_sessions_expire_and_end_on_sign_out(db):
    user = create_user(db, "kim", PASSWORD, "reviewer")
    token, row = start_session(db, user, timedelta(hours=8))
    assert resolve_session(db, token)[0].username == "kim"
    assert resolve_session(db, token + "x") is None
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert resolve_session(db, token) is None
    token2, _ = start_session(db, user, timedelta(hours=8))
    end_session(db, token2)
    assert resolve_session(db, token2) is None
    assert db.get(StaffSession, row.token_hash) is None or row.expires_at < utcnow()


def test_disabled_staff_cannot_use_their_session_or_sign_in(db):
    user = create_user(db, "kim", PASSWORD, "reviewer")
    token, _ = start_session(db, user, timedelta(hours=8))
    user.active = False
    assert resolve_session(db, token) is None
    assert authenticate(db, "kim", PASSWORD) is None
