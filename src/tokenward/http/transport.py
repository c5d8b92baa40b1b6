"""Where session tokens travel: cookies or headers, as SuperTokens' frontends expect.

Reading: the ``Authorization: Bearer`` header wins over cookies. Writing: tokens go back in the
mode they came in (or, at creation, the mode ``st-auth-mode`` asks for: header unless it says
``cookie``), tokens the request carried in the other mode are cleared, and every header we set
is listed in ``Access-Control-Expose-Headers`` so a cross-origin frontend can read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import StrEnum
from urllib.parse import quote, unquote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from tokenward.config import Settings
from tokenward.recipes.session.rules import front_token
from tokenward.recipes.session.rules.cookie_policy import AntiCsrfMode, SameSite
from tokenward.recipes.session.service.types import AccessToken, IssuedTokens
from tokenward.shared.clock import Clock

ACCESS_COOKIE = "sAccessToken"
REFRESH_COOKIE = "sRefreshToken"
ACCESS_HEADER = "st-access-token"
REFRESH_HEADER = "st-refresh-token"
FRONT_TOKEN_HEADER = "front-token"  # noqa: S105 - a header name
ANTI_CSRF_HEADER = "anti-csrf"
AUTH_MODE_HEADER = "st-auth-mode"
EXPOSE_HEADER = "Access-Control-Expose-Headers"
# The access-token cookie outlives the JWT on purpose: an expired token must still reach the
# backend so that it can answer "try refresh token" instead of "unauthorised".
ACCESS_COOKIE_LIFETIME_MS = 365 * 24 * 3_600_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Mode(StrEnum):
    COOKIE = "cookie"
    HEADER = "header"


class DuplicateAccessCookies(Exception):
    """Several ``sAccessToken`` cookies (from different paths or domains): refresh to repair."""


@dataclass(frozen=True, slots=True)
class PresentedToken:
    value: str
    mode: Mode


@dataclass(frozen=True, slots=True)
class CookieSettings:
    same_site: SameSite
    secure: bool
    domain: str | None
    refresh_path: str


class TokenTransport:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.cookies = CookieSettings(
            same_site=settings.effective_cookie_same_site,
            secure=settings.effective_cookie_secure,
            domain=settings.cookie_domain,
            refresh_path=f"{settings.api_base_path.rstrip('/')}/session/refresh",
        )
        self.anti_csrf = settings.effective_anti_csrf
        self._clock = clock

    # --- reading ------------------------------------------------------------------------------

    def access_token(self, request: Request) -> PresentedToken | None:
        bearer = _bearer(request)
        if bearer is not None:
            return PresentedToken(bearer, Mode.HEADER)
        values = _cookie_values(request, ACCESS_COOKIE)
        if len(values) > 1:
            raise DuplicateAccessCookies
        return PresentedToken(values[0], Mode.COOKIE) if values else None

    def refresh_token(self, request: Request) -> PresentedToken | None:
        bearer = _bearer(request)
        if bearer is not None:
            return PresentedToken(bearer, Mode.HEADER)
        values = _cookie_values(request, REFRESH_COOKIE)
        return PresentedToken(values[-1], Mode.COOKIE) if values else None

    @staticmethod
    def creation_mode(request: Request) -> Mode:
        asked = request.headers.get(AUTH_MODE_HEADER, "").strip().lower()
        return Mode.COOKIE if asked == Mode.COOKIE else Mode.HEADER

    def needs_custom_header(self, request: Request, token: PresentedToken) -> bool:
        """VIA_CUSTOM_HEADER: a cookie-borne session on a state-changing request must come
        with a ``rid`` header (which a cross-site form or image cannot send)."""
        return (
            self.anti_csrf is AntiCsrfMode.VIA_CUSTOM_HEADER
            and token.mode is Mode.COOKIE
            and "rid" not in request.headers
        )

    def checks_anti_csrf_token(self, token: PresentedToken) -> bool:
        return self.anti_csrf is AntiCsrfMode.VIA_TOKEN and token.mode is Mode.COOKIE

    # --- writing ------------------------------------------------------------------------------

    def attach_tokens(
        self, request: Request, headers: MutableHeaders, tokens: IssuedTokens, mode: Mode
    ) -> None:
        """Send a new access/refresh pair (session created or refreshed) in ``mode``."""
        self._clear_other_mode(request, headers, mode)
        if mode is Mode.COOKIE:
            self._set_cookie(
                headers,
                ACCESS_COOKIE,
                tokens.access.token,
                "/",
                self._clock.now_ms() + ACCESS_COOKIE_LIFETIME_MS,
            )
            self._set_cookie(
                headers,
                REFRESH_COOKIE,
                tokens.refresh_token,
                self.cookies.refresh_path,
                tokens.refresh_expires_at_ms,
            )
        else:
            _set_header(headers, ACCESS_HEADER, tokens.access.token)
            _set_header(headers, REFRESH_HEADER, tokens.refresh_token)
        _set_header(headers, FRONT_TOKEN_HEADER, tokens.access.front_token)
        if tokens.anti_csrf_token is not None:
            _set_header(headers, ANTI_CSRF_HEADER, tokens.anti_csrf_token)

    def attach_access_token(self, headers: MutableHeaders, access: AccessToken, mode: Mode) -> None:
        """Send a replacement access token (promotion, payload change) in ``mode``."""
        if mode is Mode.COOKIE:
            self._set_cookie(
                headers,
                ACCESS_COOKIE,
                access.token,
                "/",
                self._clock.now_ms() + ACCESS_COOKIE_LIFETIME_MS,
            )
        else:
            _set_header(headers, ACCESS_HEADER, access.token)
        _set_header(headers, FRONT_TOKEN_HEADER, access.front_token)

    def clear(self, headers: MutableHeaders) -> None:
        """End the session on the client: both modes, and ``front-token: remove``."""
        self._clear_cookies(headers)
        _set_header(headers, ACCESS_HEADER, "")
        _set_header(headers, REFRESH_HEADER, "")
        if ANTI_CSRF_HEADER in headers:
            del headers[ANTI_CSRF_HEADER]
        _set_header(headers, FRONT_TOKEN_HEADER, front_token.REMOVE)

    def _clear_other_mode(self, request: Request, headers: MutableHeaders, mode: Mode) -> None:
        if mode is Mode.HEADER and (
            _cookie_values(request, ACCESS_COOKIE) or _cookie_values(request, REFRESH_COOKIE)
        ):
            self._clear_cookies(headers)
        elif mode is Mode.COOKIE and _bearer(request) is not None:
            _set_header(headers, ACCESS_HEADER, "")
            _set_header(headers, REFRESH_HEADER, "")

    def _clear_cookies(self, headers: MutableHeaders) -> None:
        self._set_cookie(headers, ACCESS_COOKIE, "", "/", None)
        self._set_cookie(headers, REFRESH_COOKIE, "", self.cookies.refresh_path, None)

    def _set_cookie(
        self, headers: MutableHeaders, name: str, value: str, path: str, expires_ms: int | None
    ) -> None:
        expires = _EPOCH if expires_ms is None else datetime.fromtimestamp(expires_ms / 1000, UTC)
        attributes = [
            f"{name}={quote(value, safe='')}",
            f"expires={format_datetime(expires, usegmt=True)}",
            f"Path={path}",
            "HttpOnly",
            f"SameSite={self.cookies.same_site.capitalize()}",
        ]
        if self.cookies.domain:
            attributes.append(f"Domain={self.cookies.domain}")
        if self.cookies.secure:
            attributes.append("Secure")
        headers.append("set-cookie", "; ".join(attributes))


def _set_header(headers: MutableHeaders, name: str, value: str) -> None:
    headers[name] = value
    exposed = [h.strip() for h in headers.get(EXPOSE_HEADER, "").split(",") if h.strip()]
    if name.lower() not in (h.lower() for h in exposed):
        headers[EXPOSE_HEADER] = ", ".join([*exposed, name])


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization")
    if value is None or value[:7].lower() != "bearer ":
        return None
    token = value[7:].strip()
    return token or None


def _cookie_values(request: Request, name: str) -> list[str]:
    """Every value of cookie ``name`` (browsers may send several, from different paths)."""
    values: list[str] = []
    for header in request.headers.getlist("cookie"):
        for part in header.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                values.append(unquote(value.strip().strip('"')))
    return values
