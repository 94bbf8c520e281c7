"""A Rasa server started for one attack, with its own configuration (no model: channels and API only)."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator

import httpx

from clinic.testing.servers import BIN, ROOT, RunningAssistant, free_port, stop_process, wait_until


@contextmanager
def modelless_rasa(workdir: Path, **env: str) -> Iterator[str]:
    """`clinic-rasa run` with the clinic's channels and API but no model (quick to start); its URL."""
    running = RunningAssistant(workdir=workdir, extra_env=env)
    port = free_port()
    log = open(workdir / "rasa-nomodel.log", "ab")
    process = subprocess.Popen(
        [str(BIN / "clinic-rasa"), "run", "--model", str(workdir / "no-model"), "--endpoints",
         str(ROOT / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml"), "--port", str(port),
         "--enable-api"],
        cwd=workdir, env=running.env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/version").status_code == 200,
                   300, "Rasa server (no model)", lambda: process.poll() is None)
        yield url
    finally:
        stop_process(process)


def process_command_lines() -> Dict[int, str]:
    """Every process's command line as `ps` shows it to any user of the machine."""
    done = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True)
    lines = {}
    for line in done.stdout.splitlines():
        pid, _, args = line.strip().partition(" ")
        lines[int(pid)] = args
    return lines
