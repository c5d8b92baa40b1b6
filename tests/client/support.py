"""Helpers for the client tests: a transport that records (and can disturb) the traffic the
client produces, and users created the way any frontend would create them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

REFRESH = "/auth/session/refresh"
SIGNIN = "/auth/signin"
SIGNOUT = "/auth/signout"
PROTECTED = "/test/session"
PASSWORD = "correct horse battery staple"


def form(email: str, password: str) -> dict[str, object]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int
    authorization: str | None
    body: bytes
    issued_access: str | None
    """The ``st-access-token`` the answer carried, if any."""


Fault = Callable[[httpx.Request], httpx.Response]
"""Answers a request instead of the server (or raises, like a network failure would)."""


@dataclass
class Recorder:
    """Every request that reached the server, with its answer. ``faults`` intercept the next
    request to a path, as a proxy or a broken network in front of the server would."""

    calls: list[Call] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)

    def intercept(self, request: httpx.Request) -> httpx.Response | None:
        pending = self.faults.get(request.url.path)
        return pending.pop(0)(request) if pending else None

    def record(self, request: httpx.Request, response: httpx.Response) -> None:
        self.calls.append(
            Call(
                request.method,
                request.url.path,
                response.status_code,
                request.headers.get("authorization"),
                request.content,
                response.headers.get("st-access-token"),
            )
        )

    def paths(self) -> list[tuple[str, int]]:
        return [(c.path, c.status) for c in self.calls]

    def count(self, path: str) -> int:
        return sum(1 for c in self.calls if c.path == path)

    def clear(self) -> None:
        self.calls.clear()


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = self._recorder.intercept(request)
        if response is None:
            response = await self._inner.handle_async_request(request)
        self._recorder.record(request, response)
        return response


class SyncRecordingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._recorder.intercept(request)
        if response is None:
            response = self._inner.handle_request(request)
        self._recorder.record(request, response)
        return response

    def close(self) -> None:
        self._inner.close()


def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        503, json={"message": "try again"}, headers={"Retry-After": "7"}, request=request
    )


def network_down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def session_expired(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"message": "try refresh token"}, request=request)
