"""Per-request context: which tokenward runtime serves the request, and the token headers its
response must carry.

``TokenwardMiddleware`` wraps the app (tokenward's own server, or an app that embeds it). It puts
the runtime into the ASGI scope and, when the response starts, writes the queued token changes
(a replacement access token after verification, new tokens, or clearing) into its headers. So a
route of the embedding app gets renewed tokens on its response without doing anything, whatever
response class it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenward.http.session_access import SessionAccess

if TYPE_CHECKING:  # the runtime (stores, services) exists only where tokenward serves routes
    from tokenward.app.runtime import Runtime
from tokenward.http.client_ip import client_ip

RUNTIME_KEY = "tokenward.runtime"
SESSION_ACCESS_KEY = "tokenward.session_access"
WRITES_KEY = "tokenward.token_writes"

HeaderWrite = Callable[[MutableHeaders], None]


class TokenWrites:
    """Token header changes for one response, applied in order when it starts."""

    def __init__(self) -> None:
        self._writes: list[HeaderWrite] = []

    def add(self, write: HeaderWrite) -> None:
        self._writes.append(write)

    def replace_all(self, write: HeaderWrite) -> None:
        """Drop what was queued (e.g. a replacement token) in favour of ``write`` (a clearing)."""
        self._writes = [write]

    def apply(self, headers: MutableHeaders) -> None:
        for write in self._writes:
            write(headers)


class TokenwardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        session_access: Callable[[], SessionAccess],
        runtime: Callable[[], Runtime] | None = None,
    ) -> None:
        """``session_access`` serves session verification; ``runtime`` (local mode only) serves the
        frontend API routes."""
        self.app = app
        self._session_access = session_access
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        writes = TokenWrites()
        scope[SESSION_ACCESS_KEY] = self._session_access
        if self._runtime is not None:
            scope[RUNTIME_KEY] = self._runtime
        scope[WRITES_KEY] = writes

        async def send_with_tokens(message: Message) -> None:
            if message["type"] == "http.response.start":
                writes.apply(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_tokens)


def runtime(request: Request) -> Runtime:
    """The runtime serving this request (set by TokenwardMiddleware)."""
    try:  # the type quoted: a subscripted Callable would be built on every call
        provider = cast("Callable[[], Runtime]", request.scope[RUNTIME_KEY])
    except KeyError:
        raise RuntimeError(
            "tokenward is not installed on this app: call auth.install(app)"
        ) from None
    return provider()


def session_access(request: Request) -> SessionAccess:
    """What session verification needs (set by TokenwardMiddleware, local or remote)."""
    try:
        provider = cast("Callable[[], SessionAccess]", request.scope[SESSION_ACCESS_KEY])
    except KeyError:
        raise RuntimeError(
            "tokenward is not installed on this app: call auth.install(app)"
        ) from None
    return provider()


def token_writes(request: Request) -> TokenWrites:
    return cast(TokenWrites, request.scope[WRITES_KEY])


def client_address(request: Request) -> str:
    """The client's IP address: the socket's peer, or what trusted proxies forwarded."""
    return client_ip(request, runtime(request).trusted_proxies)
