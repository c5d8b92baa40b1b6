"""The FDI calls the client makes itself (sign-in, refresh, sign-out) and how their answers
map to tokens or to the errors in ``tokenward.client.errors``.

Requests carry what SuperTokens' frontends send: ``rid``, ``fdi-version`` and
``st-auth-mode: header`` (so the server puts tokens in response headers rather than
cookies). Auth calls inherit the timeout and User-Agent of the request that triggered them,
because requests yielded from an ``httpx.Auth`` flow skip the client's request building.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tokenward.client.errors import (
    AuthUnavailable,
    SessionExpired,
    SignInFailed,
    UnexpectedResponse,
)
from tokenward.client.tokens import REMOVED, Issued, Tokens, read_update

FDI_VERSION = "4.1"
AUTH_MODE_HEADER = "st-auth-mode"
DEFAULT_TENANT = "public"
TRANSIENT_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class Endpoints:
    api_domain: str
    base_path: str = "/auth"
    tenant_id: str | None = None

    def url(self, path: str, *, tenanted: bool = False) -> str:
        """``/auth/<tenant>/signin`` for tenant routes, like web-js (no segment for
        ``public``); session routes are never tenant-scoped."""
        base = self.api_domain.rstrip("/") + "/" + self.base_path.strip("/")
        if tenanted and self.tenant_id not in (None, DEFAULT_TENANT):
            base += f"/{self.tenant_id}"
        return f"{base}{path}"

    @property
    def sign_in(self) -> str:
        return self.url("/signin", tenanted=True)

    @property
    def refresh(self) -> str:
        return self.url("/session/refresh")

    @property
    def sign_out(self) -> str:
        return self.url("/signout")


def sign_in_request(
    endpoints: Endpoints, email: str, password: str, template: httpx.Request
) -> httpx.Request:
    body = {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": password}]}
    return _request(endpoints.sign_in, "emailpassword", template, {}, body)


def refresh_request(
    endpoints: Endpoints, refresh_token: str, template: httpx.Request
) -> httpx.Request:
    bearer = {"authorization": f"Bearer {refresh_token}"}
    return _request(endpoints.refresh, "session", template, bearer, None)


def session_headers() -> dict[str, str]:
    """Headers for the sign-out call, which otherwise goes through the normal flow."""
    return {"rid": "session", "fdi-version": FDI_VERSION, AUTH_MODE_HEADER: "header"}


def _request(
    url: str,
    rid: str,
    template: httpx.Request,
    extra: dict[str, str],
    body: dict[str, Any] | None,
) -> httpx.Request:
    headers = {"rid": rid, "fdi-version": FDI_VERSION, AUTH_MODE_HEADER: "header", **extra}
    if "user-agent" in template.headers:
        headers["user-agent"] = template.headers["user-agent"]
    extensions = {k: v for k, v in template.extensions.items() if k == "timeout"}
    return httpx.Request("POST", url, headers=headers, json=body, extensions=extensions)


def sign_in_result(response: httpx.Response, local_now_ms: int) -> tuple[Tokens, dict[str, Any]]:
    """The new session and the ``user`` object, or ``SignInFailed`` / ``AuthUnavailable`` /
    ``UnexpectedResponse``. Needs the body read."""
    _raise_if_transient(response)
    body = _json(response)
    if response.status_code != 200 or body is None:
        raise UnexpectedResponse("sign-in", response.status_code)
    status = body.get("status")
    if status == "OK":
        update = read_update(response.headers)
        user = body.get("user")
        if isinstance(update, Issued) and update.refresh_token and isinstance(user, dict):
            return _tokens(update, update.refresh_token, local_now_ms, "sign-in"), user
        raise UnexpectedResponse("sign-in without header-mode tokens", response.status_code)
    if status == "WRONG_CREDENTIALS_ERROR":
        raise SignInFailed(status, "wrong email or password")
    if status == "FIELD_ERROR":
        fields = body.get("formFields")
        errors = {
            str(f.get("id")): str(f.get("error"))
            for f in (fields if isinstance(fields, list) else [])
            if isinstance(f, dict)
        }
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items()) or "invalid form fields"
        raise SignInFailed(status, detail, errors)
    message = body.get("message") or body.get("reason") or f"sign-in refused ({status})"
    raise SignInFailed(str(status), str(message))


def refresh_result(response: httpx.Response, local_now_ms: int, expired_status: int) -> Tokens:
    """The renewed tokens, or ``SessionExpired`` when the server says renewal is impossible
    (401, the session-expired status, or ``front-token: remove``), ``AuthUnavailable`` for
    5xx/429/408, ``UnexpectedResponse`` otherwise. Needs the body read."""
    update = read_update(response.headers)
    if response.status_code == 200:
        if isinstance(update, Issued) and update.refresh_token:
            return _tokens(update, update.refresh_token, local_now_ms, "refresh")
        raise UnexpectedResponse("refresh without new tokens", 200)
    if response.status_code in (401, expired_status) or update == REMOVED:
        raise SessionExpired(message_of(response, "unauthorised"))
    _raise_if_transient(response)
    raise UnexpectedResponse("refresh", response.status_code)


def message_of(response: httpx.Response, default: str) -> str:
    body = _json(response)
    message = body.get("message") if body is not None else None
    return message if isinstance(message, str) and message else default


def is_transient(status_code: int) -> bool:
    return status_code >= 500 or status_code in TRANSIENT_STATUSES


def unavailable(response: httpx.Response) -> AuthUnavailable:
    retry_after: float | None
    try:
        retry_after = float(response.headers.get("retry-after", ""))
    except ValueError:
        retry_after = None  # absent, or an HTTP date: let the caller choose
    return AuthUnavailable(response.status_code, retry_after)


def _raise_if_transient(response: httpx.Response) -> None:
    if is_transient(response.status_code):
        raise unavailable(response)


def _tokens(update: Issued, refresh: str, local_now_ms: int, what: str) -> Tokens:
    try:
        return Tokens.received(update.access_token, refresh, update.front_token, local_now_ms)
    except ValueError:
        raise UnexpectedResponse(f"{what} with a malformed front-token", 200) from None


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return None
    return body if isinstance(body, dict) else None
