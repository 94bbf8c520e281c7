"""`make run` / `make run-scaled` as a user starts them: the real script, supervisord and all, on free ports.

`SupervisedRun(script, workdir, env).start()` runs scripts/run.sh (or run-scaled.sh) in its own process
group with VAR_DIR=workdir (logs in workdir/log, supervisord's socket in workdir/supervisor) and throw-away
databases; `pid(name)` asks supervisorctl; `kill(name)` kills a process as a crash would (SIGKILL);
`interrupt()` is Ctrl-C: SIGINT to the script's process group, as a terminal sends it.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import httpx

from clinic.config import child_environment
from clinic.testing.servers import BIN, ROOT, wait_until

STAFF_SECRET_KEY = "supervised-staff-secret"
API_TOKEN = "supervised-api-token"
ACTION_SERVER_TOKEN = "supervised-action-server-token"


def service_ports(count: int) -> List[int]:
    """`count` consecutive free ports below Linux's ephemeral range (32768-60999).

    Ports for servers that start seconds or minutes later: a port from the ephemeral range (what binding
    port 0 gives) can meanwhile become the local end of any outgoing connection on this shared machine.
    """
    while True:
        first = random.randrange(17000, 32000 - count)
        probes = [socket.socket() for _ in range(count)]
        try:
            for offset, probe in enumerate(probes):
                probe.bind(("0.0.0.0", first + offset))
            return [first + offset for offset in range(count)]
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()


def effective(name: str, ours: str) -> str:
    """The value the script will use: scripts/env.sh reads the checkout's .env over the environment."""
    env_file = ROOT / ".env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1].strip()
    return ours


@dataclass
class SupervisedRun:
    """One run of a run script; the ports and stores come from `env`."""

    script: str
    workdir: Path
    env: Dict[str, str] = field(default_factory=dict)
    process: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> SupervisedRun:
        """Start the script (a new session, like a terminal's foreground job)."""
        env = child_environment()
        env.update(
            VAR_DIR=str(self.workdir),
            DATABASE_URL=f"sqlite:///{self.workdir / 'clinic.db'}",
            TRACKER_STORE_URL=f"sqlite:///{self.workdir / 'tracker.db'}",
            RASA_AUTH_TOKEN=API_TOKEN,
            ACTION_SERVER_TOKEN=ACTION_SERVER_TOKEN,
            STAFF_SECRET_KEY=STAFF_SECRET_KEY,
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="3",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        env.update(self.env)
        for derived in ("ACTION_ENDPOINT_URL", "RASA_URL", "LOCK_STORE_URL"):  # from the ports, by env.sh
            if derived not in self.env:
                env.pop(derived, None)
        self.output = open(self.workdir / "script.log", "wb")
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / self.script)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    @property
    def api_token(self) -> str:
        """The Rasa HTTP API's token in this run."""
        return effective("RASA_AUTH_TOKEN", API_TOKEN)

    @property
    def action_server_token(self) -> str:
        """The action server's secret in this run."""
        return effective("ACTION_SERVER_TOKEN", ACTION_SERVER_TOKEN)

    def alive(self) -> bool:
        """The script (supervisord) still runs."""
        return self.process is not None and self.process.poll() is None

    def wait_for(self, url: str, timeout: float, what: str) -> float:
        """Seconds until GET url answers 200 (fails if the script exits first)."""
        started = time.monotonic()
        wait_until(
            lambda: httpx.get(url, timeout=5).status_code == 200, timeout, what, self._alive_or_explain
        )
        return time.monotonic() - started

    def _alive_or_explain(self) -> bool:
        if not self.alive():
            print(self.logs(), file=sys.stderr)
        return self.alive()

    def supervisorctl(self, *args: str) -> str:
        """Run supervisorctl against this run's supervisord; its output."""
        done = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(self.workdir / "supervisor" / "supervisord.conf"), *args],
            capture_output=True, text=True, timeout=60,
        )
        return done.stdout

    def pid(self, name: str) -> int:
        """The process id of program `name` (0 when it is not running)."""
        return int(self.supervisorctl("pid", name).strip() or 0)

    def kill(self, name: str) -> int:
        """SIGKILL program `name`, as a crash would; its pid."""
        pid = self.pid(name)
        assert pid > 0, self.supervisorctl("status")
        os.kill(pid, signal.SIGKILL)
        return pid

    def programs(self) -> List[int]:
        """The pids of every program supervisord has started (also those still STARTING), 0 for none."""
        return [int(line) for line in self.supervisorctl("pid", "all").split()]

    def interrupt(self, timeout: float = 90) -> int:
        """Ctrl-C: SIGINT to the script's process group; its exit code."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Stop whatever is left (a test that failed midway)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output.close()

    def log(self, name: str) -> str:
        """A program's log (workdir/log/NAME.log)."""
        path = self.workdir / "log" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """The script's output and supervisord's log, for failure messages."""
        script = (self.workdir / "script.log").read_text(errors="replace")
        return script[-3000:] + "\n" + self.log("supervisord")[-3000:]


def process_exists(pid: int) -> bool:
    """A process with this id is alive: any of its threads is not a zombie.

    The main thread of a killed multi-threaded process (Rasa's) turns zombie first, while its other
    threads are still exiting and still hold its files, the listening socket among them.
    """
    try:
        threads = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for thread in threads:
        try:
            state = (thread / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            return True
    return False
