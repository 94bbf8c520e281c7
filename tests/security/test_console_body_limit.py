"""Oversized bodies against the real web app: a chunked 200 MB sign-in is cut off early with 413 while
the console keeps answering; a declared huge Content-Length is refused before anything is read."""

import select
import socket
import threading
import time

import pytest

from tests.security.console_support import client, start_console

pytestmark = pytest.mark.integration

MB = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    running = start_console(tmp_path_factory.mktemp("console-body"))
    yield running
    running.app.stop()


def read_response(sock: socket.socket, timeout: float = 10) -> bytes:
    """Whatever the server answered before closing (a reset after the answer is fine)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"</p>"):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def upload_chunked(port: int, total: int):
    """POST /staff/login with a chunked body of `total` bytes, as fast as the server takes it.

    Returns (bytes handed to the socket before the server answered or cut the connection, answer).
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /staff/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
    frame = f"{CHUNK:x}\r\n".encode() + b"username=" + b"a" * (CHUNK - 9) + b"\r\n"
    sent = 0
    sock.setblocking(False)
    try:
        while sent < total:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break  # the server answered (or closed) mid-upload
            if not writable:
                raise AssertionError("the server neither read the upload nor answered for 10 s")
            try:
                sent += sock.send(frame[sent % len(frame):])
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = read_response(sock)
    finally:
        sock.close()
    return sent, answer


def test_a_chunked_200_mb_sign_in_is_cut_off_with_413_while_the_console_keeps_answering(console):
    timings = []
    stop = threading.Event()

    def watch_login_page():
        with client(console) as http:
            while not stop.is_set():
                started = time.monotonic()
                assert http.get("/staff/login").status_code == 200
                timings.append(time.monotonic() - started)
                time.sleep(0.05)

    watcher = threading.Thread(target=watch_login_page)
    watcher.start()
    try:
        sent, answer = upload_chunked(console.port, 200 * MB)
        time.sleep(0.5)  # and a moment after
    finally:
        stop.set()
        watcher.join()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"too large" in answer
    assert sent < 16 * MB, sent  # refused early: 64 KiB read, the rest never taken (kernel buffers aside)
    assert timings and max(timings) < 1.0, timings
    assert client(console).get("/health").status_code == 200


def test_a_declared_huge_body_is_refused_before_it_is_sent(console):
    sock = socket.create_connection(("127.0.0.1", console.port))
    try:
        sock.sendall(b"POST /staff/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 209715200\r\n\r\nusername=a")
        answer = read_response(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.parametrize("path", ["/staff/login", "/staff/conversations/0123456789abcdef01234567/reply",
                                  "/staff/bookings/VW-AAAAAA/cancel", "/"])
def test_every_route_has_the_limit(console, path):
    with client(console) as http:
        response = http.post(path, content=b"x" * (2 * MB),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
