"""A stand-in identity provider: a real ``ThreadingHTTPServer`` on 127.0.0.1 in a thread of its
own, answering each path as a test says (JSON, an error status, garbage, slowly, or by closing
the connection without a word), and counting what it was asked.

    with FakeProvider() as idp:
        idp.answer("/jwks", Answer(body={"keys": [...]}))   # every request, until changed
        idp.script("/jwks", DROP, Answer(status=500))       # the next two requests, then as above
        idp.handle("/token", lambda received: Answer(...))  # computed from the request
        ...
        assert idp.hits["/jwks"] == 3
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Mapping[str, Any] | list[Any] | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False


DROP = Answer(drop=True)
"""Read the request, then close the connection without answering."""


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


Handler = Callable[[Received], Answer]
"""Computes the answer to a request (a provider that checks what it is sent)."""


class FakeProvider:
    def __init__(self) -> None:
        self._answers: dict[str, Answer] = {}
        self._handlers: dict[str, Handler] = {}
        self._scripts: dict[str, deque[Answer]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.hits: Counter[str] = Counter()
        self.received: list[Received] = []
        self._server = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def answer(self, path: str, answer: Answer) -> None:
        with self._lock:
            self._answers[path] = answer

    def handle(self, path: str, handler: Handler) -> None:
        """Answer ``path`` with ``handler(request)``; scripted answers still come first."""
        with self._lock:
            self._handlers[path] = handler

    def script(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(answers)

    def _next(self, path: str, received: Received) -> Answer:
        with self._lock:
            self.hits[path] += 1
            queue = self._scripts.get(path)
            if queue:
                return queue.popleft()
            handler = self._handlers.get(path)
            if handler is None:
                return self._answers.get(path, Answer(status=404, body={"error": "not_found"}))
        return handler(received)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                received = Received(self.command, self.path, dict(self.headers.items()), body)
                with provider._lock:
                    provider.received.append(received)
                answer = provider._next(path, received)
                if answer.delay_s:
                    provider._stopping.wait(answer.delay_s)
                if answer.drop:
                    self.close_connection = True
                    return
                if isinstance(answer.body, bytes):
                    payload = answer.body
                    content_type = "application/octet-stream"
                elif answer.body is None:
                    payload = b""
                    content_type = "text/plain"
                else:
                    payload = json.dumps(answer.body).encode("utf-8")
                    content_type = "application/json"
                try:
                    self.send_response(answer.status)
                    if not any(n.lower() == "content-type" for n in answer.headers):
                        self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout test)
                    pass

        return Handler
