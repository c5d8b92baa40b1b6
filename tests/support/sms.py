"""Real HTTP receivers for the SMS senders: a signed-webhook endpoint and a stand-in for Twilio's
Messages API, each a ``ThreadingHTTPServer`` on 127.0.0.1 in a thread of its own.

    with WebhookReceiver(SECRET) as receiver:
        receiver.script(500)                      # the next request gets a 500, then normal
        await WebhookSmsSender(receiver.url, SECRET, timeout=1, retry_delay=0).send(message)
        [delivered] = receiver.delivered

A request that no scripted reply answers is handled as the real thing would: the webhook checks
the signature (``verify_signature``, the receiver's side of the module docstring of
``tokenward.shared.sms_delivery``) and answers 401 when it is wrong or stale; the Twilio stand-in
checks the path, Basic auth and form fields, and answers with Twilio's error JSON when they are
wrong. ``HANG`` makes the server read the request and never answer (until the receiver closes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import parse_qs

HOST = "127.0.0.1"
HANG: Final = "hang"
SIGNATURE_TOLERANCE_S = 300


@dataclass(frozen=True)
class Reply:
    status: int
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Scripted = Reply | int | Literal["hang"]


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Delivered:
    """A message the receiver accepted."""

    to: str
    body: str
    fields: Mapping[str, str] = field(default_factory=dict)


def verify_signature(
    secret: bytes,
    header: str | None,
    body: bytes,
    *,
    now: float,
    tolerance: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """What a webhook receiver does with ``X-Tokenward-Signature`` (written from the docs, not
    from the sender's code): a fresh timestamp, and a v1 HMAC that matches in constant time."""
    if not header:
        return False
    timestamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not timestamp.isdigit() or not candidates:
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)


class _Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.delivered: list[Delivered] = []
        self._script: list[Scripted] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def script(self, *replies: Scripted) -> None:
        """Answer the next requests with these replies, in order, then as usual."""
        with self._lock:
            self._script.extend(replies)

    def __enter__(self) -> _Receiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        received = Received(request.command, request.path, dict(request.headers.items()), body)
        with self._lock:
            self.received.append(received)
            scripted = self._script.pop(0) if self._script else None
        if scripted == HANG:
            self._release.wait(timeout=30)
            return
        if isinstance(scripted, int):
            scripted = Reply(scripted)
        reply = scripted if isinstance(scripted, Reply) else self._answer(received)
        payload = json.dumps(dict(reply.body)).encode() if reply.body is not None else b""
        request.send_response(reply.status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _answer(self, received: Received) -> Reply:
        raise NotImplementedError


class WebhookReceiver(_Receiver):
    """The application's SMS webhook: verifies the signature, then accepts ``{"to", "body"}``."""

    def __init__(self, secret: bytes, *, path: str = "/hooks/sms") -> None:
        super().__init__()
        self.secret = secret
        self.path = path
        self.rejected_signatures = 0

    def __enter__(self) -> WebhookReceiver:
        super().__enter__()
        return self

    @property
    def url(self) -> str:
        return self.origin + self.path

    def _answer(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != self.path:
            return Reply(404)
        header = received.headers.get("X-Tokenward-Signature")
        if not verify_signature(self.secret, header, received.body, now=time.time()):
            with self._lock:
                self.rejected_signatures += 1
            return Reply(401, {"error": "bad signature"})
        message = json.loads(received.body)
        with self._lock:
            self.delivered.append(Delivered(to=message["to"], body=message["body"]))
        return Reply(200, {"status": "ok"})


class TwilioStandIn(_Receiver):
    """Twilio's ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: Basic auth with the
    account SID and auth token, form fields ``To``, ``Body`` and ``From`` or
    ``MessagingServiceSid``; 201 with a Message resource, or Twilio's error JSON."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token

    def __enter__(self) -> TwilioStandIn:
        super().__enter__()
        return self

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def _answer(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != self.messages_path:
            return Reply(404, {"code": 20404, "message": "The requested resource was not found"})
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        authorization = received.headers.get("Authorization", "")
        if not hmac.compare_digest(authorization, f"Basic {expected}"):
            return Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if not received.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return Reply(400, {"code": 20001, "message": "Not form-encoded", "status": 400})
        form = {k: v[0] for k, v in parse_qs(received.body.decode()).items()}
        if "To" not in form or "Body" not in form:
            return Reply(400, {"code": 21604, "message": "A 'To' phone number is required."})
        if "From" not in form and "MessagingServiceSid" not in form:
            return Reply(
                400,
                {
                    "code": 21603,
                    "message": "A 'From' or 'MessagingServiceSid' parameter is required",
                },
            )
        with self._lock:
            self.delivered.append(Delivered(to=form["To"], body=form["Body"], fields=form))
        return Reply(
            201,
            {
                "sid": "SM" + "0" * 32,
                "account_sid": self.account_sid,
                "to": form["To"],
                "status": "queued",
            },
        )
