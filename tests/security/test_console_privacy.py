"""Patients' contact details and the audit log, against the real web app.

Every page a reviewer can open is scanned for the seeded phone number and e-mail addresses (in the
sender ids, transcript text, bot and staff messages, buttons, entities, slots, bookings, names); the
admin's pages show them (proving the scan looks where they are). Every read is audited; anonymous
requests, however many, write no audit row.
"""

import html
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from clinic.db.engine import session_factory
from clinic.privacy import conversation_key
from clinic.staff.models import AuditEntry
from clinic.testing.booking import TUESDAY
from tests.security.console_support import (
    CLEAR_VALUES,
    EMAIL,
    OTHER_EMAIL,
    PHONE,
    SECRET,
    SMS_SENDER,
    WEB_SENDER,
    WHATSAPP_SENDER,
    SignIn,
    client,
    csrf_of,
    signed_in,
    start_console,
)

pytestmark = pytest.mark.integration

# Independent of the masking's own patterns: any e-mail address, any run of 7+ digits that is not part
# of a word (conversation keys in links are hex).
ANY_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DIGIT_RUN = re.compile(r"(?<!\w)\+?\d(?:[\s().\-]{0,2}\d){6,}(?!\w)")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SVG = re.compile(r"<svg.*?</svg>", re.DOTALL)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    running = start_console(tmp_path_factory.mktemp("console-privacy"))
    yield running
    running.app.stop()


def keys():
    return [conversation_key(SECRET, s) for s in (SMS_SENDER, WHATSAPP_SENDER, WEB_SENDER)]


def reviewer_pages():
    day = TUESDAY.isoformat()
    pages = ["/staff/conversations", f"/staff/conversations?q={PHONE.replace('+', '%2B')}",
             "/staff/conversations?channel=twilio", "/staff/inbox", "/staff/insights",
             f"/staff/bookings?day={day}", f"/staff/bookings?day={day}&view=week",
             "/staff/audit", "/staff/export/conversations.csv"]
    for key in keys():
        pages += [f"/staff/conversations/{key}", f"/staff/conversations/{key}?details=1"]
    return pages


def leaks(text):
    """Contact details in clear on a page."""
    text = html.unescape(text)
    found = [value for value in CLEAR_VALUES if value in text]
    text = SVG.sub("", text)  # the insights charts: coordinates, not contact details (searched above)
    found += [e for e in ANY_EMAIL.findall(text) if "•••" not in e]
    found += [run for run in DIGIT_RUN.findall(text)
              if sum(c.isdigit() for c in run) >= 7 and not DATE.fullmatch(run)]
    return found


def test_reviewers_see_no_phone_number_or_email_on_any_page(console):
    reviewer = signed_in(console, "rita")
    for path in reviewer_pages():
        response = reviewer.get(path)
        assert response.status_code in (200, 403), (path, response.status_code)
        assert leaks(response.text) == [], (path, leaks(response.text))
    transcript = html.unescape(reviewer.get(f"/staff/conversations/{keys()[0]}?details=1").text)
    # masked, not dropped: the reviewer still sees that a number and an address were given
    assert "+44•••56" in transcript and "07•••56" in transcript and "j•••@example.com" in transcript
    assert "patient_contact" in transcript and "Dr Lee here" in transcript


def test_admins_see_the_contact_details_in_clear(console):
    admin = signed_in(console, "adam")
    transcript = html.unescape(admin.get(f"/staff/conversations/{keys()[0]}?details=1").text)
    assert PHONE in transcript and EMAIL in transcript and OTHER_EMAIL in transcript
    bookings = html.unescape(admin.get(f"/staff/bookings?day={TUESDAY.isoformat()}").text)
    assert PHONE in bookings and OTHER_EMAIL in bookings


def audit_rows(console, **where):
    with session_factory(console.database_url)() as db:
        query = select(AuditEntry)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(db.scalars(query))


def test_every_read_of_patient_data_is_audited(console):
    reviewer = signed_in(console, "kim")
    reads = {
        "/staff/conversations": "list conversations",
        f"/staff/conversations?q={PHONE.replace('+', '%2B')}": "search conversations",
        f"/staff/conversations/{keys()[0]}": "view transcript",
        "/staff/inbox": "view inbox",
        "/staff/insights": "view insights",
        f"/staff/bookings?day={TUESDAY.isoformat()}": "view bookings",
    }
    for path, action in reads.items():
        before = len(audit_rows(console, username="kim", action=action))
        assert reviewer.get(path).status_code == 200
        rows = audit_rows(console, username="kim", action=action)
        assert len(rows) == before + 1, path
        assert rows[-1].client_ip == "127.0.0.1"
        assert PHONE not in (rows[-1].target or "") + (rows[-1].detail or "")
    assert audit_rows(console, username="kim", action="view transcript")[-1].target == keys()[0]


def test_a_phone_number_typed_into_a_url_is_not_kept_in_clear(console):
    reviewer = signed_in(console, "kim")
    assert reviewer.get(f"/staff/conversations/{PHONE}").status_code == 404
    assert reviewer.post(f"/staff/bookings/{PHONE}/no-show",
                         data={"csrf_token": csrf_of(reviewer.get("/staff/inbox").text)}).status_code == 404
    rows = audit_rows(console, username="kim", outcome="refused")
    assert len(rows) >= 2 and not [r for r in rows if PHONE[3:] in (r.target or "") + (r.detail or "")]
    assert PHONE[3:] not in console.app.log()


def count_audit_rows(console):
    with session_factory(console.database_url)() as db:
        return db.scalar(select(func.count()).select_from(AuditEntry))


def test_an_anonymous_flood_writes_no_audit_row(console):
    before = count_audit_rows(console)
    paths = ["/staff/conversations", f"/staff/conversations/{keys()[0]}", "/staff/audit", "/staff/inbox"]

    def anonymous(n):
        with client(console, f"127.0.6.{n % 50 + 1}") as http:
            statuses = [http.get(paths[n % len(paths)]).status_code]
            statuses.append(http.post(f"/staff/conversations/{keys()[0]}/reply",
                                      data={"csrf_token": "x", "message": "hi"}).status_code)
            statuses.append(http.post("/staff/login", data={"username": "adam", "password": "x",
                                                            "csrf_token": "forged"}).status_code)
        form = SignIn(console, f"127.0.7.{n % 50 + 1}")
        statuses.append(form.attempt(f"nobody{n}", "wrong").status_code)
        form.close()
        return statuses

    with ThreadPoolExecutor(8) as pool:
        outcomes = [status for statuses in pool.map(anonymous, range(100)) for status in statuses]
    assert set(outcomes) <= {303, 401, 403, 429, 503}, set(outcomes)
    assert len(outcomes) == 400
    assert count_audit_rows(console) == before  # 400 anonymous requests, not one audit row
    assert "more anonymous refusals" in console.app.log() or "refused anonymous" in console.app.log()
