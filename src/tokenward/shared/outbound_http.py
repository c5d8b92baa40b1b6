"""Talking to identity providers: one shared HTTP client and two helpers that turn a provider's
answer into a JSON object or into an error a caller can act on.

    client = make_client()                       # one per process, closed at shutdown
    jwks = await get_json(client, "https://idp.example/jwks")
    tokens = await post_form_json(client, token_url, {"grant_type": "authorization_code", ...})
    emails = await get_json_list(client, "https://api.github.com/user/emails", headers=...)

Errors
------

``ProviderUnavailable`` (retryable: try again later) for connection failures, timeouts, 5xx
and 429 replies, redirects (never followed: credentials go only where they were configured to),
answers larger than ``MAX_RESPONSE_BYTES`` and answers that are not a JSON object.
``ProviderRefused`` (final) for other 4xx replies, with OAuth's ``error`` and
``error_description`` (RFC 6749 §5.2) when the body carries them. A 2xx reply to a POST whose
object carries ``error`` is refused too: GitHub's token endpoint answers a bad code with 200 and
``{"error": "bad_verification_code", ...}``.

Messages name the provider's host and the cause, never a query string, a request or reply
body, a header value or a credential: whatever a provider's reply quotes is truncated, and runs
that look like tokens are masked. No exception is chained (``from None``): a chained httpx
error would carry the request, URL and all, to whoever prints it.

Retries
-------

``get_json`` retries connection failures and timeouts ``retries`` more times (default 2),
``retry_delay_s`` apart: a GET of a discovery document or a JWKS is idempotent.
``post_form_json`` never retries: the form usually carries an authorization code, which is
single use, so a second attempt after a lost reply would fail anyway (and could look like a
replay to the provider). Neither retries a 5xx: the caller decides (the error is retryable).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from tokenward.__about__ import __version__
from tokenward.shared.encoding import json_loads, json_loads_object

CONNECT_TIMEOUT_S = 5.0
DEFAULT_TIMEOUT_S = 10.0
"""Bound on one request end to end (connect, send, every read), unless the client says else."""
MAX_RESPONSE_BYTES = 1 << 20
"""Largest answer read (after content decoding). JWKS and token replies are a few KiB."""
GET_RETRIES = 2
DEFAULT_RETRY_DELAY_S = 0.25
USER_AGENT = f"tokenward/{__version__}"

_REDACTED = "[redacted]"
# Long runs of URL-safe characters: what a token (or base64 credentials) looks like. A provider's
# reply is quoted in errors only after these are masked, in case it echoes what it was sent.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-+/=%]{24,}")
# RFC 6749 error codes are lower-case words joined by underscores; such a value is kept whole.
_OAUTH_ERROR_CODE = re.compile(r"[a-z][a-z_]{0,63}")
_MAX_TEXT = 200


class ProviderError(Exception):
    """A request to an identity provider failed. ``host`` names the provider (host[:port])."""

    retryable: bool = False

    def __init__(self, message: str, *, host: str) -> None:
        super().__init__(message)
        self.host = host


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or gave no usable answer (down, timed out, 5xx, garbage).

    Retryable: nothing the user did caused it. Maps to a 503-style "try again", never to a 401.
    """

    retryable = True


class ProviderRefused(ProviderError):
    """The provider answered 4xx: it refused the request (bad code, bad client credentials...).

    ``error`` and ``error_description`` are OAuth's (RFC 6749 §5.2), truncated and masked, or
    None when the body does not carry them.
    """

    def __init__(
        self,
        status: int,
        error: str | None,
        error_description: str | None,
        *,
        host: str = "",
    ) -> None:
        where = f" {host}" if host else ""
        message = f"identity provider{where} refused the request: HTTP {status}"
        if error:
            message += f" {error}"
        if error_description:
            message += f": {error_description}"
        super().__init__(message, host=host)
        self.status = status
        self.error = error
        self.error_description = error_description


class _QueryRedacted(logging.Filter):
    """httpx logs each request's URL at INFO; a provider's query may carry a credential
    (Facebook's token check takes the app secret and the user's token there). The query is
    dropped from those records, whoever made the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], httpx.URL):
            url = args[1]
            if url.query:
                record.args = (args[0], f"{url.copy_with(query=None)}?…", *args[2:])
        return True


_REDACTION = _QueryRedacted()


def make_client(
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one client a process uses for identity providers (share it: it pools connections).

    Connect timeout ``CONNECT_TIMEOUT_S``; ``timeout_s`` bounds each request end to end (the
    helpers enforce it as a total, not only per read). Redirects are not followed. Cookies are
    never kept: the client serves every user, and a cookie a provider set during one user's
    exchange must not ride on the next user's. The caller closes it (``await
    client.aclose()``) at shutdown.
    """
    if timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    logging.getLogger("httpx").addFilter(_REDACTION)  # once: a filter is added only once
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s)),
        follow_redirects=False,
        cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        transport=transport,
    )


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    retries: int = GET_RETRIES,
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
) -> dict[str, Any]:
    """GET ``url`` and return its JSON object; connection failures and timeouts are retried."""
    value = await _get(client, url, headers, params, retries, retry_delay_s, json_loads_object)
    return cast(dict[str, Any], value)


async def get_json_list(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    retries: int = GET_RETRIES,
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
) -> list[Any]:
    """GET ``url`` and return its JSON array (GitHub's ``/user/emails``), as ``get_json``."""
    value = await _get(client, url, headers, params, retries, retry_delay_s, _json_loads_list)
    return cast(list[Any], value)


async def _get(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    retries: int,
    retry_delay_s: float,
    parse: Callable[[bytes], object],
) -> object:
    if retries < 0 or retry_delay_s < 0:
        raise ValueError("retries and retry_delay_s must not be negative")
    host = host_of(url)
    secrets = _secrets_of(url, headers, params, None, None)
    attempts = 1 + retries
    reason = "not attempted"
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            await asyncio.sleep(retry_delay_s)
        try:
            status, phrase, body = await _request(client, "GET", url, headers, params, None, None)
        except _TransportFailure as failure:
            reason = _scrub(failure.reason, secrets)
            continue
        return _judge(host, status, phrase, body, secrets, parse)
    plural = "s" if attempts > 1 else ""
    raise ProviderUnavailable(
        f"identity provider {host} unavailable ({attempts} attempt{plural}): {reason}", host=host
    )


def _json_loads_list(body: bytes) -> list[Any]:
    value = json_loads(body)
    if not isinstance(value, list):
        raise ValueError("JSON value is not an array")
    return value


async def post_form_json(
    client: httpx.AsyncClient,
    url: str,
    data: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``data`` form-encoded (optionally with HTTP Basic ``auth``) and return the JSON
    object of the reply. Never retried: the form may hold a single-use authorization code."""
    secrets = _secrets_of(url, headers, None, data, auth)
    return await _post(client, url, headers, auth, secrets, form=data)


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """POST ``body`` as JSON (GitHub's token check takes nothing else) and return the JSON
    object of the reply, as ``post_form_json``; never retried."""
    secrets = _secrets_of(url, headers, None, body, auth)
    return await _post(client, url, headers, auth, secrets, json_body=body)


async def _post(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
    secrets: Iterable[str],
    *,
    form: Mapping[str, str] | None = None,
    json_body: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    host = host_of(url)
    try:
        status, phrase, body = await _request(
            client, "POST", url, headers, None, form, auth, json_body
        )
    except _TransportFailure as failure:
        reason = _scrub(failure.reason, secrets)
        raise ProviderUnavailable(
            f"identity provider {host} unavailable (not retried): {reason}", host=host
        ) from None
    answer = cast(dict[str, Any], _judge(host, status, phrase, body, secrets, json_loads_object))
    if answer.get("error") is not None and body is not None:  # GitHub: 200 with an error
        error, description = _oauth_error(body, secrets)
        raise ProviderRefused(status, error, description, host=host)
    return answer


class _TransportFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TooLarge(Exception):
    pass


def _total_timeout(client: httpx.AsyncClient) -> float:
    read = client.timeout.read
    return read if read is not None else DEFAULT_TIMEOUT_S


async def _request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    data: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
    json_body: Mapping[str, str] | None = None,
) -> tuple[int, str, bytes | None]:
    """One attempt: (status, reason phrase, body or None when it was too large)."""
    total = _total_timeout(client)
    try:
        async with asyncio.timeout(total):
            async with client.stream(
                method,
                url,
                headers=headers,
                params=params,
                data=data,
                json=json_body,
                auth=httpx.BasicAuth(*auth) if auth is not None else None,
                follow_redirects=False,
            ) as response:
                try:
                    body: bytes | None = await _read_bounded(response)
                except _TooLarge:
                    body = None
                return response.status_code, response.reason_phrase, body
    except (TimeoutError, httpx.TimeoutException) as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            raise _TransportFailure("ConnectTimeout: no connection within the timeout") from None
        raise _TransportFailure(f"Timeout: no answer within {total:g} s") from None
    except httpx.HTTPError as exc:
        raise _TransportFailure(f"{type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise _TransportFailure(f"{type(exc).__name__}: {exc}") from None


async def _read_bounded(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _TooLarge
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise _TooLarge
    return bytes(body)


def _judge(
    host: str,
    status: int,
    phrase: str,
    body: bytes | None,
    secrets: Iterable[str],
    parse: Callable[[bytes], object],
) -> object:
    """The JSON value (as ``parse`` reads it) of a 2xx reply, or the error the reply amounts to."""
    if body is None:
        raise ProviderUnavailable(
            f"identity provider {host} unavailable: answer larger than {MAX_RESPONSE_BYTES} bytes",
            host=host,
        )
    answered = f"answered {status} {phrase}".rstrip()
    if 200 <= status < 300:
        try:
            return parse(body)
        except ValueError:
            what = "JSON array" if parse is _json_loads_list else "JSON object"
            raise ProviderUnavailable(
                f"identity provider {host} unavailable: {answered} with a body that is not a "
                f"{what}",
                host=host,
            ) from None
    if 300 <= status < 400:
        raise ProviderUnavailable(
            f"identity provider {host} unavailable: {answered} (redirects are not followed)",
            host=host,
        )
    if status >= 500 or status == 429:
        raise ProviderUnavailable(f"identity provider {host} unavailable: {answered}", host=host)
    if 400 <= status < 500:
        error, description = _oauth_error(body, secrets)
        raise ProviderRefused(status, error, description, host=host)
    raise ProviderUnavailable(f"identity provider {host} unavailable: {answered}", host=host)


def _oauth_error(body: bytes, secrets: Iterable[str]) -> tuple[str | None, str | None]:
    """OAuth's ``error`` and ``error_description`` from a 4xx body, safe to quote."""
    try:
        obj = json_loads_object(body)
    except ValueError:
        return None, None
    raw_error = obj.get("error")
    raw_description = obj.get("error_description")
    error: str | None = None
    if isinstance(raw_error, str) and raw_error:
        error = raw_error if _OAUTH_ERROR_CODE.fullmatch(raw_error) else _scrub(raw_error, secrets)
    description: str | None = None
    if isinstance(raw_description, str) and raw_description.strip():
        description = _scrub(raw_description, secrets)
    return error, description


def host_of(url: str) -> str:
    """``host[:port]`` of an http(s) URL, the way errors name a provider."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("provider URL must be an http or https URL with a host")
    # host[:port] only: user info, path and query could hold secrets.
    return parts.netloc.rpartition("@")[2]


def _secrets_of(
    url: str,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    data: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
) -> tuple[str, ...]:
    """Every value we sent that must never appear in an error, longest first."""
    parts = urlsplit(url)
    found = [url, parts.query, parts.username or "", parts.password or ""]
    for mapping in (headers, params, data):
        if mapping:
            found.extend(mapping.values())
    if auth is not None:
        found.extend(auth)
    # Short values ("code", "1") would mask ordinary words; they are not secrets either.
    return tuple(sorted({s for s in found if len(s) >= 4}, key=len, reverse=True))


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` (words a provider or a library chose) safe to put in an error message."""
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    text = _TOKEN_LIKE.sub(_REDACTED, text)
    text = " ".join(text.split())
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "..."
    return text
