"""Start the real action server, Rasa server and web app for tests and benchmarks.

`RunningAssistant.start()` launches both on free ports with a throw-away SQLite tracker store and
a migrated throw-away clinic database (the clinic's schedule loaded), waits until the model is loaded,
and offers the REST channel, the SMS/WhatsApp channel (Twilio webhook, signed with a test token) and the
HTTP API. `clinic(...)` runs the clinic's console script against the same database.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote

import httpx

from clinic.booking.handlers import sync_schedule
from clinic.booking.schedule import load_schedule
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.config import child_environment
from clinic.db.migrate import upgrade
from clinic.testing.twilio_fake import message_form, signed_request

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "clinic.tar.gz"
API_TOKEN = "integration-test-token"
# The secret Rasa sends the action server (endpoints.yml); the action server refuses calls without it.
ACTION_TOKEN = "integration-action-server-token"
# The staff console's secret in tests (signs cookies, derives conversation keys).
STAFF_SECRET_KEY = "integration-staff-secret"
# The Twilio channel runs with test credentials; its REST calls go to a local fake, never to Twilio.
TWILIO_TEST_TOKEN = "integration-twilio-auth-token"
TWILIO_TEST_NUMBER = "+15005550006"
TWILIO_UNREACHABLE_API = "http://127.0.0.1:9"
BIN = Path(sys.executable).parent
CORS_ORIGIN = "http://localhost:8000"


def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(
    check: Callable[[], object], timeout: float, what: str, alive: Callable[[], bool] = lambda: True
) -> None:
    """Poll `check()` until it returns truthy or `timeout` seconds pass (or `alive()` fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"{what} exited before it was ready")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


@dataclass
class RunningAssistant:
    """The action server and Rasa server, as a patient's channel and the clinic see them."""

    workdir: Path
    extra_env: Dict[str, str] = field(default_factory=dict)
    # Origins whose pages may call Rasa from a browser (`rasa run --cors`), e.g. the web app's.
    cors: List[str] = field(default_factory=lambda: [CORS_ORIGIN])
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    processes: List[subprocess.Popen[bytes]] = field(default_factory=list)
    # The clinic database's URL (default: a SQLite file in workdir).
    clinic_database: Optional[str] = None
    _actions: Optional[subprocess.Popen[bytes]] = None
    _rasa: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def database_url(self) -> str:
        """The clinic database the servers use (migrated by `start`): `clinic_database`, else SQLite."""
        return self.clinic_database or f"sqlite:///{self.workdir / 'clinic.db'}"

    @property
    def tracker_store_url(self) -> str:
        """The SQL tracker store Rasa writes (the staff console reads it)."""
        return f"sqlite:///{self.workdir / 'tracker.db'}"

    @property
    def twilio_webhook_url(self) -> str:
        """Where Twilio would post inbound SMS/WhatsApp messages."""
        return f"{self.url}/webhooks/twilio/webhook"

    @property
    def env(self) -> Dict[str, str]:
        """Environment both servers run with."""
        env = child_environment()
        env.update(
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            TRACKER_STORE_URL=self.tracker_store_url,
            LOCK_STORE_URL="",
            RASA_AUTH_TOKEN=API_TOKEN,
            ACTION_SERVER_TOKEN=ACTION_TOKEN,
            RASA_TELEMETRY_ENABLED="false",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            TF_CPP_MIN_LOG_LEVEL="3",
            DATABASE_URL=self.database_url,
            TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TWILIO_AUTH_TOKEN=TWILIO_TEST_TOKEN,
            TWILIO_NUMBER=TWILIO_TEST_NUMBER,
            TWILIO_WEBHOOK_URL="",
            TWILIO_API_BASE_URL=TWILIO_UNREACHABLE_API,
            TWILIO_SEND_ATTEMPTS="2",
            # Tests pose as many clients: X-Forwarded-For from localhost names the client, and only
            # clients so named are limited per address (100 requests a minute).
            RATE_LIMIT_TRUSTED_PROXIES="127.0.0.1",
            RATE_LIMIT_PER_IP="100/60",
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, args: List[str], log_name: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / log_name, "ab")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start(self, with_actions: bool = True, timeout: float = 600) -> RunningAssistant:
        """Start the servers and wait until the model answers (stopping them if they can't)."""
        try:
            upgrade(self.database_url)  # what `make run` does first: migrations, then the clinic's schedule
            now = datetime.now(timezone.utc)
            sync_schedule(unit_of_work_factory(self.database_url), load_schedule(), now)
            if with_actions:
                self.start_actions(timeout)
            self.start_rasa(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_actions(self, timeout: float = 600) -> None:
        """Start the action server (again) and wait until it is healthy."""
        self._actions = self._spawn(
            [str(BIN / "clinic-rasa"), "run", "actions", "--actions", "actions",
             "--port", str(self.action_port)],
            "actions.log",
        )
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{self.action_port}/health").status_code == 200,
            timeout,
            "action server",
            self._alive,
        )

    def start_rasa(self, timeout: float = 600) -> None:
        """Start the Rasa server (again) and wait until its model is loaded."""
        self._rasa = self._spawn(
            [str(BIN / "clinic-rasa"), "run", "--model", str(MODEL), "--endpoints",
             str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml"),
             "--port", str(self.rasa_port), "--enable-api",  # the token: RASA_AUTH_TOKEN in env
             *(["--cors", *self.cors] if self.cors else [])],
            "rasa.log",
        )
        wait_until(
            lambda: httpx.get(f"{self.url}/status", params={"token": API_TOKEN}).json().get(
                "model_file"
            ),
            timeout,
            "Rasa server",
            self._alive,
        )

    def stop_actions(self) -> None:
        """Stop the action server (a fault the bot must survive)."""
        self._stop(self._actions)

    def stop_rasa(self) -> None:
        """Stop the Rasa server."""
        self._stop(self._rasa)

    def _stop(self, process: Optional[subprocess.Popen[bytes]]) -> None:
        if process is None or process not in self.processes:
            return
        stop_process(process)
        self.processes.remove(process)

    def _alive(self) -> bool:
        dead = [p for p in self.processes if p.poll() is not None]
        if dead:
            print(self.log("rasa.log")[-3000:], self.log("actions.log")[-3000:], file=sys.stderr)
        return not dead

    def stop(self) -> None:
        """Stop every process this object started."""
        for process in self.processes:
            process.terminate()
        for process in list(self.processes):
            self._stop(process)

    def clinic(self, *args: str) -> str:
        """Run `.venv/bin/clinic ARGS` against the assistant's database; its output."""
        done = subprocess.run(
            [str(BIN / "clinic"), *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"clinic {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def say(self, sender: str, text: str, timeout: float = 30) -> List[Dict[str, Any]]:
        """Send a message through the REST channel; return the bot's messages."""
        response = httpx.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=timeout,
        )
        response.raise_for_status()
        messages: List[Dict[str, Any]] = response.json()
        return messages

    def tracker(self, sender: str) -> Dict[str, Any]:
        """The conversation's tracker through the authenticated HTTP API."""
        response = httpx.get(
            f"{self.url}/conversations/{quote(sender, safe='+:@')}/tracker",
            params={"token": API_TOKEN},
            timeout=30,
        )
        response.raise_for_status()
        tracker: Dict[str, Any] = response.json()
        return tracker

    def sms(self, sender: str, body: Optional[str], timeout: float = 30, **fields: str) -> httpx.Response:
        """Post an inbound SMS/WhatsApp message to the Twilio webhook, signed as Twilio signs it."""
        data, headers = signed_request(self.twilio_webhook_url, message_form(sender, body, **fields),
                                       TWILIO_TEST_TOKEN)
        return httpx.post(self.twilio_webhook_url, content=data, headers=headers, timeout=timeout)

    def log(self, name: str = "rasa.log") -> str:
        """A server's log so far, for failure messages."""
        path: Optional[Path] = self.workdir / name
        return path.read_text(errors="replace") if path and path.exists() else ""


@dataclass
class RunningWebApp:
    """The clinic's web app (widget, demo page, staff console) under uvicorn, as `make run` starts it."""

    workdir: Path
    extra_env: Dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        """Base URL (and browser origin) of the web app."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> RunningWebApp:
        """Start uvicorn and wait for /health."""
        env = child_environment()
        env.update(
            DATABASE_URL=f"sqlite:///{self.workdir / 'clinic.db'}",
            WEB_PORT=str(self.port),
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        env.update(self.extra_env)
        log = open(self.workdir / "web.log", "wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "uvicorn"), "--factory", "clinic.web.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--ws", "none", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: httpx.get(f"{self.url}/health").status_code == 200,
                timeout,
                "web app",
                lambda: self.process is not None and self.process.poll() is None,
            )
        except BaseException:
            print((self.workdir / "web.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop uvicorn."""
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def log(self) -> str:
        """The web app's log so far, for failure messages."""
        path = self.workdir / "web.log"
        return path.read_text(errors="replace") if path.exists() else ""
