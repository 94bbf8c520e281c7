"""Twilio in tests: signed webhook requests, TwiML parsing, and a fake of the Messages REST API.

No test ever reaches the internet.

`FakeTwilioApi` records created messages and can fail first (HTTP status codes or exceptions);
`FakeHttpClient` plugs it into the `twilio` client in-process; `FakeTwilioServer` serves it over
HTTP on localhost for the real Rasa server (TWILIO_API_BASE_URL).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import parse_qs, urlencode

import requests
import requests.adapters
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from urllib3 import HTTPConnectionPool, HTTPResponse
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

FORM = "application/x-www-form-urlencoded"
_http_logger = logging.getLogger(__name__ + ".http")
_http_logger.setLevel(logging.WARNING)


def message_form(sender: str, body: Optional[str], **extra: str) -> Dict[str, str]:
    """The fields Twilio posts for an inbound message (`body=None` leaves Body out)."""
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+15005550006", "NumMedia": "0"}
    if body is not None:
        form["Body"] = body
    form.update(extra)
    return form


def sign(url: str, form: Dict[str, str], token: str) -> str:
    """The X-Twilio-Signature Twilio would send for this URL and form."""
    signature: str = RequestValidator(token).compute_signature(url, form)
    return signature


def signed_request(url: str, form: Dict[str, str], token: str) -> Tuple[bytes, Dict[str, str]]:
    """Body and headers of a webhook request exactly as Twilio signs it."""
    return urlencode(form).encode(), {"Content-Type": FORM, "X-Twilio-Signature": sign(url, form, token)}


def twiml_texts(body: str) -> List[str]:
    """The texts of the <Message> elements of a TwiML answer."""
    root = ET.fromstring(body)
    assert root.tag == "Response", body
    return [message.text or "" for message in root.iter("Message")]

Failure = Union[int, Tuple[int, int], BaseException]


class FakeTwilioApi:
    """Records `POST .../Messages.json`; `failures` are consumed first, one per request.

    `GET .../Messages.json?To=...` lists them, newest first, as Twilio pages do. `hold()` makes the next
    creates wait (a send in flight) until `release(accept)`: accepted, they are recorded as if Twilio got
    them; refused, they fail as if the request never arrived.
    """

    def __init__(self) -> None:
        self.messages: List[Dict[str, str]] = []
        self.attempts = 0
        self.failures: List[Failure] = []
        self.lock = threading.Lock()
        self.held = threading.Event()  # set: creates are let through
        self.held.set()
        self.holding = threading.Event()  # a create is waiting in hold
        self.accept_held = True
        self.created: Dict[str, str] = {}  # sid -> RFC 2822 date, as Twilio lists it

    def hold(self) -> None:
        """Make the next creates wait until `release`."""
        self.held.clear()
        self.holding.clear()

    def release(self, accept: bool = True) -> None:
        """Let the held creates through: recorded if `accept`, else failed as never arrived."""
        self.accept_held = accept
        self.held.set()

    def list_messages(self, to: Optional[str]) -> Dict[str, Any]:
        """A page of the messages sent (to `to`, or all), newest first, as Twilio lists them."""
        with self.lock:
            found = [m for m in reversed(self.messages) if to is None or m["To"] == to]
        return {"messages": [{"sid": m["sid"], "to": m["To"], "from": m["From"], "body": m["Body"],
                              "status": "sent", "date_created": self.created.get(m["sid"])} for m in found],
                "next_page_uri": None, "page": 0, "page_size": 50, "uri": "/Messages.json"}

    def create_message(self, form: Dict[str, str]) -> Tuple[int, Dict[str, Any]]:
        """HTTP status and body of `POST .../Messages.json` (a queued message, or the next failure)."""
        if not self.held.is_set():
            self.holding.set()
            self.held.wait(60)
            if not self.accept_held:
                return 503, {"status": 503, "code": 20503, "message": "fake: never arrived"}
        with self.lock:
            self.attempts += 1
            if self.failures:
                failure = self.failures.pop(0)
                if isinstance(failure, BaseException):
                    raise failure
                status, code = failure if isinstance(failure, tuple) else (failure, 20500)
                return status, {"status": status, "code": code, "message": "fake failure"}
            sid = "SM" + uuid.uuid4().hex
            self.messages.append({"To": form.get("To", ""), "From": form.get("From", ""),
                                  "Body": form.get("Body", ""), "sid": sid})
            self.created[sid] = formatdate(usegmt=True)
            return 201, {"sid": sid, "status": "queued", "to": form.get("To"),
                         "from": form.get("From"), "body": form.get("Body")}

    def to(self, address: str) -> List[str]:
        """Bodies sent to `address`, in order."""
        with self.lock:
            return [m["Body"] for m in self.messages if m["To"] == address]


class _FakePool(HTTPConnectionPool):
    """urllib3's connection pool with the wire replaced by a `FakeTwilioApi` (urllib3's retries still run).

    A `requests` ConnectionError from the API's failures is a connection never made, a ReadTimeout an
    answer that never came, as urllib3 reports them; other exceptions propagate as they are.
    """

    def __init__(self, api: FakeTwilioApi) -> None:
        super().__init__("api.twilio.com", 443)
        self.api = api

    def _make_request(  # type: ignore[override]  # (only what the fake needs of urllib3's private hook)
        self, conn: Any, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any
    ) -> HTTPResponse:
        path, _, query = url.partition("?")
        if method.upper() == "GET":
            to: Optional[str] = parse_qs(query).get("To", [None])[0]
            return self._answer(200, self.api.list_messages(to))
        raw = body.decode() if isinstance(body, bytes) else (body or "")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        try:
            status, payload = self.api.create_message(form)
        except requests.exceptions.ConnectionError as error:
            raise NewConnectionError(conn, str(error)) from error
        except requests.exceptions.ReadTimeout as error:
            raise ReadTimeoutError(self, url, str(error)) from error
        return self._answer(status, payload)

    @staticmethod
    def _answer(status: int, payload: Dict[str, Any]) -> HTTPResponse:
        return HTTPResponse(body=io.BytesIO(json.dumps(payload).encode()), status=status,
                            headers={"Content-Type": "application/json"}, preload_content=False)


class _FakeAdapter(requests.adapters.HTTPAdapter):
    """Sends every request to one `_FakePool` (the adapter's `max_retries` apply as on the wire)."""

    def __init__(self, api: FakeTwilioApi) -> None:
        super().__init__()
        self.pool = _FakePool(api)

    def get_connection_with_tls_context(  # noqa: D102
        self, request: Any, verify: Any, proxies: Optional[Dict[str, str]] = None, cert: Any = None
    ) -> HTTPConnectionPool:
        return self.pool

    def get_connection(self, url: str, proxies: Optional[Dict[str, str]] = None) -> HTTPConnectionPool:  # noqa: D102
        return self.pool


class FakeHttpClient(TwilioHttpClient):  # type: ignore[misc]  # (twilio is untyped: Any)
    """The twilio client's own transport (a requests session), answered by a `FakeTwilioApi` in-process.

    Records the timeouts used; retries mounted on `session` (clinic.channels.twilio_client.SendRetry) run
    in urllib3 as they would against Twilio.
    """

    def __init__(self, api: FakeTwilioApi, timeout: Optional[float] = None) -> None:
        super().__init__(timeout=timeout, logger=_http_logger)
        self.api = api
        self.requests: List[Dict[str, Any]] = []
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, _FakeAdapter(api))

    def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Optional[float] = None, allow_redirects: bool = False) -> Any:
        """Record the request, then send it through the session to the fake API."""
        self.requests.append({"method": method, "url": url, "timeout": timeout or self.timeout})
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)


class FakeTwilioServer:
    """`FakeTwilioApi` over HTTP on 127.0.0.1 (a free port), in a background thread."""

    def __init__(self) -> None:
        self.api = FakeTwilioApi()
        api = self.api

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                if not path.endswith("/Messages.json"):
                    status, payload = 404, {"status": 404, "code": 20404, "message": "not found"}
                else:
                    numbers = parse_qs(query).get("To")
                    to = numbers[0] if numbers else None
                    status, payload = 200, api.list_messages(to)
                self._reply(status, payload)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self.path.endswith("/Messages.json"):
                    status, payload = 404, {"status": 404, "code": 20404, "message": "not found"}
                else:
                    status, payload = api.create_message(form)
                self._reply(status, payload)

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The fake API's base URL (TWILIO_API_BASE_URL)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeTwilioServer:
        """Serve in the background."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        self.server.shutdown()
        self.server.server_close()
