"""Response headers every answer gets (IN-08), set in one place when the response starts.

* ``X-Content-Type-Options: nosniff`` on every response;
* ``Cache-Control: no-store`` on every frontend-API response that does not choose its own
  caching (the JWKS does), and on any response that carries tokens (a renewed access token on
  an embedding app's route included), whatever it chose;
* ``Strict-Transport-Security`` when the API is served over https.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenward.http.transport import (
    ACCESS_COOKIE,
    ACCESS_HEADER,
    ANTI_CSRF_HEADER,
    FRONT_TOKEN_HEADER,
    REFRESH_COOKIE,
    REFRESH_HEADER,
)

HSTS = "max-age=31536000"
"""One year. No includeSubDomains: the API's origin cannot speak for its sibling hosts."""
NO_STORE = "no-store"
TOKEN_HEADERS = (ACCESS_HEADER, REFRESH_HEADER, FRONT_TOKEN_HEADER, ANTI_CSRF_HEADER)
TOKEN_COOKIES = (f"{ACCESS_COOKIE}=", f"{REFRESH_COOKIE}=")


def carries_tokens(headers: MutableHeaders) -> bool:
    return any(name in headers for name in TOKEN_HEADERS) or any(
        cookie.lstrip().startswith(TOKEN_COOKIES) for cookie in headers.getlist("set-cookie")
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, api_base_path: str, https: bool) -> None:
        self.app = app
        self._base = api_base_path.rstrip("/") + "/"
        self._https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api_route = scope["path"].startswith(self._base)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if carries_tokens(headers) or (api_route and "cache-control" not in headers):
                    headers["Cache-Control"] = NO_STORE
                if self._https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
