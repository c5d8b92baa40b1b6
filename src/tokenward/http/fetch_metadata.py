"""Cross-origin request refusal (CSRF-01, CSRF-04), from the ``Origin`` and ``Sec-Fetch-Site``
headers browsers add.

It covers the requests a foreign page could make a browser send with effect: every unsafe
(not GET/HEAD/OPTIONS) request that carries a session cookie, and every unsafe request to the
frontend API, so sign-in and sign-up too (login CSRF: no session cookie exists yet). Such a
request is refused with 403 when its ``Origin`` is neither the API's nor the website's, ``null``
included; without an ``Origin``, when ``Sec-Fetch-Site`` says ``cross-site``. Requests with
neither header (curl, mobile apps, backend SDKs) pass: no browser sent them, so no victim's
cookies ride on them. The configured website passes even from another site (a website on its own
domain with ``SameSite=None`` cookies), as it does for CORS.

Exempt paths are those a provider's page posts to through the browser by design (Apple's
``form_post`` callback): they change nothing and only redirect to the website.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenward.http.transport import ACCESS_COOKIE, REFRESH_COOKIE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE)
REFUSED = "Cross-origin request refused: it must come from the website or the API's own origin"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalised_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port; None when ``value`` is
    not an http(s) origin (``null``, garbage)."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def is_cross_origin(headers: Headers, allowed: frozenset[str]) -> bool:
    """Whether a browser sent this request from a page outside ``allowed`` origins."""
    origin = headers.get("origin")
    if origin is not None:
        return normalised_origin(origin) not in allowed
    return headers.get("sec-fetch-site", "").lower() == "cross-site"


def _has_session_cookie(headers: Headers) -> bool:
    names = {
        pair.split("=", 1)[0].strip()
        for line in headers.getlist("cookie")
        for pair in line.split(";")
    }
    return not names.isdisjoint(SESSION_COOKIES)


class CrossOriginGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_origins: Iterable[str],
        api_base_path: str,
        exempt_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self._allowed = frozenset(
            origin for value in allowed_origins if (origin := normalised_origin(value))
        )
        self._base = api_base_path.rstrip("/") + "/"
        self._exempt = frozenset(self._base + path.lstrip("/") for path in exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and scope["path"] not in self._exempt
        ):
            headers = Headers(scope=scope)
            covered = scope["path"].startswith(self._base) or _has_session_cookie(headers)
            if covered and is_cross_origin(headers, self._allowed):
                await JSONResponse({"message": REFUSED}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
