"""A real Redis server for tests: TEST_REDIS_URL if set, else a private one (Debian's redis-server).

Like clinic/testing/postgres.py: `make test` installs the package (scripts/system-packages.sh); an unusable
TEST_REDIS_URL fails the tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from typing import Iterator

import redis

from clinic.testing.servers import stop_process


def check_server(url: str) -> None:
    """Ping once; raise with a clear message if the server is unusable."""
    try:
        redis.Redis.from_url(url, socket_timeout=10).ping()
    except redis.RedisError as error:
        raise RuntimeError(f"TEST_REDIS_URL={url} is set but unusable: {error}") from error


@contextmanager
def private_server() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (no persistence) for the block."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url, socket_timeout=1).ping()
                break
            except redis.RedisError:
                if process.poll() is not None:
                    raise RuntimeError("redis-server exited at start") from None
                time.sleep(0.1)
        yield url
    finally:
        stop_process(process, timeout=30)
