"""Attacks on the staff console's sign-in, against the real web app under uvicorn.

Lockout abuse (an attacker's failures must not stop the real user), parallel guesses (each one counted
before its password check), and a flood of password checks (argon2 bounded: excess answered at once).
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from clinic.db.engine import engine_for, session_factory
from clinic.staff.models import AuditEntry
from clinic.staff.throttle import SignInThrottle, Throttled
from tests.security.console_support import PASSWORD, SignIn, client, csrf_of, start_console

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    # Two password checks at a time, so a burst shows what happens to the excess.
    running = start_console(tmp_path_factory.mktemp("console-sign-in"), STAFF_PASSWORD_CHECKS="2")
    yield running
    running.app.stop()


def audit_rows(console) -> int:
    with session_factory(console.database_url)() as db:
        return db.scalar(select(func.count()).select_from(AuditEntry))


def test_an_attackers_100_failures_do_not_stop_the_real_user_from_their_own_address(console):
    before = audit_rows(console)
    attacker = SignIn(console, "127.0.0.2")
    statuses = [attacker.attempt("kim", f"guess {n}").status_code for n in range(100)]
    # three guesses are checked, then each waits twice as long; a refused guess is neither checked
    # nor counted (only the few let through after a wait are)
    assert statuses[:3] == [401, 401, 401] and set(statuses) == {401, 429}, statuses
    assert statuses.count(401) <= 10 and statuses.count(429) >= 90, statuses  # 3 + one per doubled wait
    throttled = attacker.attempt("kim", PASSWORD)  # even the right password waits, from there
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in throttled.text and "try again in" in throttled.text

    user = SignIn(console, "127.0.0.1")
    response = user.attempt("kim", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/staff/conversations"
    assert user.http.get("/staff/conversations").status_code == 200
    # the attacker's 100 tries wrote no audit row; the real user's sign-in (and page) did
    with session_factory(console.database_url)() as db:
        new = list(db.scalars(select(AuditEntry).where(AuditEntry.id > before)))
    assert [(e.action, e.username, e.client_ip) for e in new] == [
        ("login", "kim", "127.0.0.1"), ("list conversations", "kim", "127.0.0.1")]


def test_a_distributed_attack_slows_the_username_down_but_not_a_device_that_signed_in_before(console):
    # rita signed in from this browser before: it carries her (signed) device cookie
    browser = SignIn(console, "127.0.0.1")
    assert browser.attempt("rita", PASSWORD).status_code == 303
    browser.http.cookies.delete("vitawell_staff")  # her session is over; the device cookie stays
    browser.nonce = csrf_of(browser.http.get("/staff/login").text)

    statuses = []
    for n in range(100):  # 100 guesses from 34 addresses, 3 from each (the per-address free attempts)
        attacker = SignIn(console, f"127.0.3.{n // 3 + 1}")
        statuses.append(attacker.attempt("rita", f"guess {n}").status_code)
        attacker.close()
    assert statuses.count(401) <= 20 and statuses.count(429) >= 80, statuses  # the username key
    for n in range(50):  # until a guess from a new address must wait 2 s or more for the username
        last = SignIn(console, f"127.0.5.{n + 1}").attempt("rita", "one more guess")
        if last.status_code == 429 and int(last.headers["retry-after"]) >= 2:
            break
    assert last.status_code == 429

    stranger = SignIn(console, "127.0.0.9")  # a browser that never signed in as rita
    refused = stranger.attempt("rita", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) <= 300  # capped: no lockout
    response = browser.attempt("rita", PASSWORD)  # her own browser is not slowed down
    assert response.status_code == 303, response.text


def test_50_parallel_guesses_get_no_more_password_checks_than_the_free_attempts(console):
    barrier = threading.Barrier(50)

    def guess(n):
        form = SignIn(console, "127.0.0.3")
        barrier.wait()
        try:
            return form.attempt("adam", f"parallel guess {n}").status_code
        finally:
            form.close()

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(guess, range(50)))
    assert len(statuses) == 50 and set(statuses) <= {401, 429, 503}, statuses
    assert statuses.count(401) <= 3, statuses  # counted before the check: 3 free attempts, not 50
    assert statuses.count(429) >= 47 - statuses.count(503)
    throttle = SignInThrottle(engine_for(console.database_url))
    pair = throttle.keys("adam", "127.0.0.3")[0]
    assert throttle.failures(pair) == statuses.count(401)


def test_a_burst_of_password_checks_is_bounded_and_the_console_keeps_answering(console):
    barrier = threading.Barrier(40)
    timings = []

    def guess(n):
        form = SignIn(console, f"127.0.4.{n + 1}")  # 40 addresses, 40 usernames: no key is shared
        barrier.wait()
        started = time.monotonic()
        try:
            response = form.attempt(f"nobody{n}", "a guess")
            return response.status_code, response.headers.get("retry-after"), time.monotonic() - started
        finally:
            form.close()

    stop = threading.Event()

    def watch_login_page():
        with client(console, "127.0.0.8") as http:
            while not stop.is_set():
                started = time.monotonic()
                assert http.get("/staff/login").status_code == 200
                timings.append(time.monotonic() - started)
                time.sleep(0.05)

    watcher = threading.Thread(target=watch_login_page)
    watcher.start()
    try:
        with ThreadPoolExecutor(40) as pool:
            results = list(pool.map(guess, range(40)))
    finally:
        stop.set()
        watcher.join()
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {401, 503} and 503 in statuses, statuses
    assert all(retry == "1" for status, retry, _ in results if status == 503)
    # the excess is refused at once, not queued behind the argon2 checks: answered sooner than the
    # checked attempts (compared within the run, so the shared machine's load cancels out)
    busy = [elapsed for status, _, elapsed in results if status == 503]
    checked = [elapsed for status, _, elapsed in results if status == 401]
    assert statistics.median(busy) < statistics.median(checked), (busy, checked)
    assert timings and max(timings) < 1.0, timings  # and the console kept answering meanwhile


def test_reservations_are_atomic_on_postgresql_too(postgres_server):
    from clinic.db.migrate import upgrade
    from clinic.testing.postgres import fresh_database

    with fresh_database(postgres_server) as url:
        upgrade(url)
        throttle = SignInThrottle(engine_for(url))
        keys = throttle.keys("kim", "198.51.100.7")
        barrier = threading.Barrier(30)

        def reserve(_):
            barrier.wait()
            try:
                throttle.reserve(keys)
                return "checked"
            except Throttled:
                return "throttled"

        with ThreadPoolExecutor(30) as pool:
            outcomes = list(pool.map(reserve, range(30)))
        assert outcomes.count("checked") == 3 and outcomes.count("throttled") == 27
        assert [throttle.failures(k) for k in keys] == [3, 3, 3]
        engine_for(url).dispose()


def test_a_sign_in_from_anywhere_but_localhost_sets_secure_cookies(console):
    with httpx.Client(base_url=console.url, headers={"Host": "console.vitawell.example"}) as http:
        page = http.get("/staff/login")
        assert "Secure" in page.headers["set-cookie"]
        assert "only signs in over HTTPS" in page.text
    with client(console) as http:  # http://127.0.0.1: a developer's machine
        assert "Secure" not in http.get("/staff/login").headers["set-cookie"]
        # a TLS proxy on this host that passes Host: 127.0.0.1 but says it was HTTPS
        proxied = http.get("/staff/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in proxied.headers["set-cookie"]
