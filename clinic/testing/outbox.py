"""The outbox in tests: a real SMTP server (aiosmtpd) on localhost, and `clinic worker` run as a process."""

from __future__ import annotations

import email
import subprocess
import threading
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from aiosmtpd.controller import Controller

from clinic.config import child_environment
from clinic.testing.booking import TEST_SCHEDULE

ROOT = Path(__file__).resolve().parents[2]
CLINIC = str(ROOT / ".venv" / "bin" / "clinic")
CLINIC_ADDRESS = "12 Harley Mews, London W1G 7PQ"
EMAIL_FROM = "Vitawell Clinic <bookings@vitawell.example>"


class _Collector:
    def __init__(self) -> None:
        self.messages: List[Message] = []
        self.envelopes: List[Dict[str, object]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=default_policy)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos)})
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's SMTP server on 127.0.0.1: every message it accepts, parsed."""

    def __init__(self, port: int) -> None:
        self.collector = _Collector()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=port)

    @property
    def url(self) -> str:
        """SMTP_URL of the server."""
        return f"smtp://127.0.0.1:{self.controller.port}"

    @property
    def messages(self) -> List[Message]:
        """Every message accepted so far."""
        with self.collector.lock:
            return list(self.collector.messages)

    def to(self, address: str) -> List[Message]:
        """The messages sent to `address`."""
        return [m for m in self.messages if address in str(m["To"])]

    def start(self) -> SmtpServer:
        """Start listening."""
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()


def clinic_file(directory: Path) -> Path:
    """The test schedule as a clinic file, with the clinic's details (its address: the .ics LOCATION)."""
    clinic = yaml.safe_load((ROOT / "config" / "clinic.yml").read_text(encoding="utf-8"))["clinic"]
    path = directory / "clinic.yml"
    path.write_text(yaml.safe_dump({**TEST_SCHEDULE, "clinic": {**clinic, "address": CLINIC_ADDRESS}}),
                    encoding="utf-8")
    return path


def worker_env(database_url: str, smtp_url: str, twilio_url: str, schedule_file: Path,
               **extra: str) -> Dict[str, str]:
    """The worker's environment: these stores and servers, the test Twilio account, `extra` last."""
    ours = ("TWILIO_", "SMTP_", "REMINDER_")
    env = {k: v for k, v in child_environment().items() if not k.startswith(ours)}
    env.update({
        "DATABASE_URL": database_url, "SMTP_URL": smtp_url, "CLINIC_EMAIL_FROM": EMAIL_FROM,
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "test-token",
        "TWILIO_NUMBER": "+15005550006", "TWILIO_API_BASE_URL": twilio_url,
        "CLINIC_SCHEDULE_FILE": str(schedule_file),
    })
    env.update(extra)
    return env


def start_worker(env: Dict[str, str], now: Optional[str] = None) -> subprocess.Popen[str]:
    """`clinic worker --once [--now NOW]` as its own process."""
    command = [CLINIC, "worker", "--once"] + (["--now", now] if now else [])
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def run_worker(env: Dict[str, str], now: Optional[str] = None, timeout: float = 120) -> str:
    """Run `clinic worker --once` to the end; its output (it must succeed)."""
    process = start_worker(env, now)
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


