"""The staff console against the real assistant: handoff round trip, erasure, and a real browser."""

import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from clinic.conversations.repository import ConversationRepository
from clinic.conversations.store import tracker_engine
from clinic.db.engine import session_factory
from clinic.privacy import conversation_key
from clinic.staff.models import AuditEntry
from clinic.testing.twilio_fake import twiml_texts
from tests.integration.browser import screenshot_path, watch
from tests.integration.chat import new_sender, texts
from tests.integration.conftest import STAFF_SECRET_KEY

pytestmark = pytest.mark.integration

PASSWORD = "integration-password"
XSS = '<img src=x onerror="alert(1)"><script>alert("xss")</script> my bump is hard'


@pytest.fixture(scope="module")
def staff(assistant, web_app):
    """An admin and a reviewer, added with `clinic staff add` (password on stdin)."""
    clinic = Path(sys.executable).parent / "clinic"
    env = {"DATABASE_URL": assistant.database_url, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    for username, role in (("kim", "reviewer"), ("ada", "admin")):
        result = subprocess.run([str(clinic), "staff", "add", username, "--role", role],
                                input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert f"Added {username} ({role})." in result.stdout
    return {"reviewer": "kim", "admin": "ada"}


class Console:
    """A signed-in staff member's HTTP client (what a browser's form posts send)."""

    def __init__(self, web_app, username):
        self.client = httpx.Client(base_url=web_app.url, timeout=30, follow_redirects=True)
        page = self.client.get("/staff/login")
        response = self.client.post("/staff/login", data={
            "username": username, "password": PASSWORD, "csrf_token": self.csrf(page.text),
            "next": "/staff/conversations"})
        assert response.status_code == 200 and response.url.path == "/staff/conversations", response.text

    @staticmethod
    def csrf(html):
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def get(self, path):
        return self.client.get(path)

    def post(self, path, page, **data):
        return self.client.post(path, data={"csrf_token": self.csrf(page), **data})


def audited(assistant, action, username, target):
    with session_factory(assistant.database_url)() as db:
        return db.query(AuditEntry).filter_by(action=action, username=username, target=target).count()


def test_handoff_round_trip_through_the_rest_channel(assistant, web_app, staff):
    sender = new_sender()
    key = conversation_key(STAFF_SECRET_KEY, sender)
    assistant.say(sender, "hi")
    reply = assistant.say(sender, "I want to speak to a human")
    assert "member of staff will reply" in texts(reply)
    assert assistant.tracker(sender)["paused"] is True
    # Waiting: told once that the team has the message, then quiet; a red flag is always answered.
    reply = texts(assistant.say(sender, "hello? is anyone there?"))
    assert "your message is with our team" in reply
    assert assistant.say(sender, "ok thanks") == []
    reply = texts(assistant.say(sender, "it's started bleeding a lot"))
    assert "needs a doctor" in reply and "Our team will still reply" in reply
    assert assistant.tracker(sender)["paused"] is True

    console = Console(web_app, staff["reviewer"])
    inbox = console.get("/staff/inbox").text
    assert f"/staff/conversations/{key}" in inbox
    page = console.get(f"/staff/conversations/{key}").text
    assert "hello? is anyone there?" in page and "waiting for a person" in page
    response = console.post(f"/staff/conversations/{key}/reply", page,
                            message="Hi, I'm Kim, a nurse at Vitawell. How can I help?")
    assert "Your reply was sent" in response.text

    events = assistant.tracker(sender)["events"]
    staff_says = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("staff_reply")]
    assert [e["text"] for e in staff_says] == ["Hi, I'm Kim, a nurse at Vitawell. How can I help?"]
    assert staff_says[0]["metadata"]["staff"] == "kim"
    assert assistant.tracker(sender)["paused"] is True
    page = response.text
    assert "staff reply by kim" in page

    response = console.post(f"/staff/conversations/{key}/hand-back", page)
    assert "back with the bot" in response.text
    tracker = assistant.tracker(sender)
    assert tracker["paused"] is False
    last = tracker["events"][-1]
    assert last["event"] == "bot" and "back with Vitawell's assistant" in last["text"]
    assert f"/staff/conversations/{key}" not in console.get("/staff/inbox").text
    assert "milia" in texts(assistant.say(sender, "what are milia?")).lower()  # the bot answers again
    assert audited(assistant, "staff reply", "kim", key) == 1
    assert audited(assistant, "hand back", "kim", key) == 1
    assert audited(assistant, "view transcript", "kim", key) >= 1


def test_staff_can_take_over_a_conversation_whose_id_is_a_phone_number(assistant, web_app, staff):
    sender = f"+4477009{uuid.uuid4().int % 100000:05d}"  # SMS ids: the + must reach Rasa literally
    key = conversation_key(STAFF_SECRET_KEY, sender)
    repo = ConversationRepository(tracker_engine(assistant.tracker_store_url))
    assert assistant.sms(sender, "I have a white bump").status_code == 200  # phone ids: SMS only
    console = Console(web_app, staff["admin"])
    page = console.get(f"/staff/conversations/{key}").text
    response = console.post(f"/staff/conversations/{key}/take-over", page)
    assert "You have taken over" in response.text
    assert repo.summary_for(sender).paused is True
    assert any("has joined the conversation" in (e["data"] or "") for e in repo.events_for(sender))
    assert twiml_texts(assistant.sms(sender, "ok").text) == []
    assert repo.sender_ids().count(sender) == 1 and not any(s.startswith("%2B") for s in repo.sender_ids())


def test_a_question_for_the_team_by_sms_lands_in_the_inbox_and_the_staff_reply_is_texted_back(
        assistant, web_app, staff, fake_twilio):
    """Issue 15: passed on without a pause, marked as a question (channel, words); answered by SMS."""
    sender = f"+4477009{uuid.uuid4().int % 100000:05d}"
    key = conversation_key(STAFF_SECRET_KEY, sender)
    question = "is it safe to have it done while im pregnant"
    said = " ".join(twiml_texts(assistant.sms(sender, question).text))
    assert "That's a good question for our team, and please ask your GP" in said, said
    said = " ".join(twiml_texts(assistant.sms(sender, "yes").text))
    assert "passed your question to our team" in said, said
    repo = ConversationRepository(tracker_engine(assistant.tracker_store_url))
    assert repo.summary_for(sender).paused is False  # a question, not a handoff: the bot goes on
    assert "milia" in " ".join(twiml_texts(assistant.sms(sender, "what are milia?").text)).lower()

    console = Console(web_app, staff["reviewer"])
    inbox = console.get("/staff/inbox").text
    row = re.search(rf"<tr>(?:(?!</tr>).)*{key}(?:(?!</tr>).)*</tr>", inbox, re.S)
    assert row, inbox
    assert '<span class="tag question">question</span>' in row.group(0) and question in row.group(0)
    assert "twilio" in row.group(0) and "asked for a person" not in row.group(0)

    page = console.get(f"/staff/conversations/{key}").text
    assert "a question for the team, awaiting a reply" in page and "bot paused" not in page
    answer = "Hello from Vitawell: please check with your GP first; we'd be glad to see you after."
    response = console.post(f"/staff/conversations/{key}/reply", page, message=answer)
    assert "Your reply was sent" in response.text
    assert answer in fake_twilio.api.to(sender)  # texted to the patient's own number
    assert f"/staff/conversations/{key}" not in console.get("/staff/inbox").text  # answered: off the list
    assert "a question for the team, awaiting a reply" not in console.get(f"/staff/conversations/{key}").text
    assert audited(assistant, "staff reply", "kim", key) == 1


def test_delete_my_data_only_after_the_patient_confirms(assistant, web_app, staff):
    sender = new_sender()
    repo = ConversationRepository(tracker_engine(assistant.tracker_store_url))
    assistant.say(sender, "hi")
    assert "can't be undone" in texts(assistant.say(sender, "delete my data"))
    assert "nothing has been deleted" in texts(assistant.say(sender, "/deny"))
    assert repo.events_for(sender)
    assistant.say(sender, "please erase my information")
    assert "I've deleted this conversation" in texts(assistant.say(sender, "/affirm"))
    assert repo.events_for(sender) == []
    console = Console(web_app, staff["admin"])
    key = conversation_key(STAFF_SECRET_KEY, sender)
    assert console.get(f"/staff/conversations/{key}").status_code == 404
    # the patient can start afresh
    assert "not a diagnosis" in texts(assistant.say(sender, "hi"))


# --- in a real browser ----------------------------------------------------------------------------

def sign_in(page, web_app, username):
    page.goto(f"{web_app.url}/staff/conversations")
    assert "/staff/login" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/staff/conversations$"))


def test_browser_sign_in_find_a_conversation_and_read_an_xss_payload_as_text(assistant, web_app, staff,
                                                                              browser):
    sender = new_sender()
    assistant.say(sender, XSS)
    context = browser.new_context()
    page = context.new_page()
    seen = watch(page)
    try:
        sign_in(page, web_app, staff["reviewer"])
        page.get_by_label("Search by sender id").fill(sender)
        page.get_by_role("button", name="Filter").click()
        rows = page.locator("tbody tr")
        assert rows.count() == 1
        assert sender not in rows.first.inner_text()  # reviewers see the sender masked
        rows.first.get_by_role("link", name="Open").click()
        page.wait_for_url(re.compile(r".*/staff/conversations/[0-9a-f]{24}$"))
        patient = page.locator('.bubble[data-kind="user"]').first
        assert patient.inner_text().startswith(XSS)
        assert page.locator(".chat img").count() == 0 and page.locator(".chat script").count() == 0
        page.get_by_role("link", name="Show intents, confidences and slots").click()
        assert "intent " in page.locator('.bubble[data-kind="user"]').first.inner_text()
        page.screenshot(path=str(screenshot_path("staff-transcript.png")), full_page=True)
        assert seen.dialogs == [] and seen.errors == []
    finally:
        context.close()


def test_browser_without_a_session_is_sent_to_sign_in(web_app, browser):
    context = browser.new_context()
    page = context.new_page()
    try:
        for path in ("/staff/insights", "/staff/inbox", "/staff/audit"):
            page.goto(f"{web_app.url}{path}")
            assert "/staff/login" in page.url
            assert page.get_by_role("button", name="Sign in").is_visible()
        response = context.request.post(f"{web_app.url}/staff/logout", form={"csrf_token": "x"})
        assert response.status == 401
    finally:
        context.close()


def test_browser_with_a_forged_csrf_token_is_refused(assistant, web_app, staff, browser):
    sender = new_sender()
    assistant.say(sender, "hello")
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, web_app, staff["admin"])
        page.goto(f"{web_app.url}/staff/conversations/{conversation_key(STAFF_SECRET_KEY, sender)}")
        page.locator('form[action$="/take-over"] input[name="csrf_token"]').evaluate(
            "input => { input.value = 'forged-token'; }")
        page.get_by_role("button", name="Take over from the bot").click()
        assert "security token is missing or wrong" in page.locator("p.error").inner_text()
        assert assistant.tracker(sender)["paused"] is False
    finally:
        context.close()



def test_a_staff_reply_reaches_a_socketio_patient_live(assistant, web_app, staff):
    """The widget's channel: the reply is pushed to the patient's open socket.io session."""
    import asyncio
    import concurrent.futures

    import socketio

    reply_text = "Hello from the Vitawell team: we can see you tomorrow at 10."

    async def patient():
        received: asyncio.Queue = asyncio.Queue()
        client = socketio.AsyncClient()
        client.on("bot_uttered", lambda data: received.put_nowait(data.get("text", "")))
        client.on("session_confirm", lambda data: received.put_nowait(("confirmed", data)))
        # long-polling: this engineio release needs a newer aiohttp for its websocket transport
        await client.connect(assistant.url, socketio_path="/socket.io", transports=["polling"])
        try:
            await client.emit("session_request", {"session_id": None})  # the server issues the id
            confirmed, session_id = await asyncio.wait_for(received.get(), 30)
            assert confirmed == "confirmed"
            key = conversation_key(STAFF_SECRET_KEY, session_id)
            await client.emit("user_uttered", {"message": "can I talk to someone", "session_id": session_id})
            said = []
            while not any("member of staff will reply" in t for t in said):
                said.append(await asyncio.wait_for(received.get(), 60))
            console = await asyncio.to_thread(Console, web_app, staff["reviewer"])
            page = (await asyncio.to_thread(console.get, f"/staff/conversations/{key}")).text
            response = await asyncio.to_thread(console.post, f"/staff/conversations/{key}/reply", page,
                                               message=reply_text)
            assert "Your reply was sent" in response.text
            return await asyncio.wait_for(received.get(), 30)
        finally:
            await client.disconnect()

    # its own thread: Playwright's sync API may hold this thread's event loop (browser fixture)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, patient()).result(timeout=180) == reply_text


def test_staff_clear_an_urgent_conversation_and_it_is_audited(assistant, web_app, staff):
    sender = new_sender("urgent")
    key = conversation_key(STAFF_SECRET_KEY, sender)
    assert "NHS 111" in texts(assistant.say(sender, "it's started bleeding"))
    assert "warning sign earlier" in texts(assistant.say(sender, "I have a white bump on my cheek"))

    console = Console(web_app, staff["reviewer"])
    page = console.get(f"/staff/conversations/{key}").text
    assert "Clear the warning sign" in page
    response = console.post(f"/staff/conversations/{key}/clear-urgent", page)
    assert "warning sign is cleared" in response.text and "Clear the warning sign" not in response.text
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] is None and not slots["red_flags"]
    assert audited(assistant, "clear urgent", "kim", key) == 1
    assert "hard" in texts(assistant.say(sender, "I have a white bump on my cheek")).lower()  # triaged again
