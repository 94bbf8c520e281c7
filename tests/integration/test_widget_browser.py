"""The website chat widget in real headless Chromium, against the real web app and the real assistant."""

import asyncio
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml
from playwright.sync_api import expect

from clinic.rasa_api import RasaClient
from clinic.testing.servers import API_TOKEN
from tests.integration.browser import screenshot_path, watch
from tests.integration.relay import TcpRelay

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = "Chat with us"
CANT_REACH = "can't reach the clinic's assistant right now"
REPLY_TIMEOUT = 60_000  # ms: the first answer of a session also runs the action server

MESSAGES_JS = """() => [...document.getElementById('vitawell-chat').shadowRoot.querySelectorAll('.msg')]
  .map(m => ({who: m.classList.contains('user') ? 'user' : 'bot',
              text: [...m.querySelectorAll('.bubble p')].map(p => p.textContent).join('\\n\\n'),
              pending: !m.querySelector('.meta').hidden}))"""


class Widget:
    """The chat widget as a patient uses it (roles and names, as a screen reader sees them)."""

    def __init__(self, page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=LAUNCHER)
        self.log = page.get_by_role("log")
        self.box = page.get_by_role("textbox", name="Message")
        self.typing = page.locator("#vitawell-chat .typing")
        self.status = page.locator("#vitawell-chat .status")
        self.note = page.locator("#vitawell-chat .note")

    def open(self) -> None:
        self.launcher.click()
        expect(self.box).to_be_focused()

    def messages(self) -> List[Dict]:
        return self.page.evaluate(MESSAGES_JS)

    def bot_texts(self) -> List[str]:
        return [m["text"] for m in self.messages() if m["who"] == "bot"]

    def wait_for_opening(self) -> None:
        expect(self.log).to_contain_text("not a diagnosis", timeout=REPLY_TIMEOUT)
        expect(self.typing).to_be_hidden(timeout=REPLY_TIMEOUT)

    def ask(self, text: Optional[str] = None, button: Optional[str] = None) -> List[str]:
        """Type `text` (or press the quick reply `button`) and return the bot's answers."""
        before = len(self.messages())
        if button:
            self.log.get_by_role("button", name=button, exact=True).click()
        else:
            self.box.fill(text or "")
            self.box.press("Enter")
        expect(self.typing).to_be_hidden(timeout=REPLY_TIMEOUT)  # Rasa acknowledged: all replies are in
        return [m["text"] for m in self.messages()[before:] if m["who"] == "bot"]

    def session_id(self) -> str:
        return self.page.evaluate("localStorage.getItem('vitawell-chat/session')")

    def stored(self) -> List[Dict]:
        return json.loads(
            self.page.evaluate(
                "localStorage.getItem('vitawell-chat/log/' + localStorage.getItem('vitawell-chat/session'))"
            )
        )


def eventually(page, check, what: str, timeout: float = REPLY_TIMEOUT / 1000) -> None:
    """Poll `check()`, letting Playwright deliver its events meanwhile (no blind sleeps)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f} s")
        page.wait_for_timeout(100)


def domain_texts() -> List[str]:
    texts = []
    for path in (ROOT / "domain").glob("*.yml"):
        for variants in (yaml.safe_load(path.read_text()) or {}).get("responses", {}).values():
            texts += [v.get("text", "") for v in variants]
    return texts


def is_the_bots_own_words(paragraph: str) -> bool:
    return any(paragraph.strip() in text for text in domain_texts())


def new_page(browser, **context_args):
    context = browser.new_context(**({"viewport": {"width": 1280, "height": 800}} | context_args))
    page = context.new_page()
    return context, page, watch(page)


def test_a_patient_triages_with_quick_replies_and_the_history_survives_reload_and_tabs(
    web_app, assistant, browser
):
    context, page, seen = new_page(browser)
    page.goto(web_app.url + "/")
    chat = Widget(page)
    chat.open()
    expect(chat.log).to_have_attribute("aria-live", "polite")
    chat.wait_for_opening()  # the disclaimer opens the conversation

    answers = chat.ask("there's a little white bump on my face")
    # Answer the triage questions with the quick replies the bot offers, as a patient would tap them.
    choices = ["Hard", "No fluid", "Forehead", "No, none of these"]
    for _ in range(5):
        if any("milium" in a for a in answers):
            break
        offered = chat.log.locator(".replies button").all_inner_texts()
        assert offered, f"the bot's question came without quick replies: {answers}"
        answers = chat.ask(button=next(c for c in choices if c in offered))
    assert any("milium" in a for a in answers), answers
    said = [m["text"] for m in chat.messages() if m["who"] == "user"]
    assert "Hard" in said and not any(s.startswith("/") for s in said)  # titles shown, not payloads

    # Rasa knows this conversation under the widget's stable session id.
    session = chat.session_id()
    assert re.fullmatch(r"web:[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}", session)  # issued by the server
    assert assistant.tracker(session)["slots"]["triage_result"] == "milia"

    before = chat.messages()
    page.reload()
    expect(chat.log).to_contain_text("milium")
    assert chat.messages() == before
    assert chat.session_id() == session
    assert sum("Vitawell's assistant" in m["text"] for m in before) == 1  # one disclaimer

    tab = context.new_page()
    second = Widget(tab)
    tab.goto(web_app.url + "/")
    second.open()
    expect(second.log).to_contain_text("milium")
    assert second.messages() == before
    answers = second.ask("what are milia?")
    assert answers and all(is_the_bots_own_words(a) for a in answers), answers
    expect(chat.log).to_contain_text(answers[-1])  # the first tab follows the conversation
    assert chat.messages() == second.messages() == [
        {"who": e["who"], "text": e["text"], "pending": False} for e in second.stored()
    ]
    assert seen.dialogs == [] and seen.errors == []
    context.close()


def test_hostile_and_odd_input_is_shown_as_text_and_answered_politely(web_app, browser):
    context, page, seen = new_page(browser)
    page.goto(web_app.url + "/")
    chat = Widget(page)
    chat.open()
    chat.wait_for_opening()

    xss = "<img src=x onerror=alert(1)>"
    answers = chat.ask(xss)
    assert chat.messages()[-1 - len(answers)] == {"who": "user", "text": xss, "pending": False}
    assert answers and all(is_the_bots_own_words(a) for a in answers)
    assert page.locator("#vitawell-chat img").count() == 0

    emoji = "😊 there's a hard white bump near my eye 👀"
    answers = chat.ask(emoji)
    assert {"who": "user", "text": emoji, "pending": False} in chat.messages()
    assert answers and all(is_the_bots_own_words(a) for a in answers)

    count = len(chat.messages())
    chat.box.fill("      ")
    chat.box.press("Enter")
    expect(chat.note).to_have_text("Please type a message first.")
    assert len(chat.messages()) == count  # nothing sent

    chat.box.focus()
    page.keyboard.insert_text("my bump is hard and white " * 770)  # a 20,020-character paste
    assert len(chat.box.input_value()) == 1000
    expect(chat.note).to_contain_text("up to 1,000 characters")
    chat.box.press("Enter")
    expect(chat.typing).to_be_hidden(timeout=REPLY_TIMEOUT)
    messages = chat.messages()
    sent = [m for m in messages if m["who"] == "user"][-1]
    assert len(sent["text"]) <= 1000 and sent["text"].startswith("my bump is hard")
    assert messages[-1]["who"] == "bot" and is_the_bots_own_words(messages[-1]["text"])
    expect(chat.note).to_be_empty()

    # Start over: a new session, a new disclaimer, the old conversation gone from this browser.
    old_session = chat.session_id()
    page.get_by_role("button", name="Start over").click()
    chat.wait_for_opening()
    assert chat.session_id() != old_session
    assert [m["who"] for m in chat.messages()] == ["bot", "bot"]
    assert seen.dialogs == [] and seen.errors == []
    context.close()


def test_typing_indicator_and_bot_markup_shown_as_text_with_only_http_links(web_app, browser):
    """Sits on the live websocket: holds Rasa's frames, then injects a bot message with markup and links."""
    context, page, seen = new_page(browser)
    from_page: List[str] = []
    routes: List = []
    held: List[str] = []
    hold = []

    def relay(ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: (from_page.append(message), server.send(message)))
        server.on_message(lambda message: held.append(message) if hold else ws.send(message))
        routes.append(ws)

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), relay)
    page.goto(web_app.url + "/")
    chat = Widget(page)
    chat.open()
    chat.wait_for_opening()
    eventually(page, lambda: "5" in from_page, what="upgrade to the websocket")

    hold.append(True)  # Rasa's answer is on its way, but not delivered yet
    chat.box.fill("what are milia?")
    chat.box.press("Enter")
    expect(chat.typing).to_be_visible()
    expect(chat.typing).to_contain_text("The assistant is typing")
    eventually(page, lambda: any(m.startswith("43") for m in held), what="Rasa's acknowledgement")
    hold.clear()
    for message in held:
        routes[-1].send(message)
    expect(chat.typing).to_be_hidden()
    assert chat.messages()[-1]["who"] == "bot"

    text = (
        "See [our milia page](https://vitawell.example/milia) or https://vitawell.example/faq.\n\n"
        "<img src=x onerror=alert(2)> <b>not bold</b> [click](javascript:alert(3)) javascript:alert(4)"
    )
    buttons = [{"title": "<i>Book</i>", "payload": "/book_appointment"}]
    routes[-1].send("42" + json.dumps(["bot_uttered", {"text": text, "quick_replies": buttons}]))

    expect(chat.log).to_contain_text("<b>not bold</b>")
    links = chat.log.get_by_role("link")
    expect(links).to_have_count(2)
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [
        "https://vitawell.example/milia", "https://vitawell.example/faq",
    ]
    for i in range(2):
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
        assert links.nth(i).get_attribute("target") == "_blank"
    expect(links.first).to_have_text("our milia page")
    # every character shown, as text (a markdown link shows its label)
    shown = text.replace("[our milia page](https://vitawell.example/milia)", "our milia page")
    assert chat.bot_texts()[-1] == shown
    assert page.locator("#vitawell-chat img, #vitawell-chat b, #vitawell-chat i").count() == 0
    expect(chat.log.get_by_role("button", name="<i>Book</i>")).to_be_visible()
    assert seen.dialogs == [] and seen.errors == []
    context.close()


def test_bot_down_shows_a_clear_message_retries_and_sends_the_kept_message(web_app, assistant, browser):
    relay = TcpRelay(assistant.rasa_port)  # the bot's address, not accepting connections yet
    context, page, seen = new_page(browser)
    try:
        # Any page of the clinic's site with the one tag, pointing at the bot's (unreachable) address.
        # (A page of the real web app, so that Chrome's local-network rules see a loopback page.)
        page.goto(web_app.url + "/health")
        page.set_content(
            f'<!doctype html><title>Vitawell</title><script src="/widget.js" '
            f'data-bot-url="http://127.0.0.1:{relay.port}"></script>'
        )
        chat = Widget(page)
        chat.open()
        expect(chat.status).to_contain_text(CANT_REACH)
        chat.box.fill("hi")
        chat.box.press("Enter")
        assert chat.messages() == [{"who": "user", "text": "hi", "pending": True}]
        expect(chat.log).to_contain_text("Not sent yet")
        page.screenshot(path=str(screenshot_path("widget-bot-down.png")))

        relay.open()  # the bot is back: automatic retry, then the kept message goes out
        expect(chat.log).to_contain_text("not a diagnosis", timeout=REPLY_TIMEOUT)
        expect(chat.status).to_be_hidden()
        expect(chat.typing).to_be_hidden(timeout=REPLY_TIMEOUT)
        assert chat.messages()[0] == {"who": "user", "text": "hi", "pending": False}

        relay.close()  # the connection drops mid-conversation
        expect(chat.status).to_contain_text(CANT_REACH)
        chat.box.fill("what are milia?")
        chat.box.press("Enter")
        assert chat.messages()[-1] == {"who": "user", "text": "what are milia?", "pending": True}
        relay.open()
        expect(chat.status).to_be_hidden(timeout=REPLY_TIMEOUT)
        expect(chat.typing).to_be_hidden(timeout=REPLY_TIMEOUT)
        eventually(page, lambda: chat.messages()[-1]["who"] == "bot", what="the answer")
        said = [m["text"] for m in chat.messages() if m["who"] == "user"]
        assert said == ["hi", "what are milia?"]  # each kept message sent exactly once
        assert all(is_the_bots_own_words(t) for t in chat.bot_texts())
        assert seen.dialogs == []
    finally:
        relay.close()
        context.close()


def test_pages_from_origins_not_in_the_cors_list_cannot_reach_the_bot(web_app, browser):
    context, page, _ = new_page(browser)
    page.goto(web_app.url.replace("127.0.0.1", "localhost") + "/")  # same app, origin not allowed
    chat = Widget(page)
    chat.open()
    expect(chat.status).to_contain_text(CANT_REACH)
    assert chat.messages() == []
    context.close()


CONTRAST_JS = """selectors => {
  const root = document.getElementById('vitawell-chat').shadowRoot;
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = el => { for (let e = el; e; e = e.parentElement || e.getRootNode().host) {
      const c = getComputedStyle(e).backgroundColor; const v = rgb(c);
      if (v.length < 4 || v[3] > 0) return c; }
    return 'rgb(255, 255, 255)'; };
  return selectors.map(s => { const el = root.querySelector(s);
    const [a, b] = [lum(getComputedStyle(el).color), lum(background(el))];
    return [s, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}"""

FOCUSED_JS = """() => { const el = document.getElementById('vitawell-chat').shadowRoot.activeElement;
  if (!el) return null; const s = getComputedStyle(el);
  return {tag: el.tagName, cls: el.className, outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth)}; }"""


def test_phone_screen_keyboard_only_contrast_and_screenshot(web_app, browser):
    context, page, seen = new_page(browser, viewport={"width": 360, "height": 740}, has_touch=True)
    page.goto(web_app.url + "/")
    chat = Widget(page)

    for _ in range(6):  # Tab through the page until the launcher has the focus
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused and "launcher" in focused["cls"]:
            break
    assert focused and "launcher" in focused["cls"], focused
    assert focused["outline"] == "solid" and focused["width"] >= 2  # visible focus
    page.keyboard.press("Enter")
    expect(chat.box).to_be_focused()
    chat.wait_for_opening()

    page.keyboard.type("I have a white bump")
    page.keyboard.press("Enter")
    expect(chat.typing).to_be_hidden(timeout=REPLY_TIMEOUT)
    expect(chat.log.locator(".replies button").first).to_be_visible()
    before = len(chat.messages())
    page.keyboard.press("Shift+Tab")  # from the message box back to the last quick reply
    focused = page.evaluate(FOCUSED_JS)
    assert focused["tag"] == "BUTTON" and focused["outline"] == "solid"
    page.keyboard.press("Enter")
    expect(chat.box).to_be_focused()
    expect(chat.typing).to_be_hidden(timeout=REPLY_TIMEOUT)
    assert len(chat.messages()) > before + 1  # the quick reply and the bot's answer

    box = page.locator("#vitawell-chat .panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ratios = dict(page.evaluate(CONTRAST_JS, [
        ".msg.user .bubble", ".msg.bot .bubble", ".replies button", ".send", "textarea", "h2", ".subtitle",
    ]))
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios
    page.screenshot(path=str(screenshot_path("widget-360.png")))

    page.keyboard.press("Escape")  # closes the chat, focus back on the launcher
    expect(page.locator("#vitawell-chat .panel")).to_be_hidden()
    assert "launcher" in page.evaluate(FOCUSED_JS)["cls"]
    assert seen.dialogs == [] and seen.errors == []
    context.close()


def run_coroutine(coroutine):
    """Run an async client call on its own thread (Playwright's sync API holds this thread's loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def test_a_staff_reply_reaches_the_patient_in_the_widget(web_app, assistant, browser):
    """Staff answer through Rasa's HTTP API on the patient's latest channel: the socket.io room."""
    context, page, seen = new_page(browser)
    page.goto(web_app.url + "/")
    chat = Widget(page)
    chat.open()
    chat.wait_for_opening()
    assert chat.ask("I'd like to talk to a person")

    reply = "Hello, this is Kim at Vitawell. Our address: https://vitawell.example/visit <b>see you</b>"
    client = RasaClient(assistant.url, API_TOKEN)
    run_coroutine(client.send_staff_reply(chat.session_id(), reply, "kim"))
    expect(chat.log).to_contain_text("this is Kim at Vitawell")
    assert chat.bot_texts()[-1] == reply
    expect(chat.log.get_by_role("link", name="https://vitawell.example/visit")).to_have_attribute(
        "rel", "noopener noreferrer"
    )
    page.reload()  # recorded in the widget's history too
    expect(chat.log).to_contain_text("this is Kim at Vitawell")
    assert seen.dialogs == [] and seen.errors == []
    context.close()


def test_a_patient_books_an_extraction_in_the_widget_and_the_clinic_sees_it(web_app, assistant, browser):
    """Triage near the eye, then booking with the widget's buttons, as a patient taps them."""
    context, page, seen = new_page(browser, viewport={"width": 360, "height": 740})
    page.goto(web_app.url + "/")
    chat = Widget(page)
    chat.open()
    chat.wait_for_opening()
    answers = chat.ask("a hard white bump under my eye, no pus")
    assert any("is any of these happening" in a for a in answers), answers  # the warning signs first
    answers = chat.ask(button="No, none of these")
    assert any("permanent scarring" in a for a in answers), answers
    answers = chat.ask(button="Book an extraction")
    assert any("When would you like to come in?" in a for a in answers), answers
    times = chat.log.locator(".replies button").all_inner_texts()
    assert len(times) == 4, times
    chat.ask(button=times[-1])
    chat.ask("Maya Okafor")
    answers = chat.ask("maya.okafor@example.com")
    assert "Name: Maya Okafor" in " ".join(answers) and "Shall I book it?" in answers, answers
    answers = chat.ask(button="Yes, book it")
    reference = re.search(r"\bVW-[A-Z0-9]{6}\b", " ".join(answers))
    assert reference and any("lancet" in a for a in answers), answers

    listed = json.loads(assistant.clinic("bookings", "list", "--week", "--date", "today", "--json"))
    listed += json.loads(assistant.clinic("bookings", "list", "--week", "--date",
                                          time.strftime("%Y-%m-%d", time.localtime(time.time() + 7 * 86400)),
                                          "--json"))
    row = next(r for r in listed if r["reference"] == reference.group(0))
    assert row["sender_id"] == chat.session_id() and row["triage_result"] == "milia"
    assert row["bump_location"] == "eye_area" and row["contact"] == "maya.okafor@example.com"
    said = [m["text"] for m in chat.messages() if m["who"] == "user"]
    assert "Yes, book it" in said and not any(s.startswith("/") for s in said)
    page.screenshot(path=str(screenshot_path("widget-booking-360.png")))
    assert seen.dialogs == [] and seen.errors == []
    context.close()
