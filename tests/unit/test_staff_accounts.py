"""Staff accounts: argon2 hashes, validation, rate-limited sign-in, expiring sessions."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.db.engine import session_factory
from clinic.db.migrate import upgrade
from clinic.staff.accounts import (
    AccountError,
    RateLimit,
    TooManyAttempts,
    authenticate,
    create_user,
    end_session,
    resolve_session,
    start_session,
)
from clinic.staff.models import LoginFailure, StaffSession, utcnow

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


def test_sign_in_checks_the_password_and_records_failures(db):
    create_user(db, "kim", PASSWORD, "admin")
    assert authenticate(db, "kim", "wrong password", "10.0.0.1") is None
    assert authenticate(db, "nobody", PASSWORD, "10.0.0.1") is None
    assert len(list(db.scalars(select(LoginFailure)))) == 2
    assert authenticate(db, " KIM ", PASSWORD, "10.0.0.1").username == "kim"
    # success clears that user's failures
    assert [f.username for f in db.scalars(select(LoginFailure))] == ["nobody"]


def test_sign_in_is_rate_limited_per_username_even_with_the_right_password(db):
    create_user(db, "kim", PASSWORD, "admin")
    limit = RateLimit(per_user=3, per_ip=100, window=timedelta(minutes=15))
    for _ in range(3):
        assert authenticate(db, "kim", "guess", "10.0.0.2", limit) is None
    with pytest.raises(TooManyAttempts):
        authenticate(db, "kim", PASSWORD, "10.0.0.3", limit)


def test_sign_in_is_rate_limited_per_address(db):
    create_user(db, "kim", PASSWORD, "admin")
    limit = RateLimit(per_user=100, per_ip=4)
    for i in range(4):
        authenticate(db, f"user{i}", "guess", "10.0.0.9", limit)
    with pytest.raises(TooManyAttempts):
        authenticate(db, "kim", PASSWORD, "10.0.0.9", limit)
    assert authenticate(db, "kim", PASSWORD, "10.0.0.10", limit) is not None


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
    assert authenticate(db, "kim", PASSWORD, "10.0.0.1") is None
