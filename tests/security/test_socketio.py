"""Attacks on the widget's socket.io channel: choosing another patient's id, a huge id, sharing a session."""

import asyncio
import concurrent.futures
import threading
import time

import httpx
import pytest
import socketio

from clinic.rasa_api import RasaClient
from clinic.testing.servers import API_TOKEN

pytestmark = pytest.mark.integration


class Patient:
    """A socket.io client as the widget is one (long-polling, as in the console's tests)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient()
        self.heard: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.client.on("bot_uttered", lambda data: self.heard.put_nowait(data.get("text", "")))
        self.client.on("session_confirm", lambda data: self.confirmed.put_nowait(data))

    async def __aenter__(self):
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        return self

    async def __aexit__(self, *exc):
        await self.client.disconnect()

    async def session(self, requested):
        await self.client.emit("session_request", {"session_id": requested})
        return await asyncio.wait_for(self.confirmed.get(), 60)

    async def say(self, text, session_id):
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})

    async def hears(self, seconds):
        said = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                said.append(await asyncio.wait_for(self.heard.get(), max(0.1, deadline - time.monotonic())))
            except asyncio.TimeoutError:
                break
        return said


def run(coroutine, timeout=240):
    # its own thread: another test module's Playwright may hold this thread's event loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=timeout)


def events_of(assistant, sender):
    return httpx.get(f"{assistant.url}/conversations/{sender}/tracker", params={"token": API_TOKEN},
                     timeout=30).json()["events"]


def test_a_phone_number_session_id_gets_a_fresh_session_and_no_sms_patients_messages(assistant):
    victim = "+4479" + str(int(time.time() * 1000))[-8:]
    assert assistant.sms(victim, "hi").status_code == 200

    async def attack():
        async with Patient(assistant.url) as attacker:
            session_id = await attacker.session(victim)
            await RasaClient(assistant.url, API_TOKEN).send_staff_reply(victim, "Dr Lee: your results", "kim")
            return session_id, await attacker.hears(5)

    session_id, heard = run(attack())
    assert session_id != victim and session_id.startswith("web:")
    assert not any("results" in text for text in heard)


def test_a_250000_character_session_id_is_replaced_while_the_server_keeps_answering(assistant):
    huge = "+44" + "7" * 250_000
    latencies = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            started = time.monotonic()
            httpx.get(f"{assistant.url}/version", timeout=30)
            latencies.append(time.monotonic() - started)
            time.sleep(0.1)

    prober = threading.Thread(target=probe)
    prober.start()

    async def attack():
        async with Patient(assistant.url) as attacker:
            session_id = await attacker.session(huge)
            await attacker.say("hi", huge)  # a message for the huge id: refused
            await attacker.say("hi " + "x" * 250_000, session_id)  # and a huge message on its own session
            return session_id, await attacker.hears(5)

    try:
        session_id, heard = run(attack())
        time.sleep(1)
    finally:
        stop.set()
        prober.join()
    assert session_id.startswith("web:") and len(session_id) < 100
    assert latencies and max(latencies) < 1.0, max(latencies)
    assert all(e["event"] != "user" for e in events_of(assistant, session_id))  # neither message stored


def test_two_sockets_cannot_share_a_conversation_by_guessing(assistant):
    async def attack():
        async with Patient(assistant.url) as patient, Patient(assistant.url) as attacker:
            mine = await patient.session(None)
            await patient.say("hi", mine)
            assert await patient.hears(20)
            body, _, signature = mine.rpartition(".")
            guessed = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
            theirs = await attacker.session(guessed)
            events_before = len(events_of(assistant, mine))
            await attacker.say("delete my data", mine)  # straight into the patient's session id
            await attacker.say("hi", theirs)
            heard_by_attacker = await attacker.hears(10)
            heard_by_patient = await patient.hears(3)
            return mine, theirs, events_before, heard_by_attacker, heard_by_patient

    mine, theirs, events_before, heard_by_attacker, heard_by_patient = run(attack())
    assert theirs != mine and theirs.startswith("web:")
    assert len(events_of(assistant, mine)) == events_before  # nothing written into the patient's conversation
    assert heard_by_attacker  # the attacker talks to the bot only in its own new conversation
    assert heard_by_patient == []  # and the patient hears nothing of it
    assert not any(e.get("text") == "delete my data" for e in events_of(assistant, theirs))
