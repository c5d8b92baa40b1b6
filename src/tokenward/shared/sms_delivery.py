"""Sending text messages (the passwordless recipe's one-time sign-in codes): to the developer's
terminal, to a webhook of the application's own, or through Twilio's REST API.

The body of these messages carries a one-time code, so nothing here logs it, and the error a
failed delivery raises describes the failure without quoting the body, the webhook secret or the
Twilio auth token.

The signed webhook
------------------

``WebhookSmsSender`` POSTs ``{"body": "...", "to": "+14155550100"}`` (JSON: compact, keys
sorted, UTF-8) with the header::

    X-Tokenward-Signature: t=1718000000,v1=5f1c...e9

``t`` is the Unix time of the attempt in seconds; ``v1`` the lowercase hex HMAC-SHA256, keyed
with the UTF-8 bytes of the shared secret (``sms_webhook_secret``), of the bytes
``f"{t}."`` followed by the raw request body exactly as received. A receiver verifies it so:

1. read the raw body before any JSON parsing (re-serialising changes the bytes);
2. split the header on ``,`` and each part on the first ``=``; take ``t`` and every ``v1``;
3. refuse the request when ``t`` is not within a few minutes of its own clock (five, say): the
   timestamp is signed, so an old request cannot be replayed with a fresh one;
4. compute ``hmac.new(secret, f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()`` and
   compare it with each ``v1`` using a constant-time comparison (``hmac.compare_digest``, never
   ``==``, which tells an attacker how many leading characters matched);
5. answer 2xx only once the message is handed over; a 5xx asks tokenward to try again.

Retries
-------

Both network senders retry connection failures, timeouts and 5xx replies (Twilio's 429 too)
``retries`` more times, ``retry_delay`` seconds apart, with a fresh timestamp and signature each
time, then raise ``SmsDeliveryError``. A request that timed out may have been delivered all the
same, so a retry can occasionally send a message twice. Other replies are final. Redirects are
not followed: a signed body or the Twilio credentials go only where they were configured to.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TextIO
from urllib.parse import quote, urlsplit

import httpx
from pydantic import SecretStr

SIGNATURE_HEADER = "X-Tokenward-Signature"

_REDACTED = "[redacted]"
# Long runs of URL-safe characters: what a token (or base64 credentials) looks like. A server's
# reply is quoted in errors only after these are masked, in case it echoes what it was sent.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-+/=%]{24,}")
# Runs of four or more digits: a numeric one-time code (and phone numbers) in a server's reply.
_DIGITS = re.compile(r"\d{4,}")
_WORD = re.compile(r"\w{4,}")
_MAX_REASON = 200
# The line breaks of str.splitlines: none belongs in a phone number, and a recipient must be one
# value wherever it is written (a header, a log line of the receiver, a form field).
_LINE_BREAK = re.compile("[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# E.164: a plus, then up to fifteen digits, the first not zero.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One text message, ready to send: the recipient in E.164 form (``+14155550100``) and the
    text, which holds a one-time code."""

    to: str
    body: str

    def __post_init__(self) -> None:
        if _LINE_BREAK.search(self.to) is not None:
            raise ValueError("sms to must not contain a line break")
        if _E164.fullmatch(self.to) is None:
            # A code must reach exactly the one number it was made for.
            raise ValueError("sms to must be a phone number in E.164 form, such as +14155550100")


class SmsSender(Protocol):
    """Delivers text messages. Implementations raise SmsDeliveryError for failures worth
    retrying."""

    async def send(self, message: SmsMessage) -> None: ...


class SmsDeliveryError(Exception):
    """The text message could not be handed over (receiver down, refused, timed out, rejected).

    Retryable by the caller. The message names the backend, the host and the cause, never the
    body (it holds a one-time code) nor a secret (webhook secret, Twilio auth token).
    """


class SmsBackend(StrEnum):
    CONSOLE = "console"
    WEBHOOK = "webhook"
    TWILIO = "twilio"


class ConsoleSmsSender:
    """Development backend: prints each text message to a terminal stream instead of sending it.

    It writes to a stream, not to ``logging``: the body holds a working code, and logs (which get
    shipped and kept) must never carry one. The default stream is the ``sys.stdout`` of the moment
    of sending, so redirections made after construction are honoured.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: SmsMessage) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        rule = "=" * 72
        stream.write(
            f"{rule}\n"
            "tokenward sms (console backend: not sent)\n"
            f"To: {message.to}\n"
            f"{'-' * 72}\n"
            f"{message.body.rstrip()}\n"
            f"{rule}\n"
        )
        stream.flush()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Tokenward-Signature`` value of ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _Attempt:
    """The outcome of one failed attempt: whether another is worth making, and why it failed."""

    __slots__ = ("reason", "retryable")

    def __init__(self, reason: str, *, retryable: bool) -> None:
        self.reason = reason
        self.retryable = retryable


class _HttpSender:
    """What the webhook and Twilio senders share: one POST per attempt, bounded by ``timeout``,
    retried as the module docstring says, failures described without secrets."""

    backend: str

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        retries: int,
        retry_delay: float,
        client: httpx.AsyncClient | None,
        secrets: Iterable[str],
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{self.backend} URL must be an http or https URL with a host")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0 or retry_delay < 0:
            raise ValueError("retries and retry_delay must not be negative")
        self.timeout = timeout
        self.retries = retries
        self.retry_delay = retry_delay
        # The host and port only: a path or query could hold a secret of the receiver's.
        self.host = parts.netloc.rpartition("@")[2]
        self._client = client
        self._secrets = tuple(s for s in secrets if s)

    async def _deliver(
        self,
        message: SmsMessage,
        post: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
        judge: Callable[[httpx.Response, SmsMessage], _Attempt | None],
    ) -> None:
        """Make up to ``1 + retries`` attempts of ``post``; ``judge`` reads a reply (None: sent)."""
        attempts = 1 + self.retries
        failure = _Attempt("not attempted", retryable=False)
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry_delay)
            try:
                async with asyncio.timeout(self.timeout):
                    response = await self._post(post)
            except (httpx.RequestError, TimeoutError) as exc:
                failure = _Attempt(self._transport_reason(exc, message), retryable=True)
            else:
                verdict = judge(response, message)
                if verdict is None:
                    return
                failure = verdict
            if not failure.retryable:
                break
        # No chained exception: it would carry the request (and its body) to whoever prints it.
        raise SmsDeliveryError(
            f"sms not sent via {self.backend} {self.host} "
            f"({attempt} attempt{'s' if attempt > 1 else ''}): {failure.reason}"
        )

    async def _post(
        self, post: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        if self._client is not None:
            return await post(self._client)
        async with httpx.AsyncClient() as client:
            return await post(client)

    def _transport_reason(self, exc: BaseException, message: SmsMessage) -> str:
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return f"{type(exc).__name__}: no answer within {self.timeout:g} s"
        return f"{type(exc).__name__}: {self._scrub(str(exc) or type(exc).__name__, message)}"

    def _status_reason(self, response: httpx.Response) -> str:
        return f"server replied {response.status_code} {response.reason_phrase}".rstrip()

    def _scrub(self, text: str, message: SmsMessage) -> str:
        """``text`` (words a server or library chose) safe to put in an error message."""
        for secret in (*self._secrets, message.body):
            if secret:  # replacing "" would put the mark between every character
                text = text.replace(secret, _REDACTED)
        text = _TOKEN_LIKE.sub(_REDACTED, text)
        text = _DIGITS.sub(_REDACTED, text)
        # An alphanumeric code is any word of the body: mask the words the two share.
        body_words = {w.casefold() for w in _WORD.findall(message.body)}
        text = _WORD.sub(lambda m: _REDACTED if m[0].casefold() in body_words else m[0], text)
        text = " ".join(text.split())
        if len(text) > _MAX_REASON:
            text = text[:_MAX_REASON] + "..."
        return text


class WebhookSmsSender(_HttpSender):
    """Hands each message to the application's own HTTPS endpoint, signed with a shared secret
    (the module docstring gives the format and how to verify it). Any 2xx reply is success; 5xx,
    connection failures and timeouts are retried; other replies are final."""

    backend = "webhook"

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float,
        retries: int = 2,
        retry_delay: float = 0.5,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the webhook secret must not be empty")
        super().__init__(
            url,
            timeout=timeout,
            retries=retries,
            retry_delay=retry_delay,
            client=client,
            secrets=(secret.decode("utf-8", "replace"),),
        )
        self.url = url
        self._secret = secret
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"WebhookSmsSender(host={self.host!r}, timeout={self.timeout}, retries={self.retries})"
        )

    async def send(self, message: SmsMessage) -> None:
        body = json.dumps(
            {"to": message.to, "body": message.body},
            separators=(",", ":"),
            sort_keys=True,
            ensure_ascii=False,
        ).encode("utf-8")

        async def post(client: httpx.AsyncClient) -> httpx.Response:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: sign(self._secret, int(self._clock()), body),
            }
            return await client.post(
                self.url,
                content=body,
                headers=headers,
                timeout=self.timeout,
                follow_redirects=False,
            )

        await self._deliver(message, post, self._judge)

    def _judge(self, response: httpx.Response, message: SmsMessage) -> _Attempt | None:
        if response.is_success:
            return None
        # The reply's body is not quoted: a receiver may echo the message, code and all.
        return _Attempt(self._status_reason(response), retryable=response.status_code >= 500)


class TwilioSmsSender(_HttpSender):
    """Sends each message with Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/
    Messages.json``, HTTP Basic auth with the account SID and auth token, form-encoded ``To``,
    ``Body`` and ``From`` and/or ``MessagingServiceSid``). A 2xx reply (201 Created) is success;
    5xx, 429, connection failures and timeouts are retried; other replies are final and the error
    quotes Twilio's error ``code`` and ``message``, masked."""

    backend = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None,
        messaging_service_sid: str | None,
        timeout: float,
        base_url: str = "https://api.twilio.com",
        client: httpx.AsyncClient | None = None,
        retries: int = 2,
        retry_delay: float = 0.5,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("twilio needs an account SID and an auth token")
        if not from_number and not messaging_service_sid:
            raise ValueError("twilio needs a from number or a messaging service SID")
        super().__init__(
            base_url,
            timeout=timeout,
            retries=retries,
            retry_delay=retry_delay,
            client=client,
            secrets=(auth_token,),
        )
        self.account_sid = account_sid
        self.url = (
            f"{base_url.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}"
            "/Messages.json"
        )
        self._auth_token = auth_token
        self._from = from_number
        self._messaging_service_sid = messaging_service_sid

    def __repr__(self) -> str:
        return (
            f"TwilioSmsSender(account_sid={self.account_sid!r}, host={self.host!r}, "
            f"timeout={self.timeout}, retries={self.retries})"
        )

    async def send(self, message: SmsMessage) -> None:
        form = {"To": message.to, "Body": message.body}
        if self._from:
            form["From"] = self._from
        if self._messaging_service_sid:
            form["MessagingServiceSid"] = self._messaging_service_sid
        auth = httpx.BasicAuth(self.account_sid, self._auth_token)

        async def post(client: httpx.AsyncClient) -> httpx.Response:
            return await client.post(
                self.url,
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                follow_redirects=False,
            )

        await self._deliver(message, post, self._judge)

    def _judge(self, response: httpx.Response, message: SmsMessage) -> _Attempt | None:
        if response.is_success:
            return None
        status = response.status_code
        reason = self._status_reason(response)
        try:
            error = response.json()
        except ValueError:
            error = None
        if isinstance(error, dict):
            code = error.get("code")
            text = error.get("message")
            if isinstance(code, int) and not isinstance(code, bool):
                reason += f", twilio error {code}"
            if isinstance(text, str) and text:
                reason += f": {self._scrub(text, message)}"
        return _Attempt(reason, retryable=status >= 500 or status == 429)


class SmsConfig(Protocol):
    """The settings that choose and configure the sender (``Settings`` is one)."""

    @property
    def sms_backend(self) -> SmsBackend: ...
    @property
    def sms_webhook_url(self) -> str | None: ...
    @property
    def sms_webhook_secret(self) -> SecretStr | None: ...
    @property
    def sms_twilio_account_sid(self) -> str | None: ...
    @property
    def sms_twilio_auth_token(self) -> SecretStr | None: ...
    @property
    def sms_twilio_from(self) -> str | None: ...
    @property
    def sms_twilio_messaging_service_sid(self) -> str | None: ...
    @property
    def sms_twilio_base_url(self) -> str: ...
    @property
    def sms_timeout(self) -> float: ...


def sender_from_settings(settings: SmsConfig) -> SmsSender:
    """The sender the configuration asks for."""
    if settings.sms_backend is SmsBackend.CONSOLE:
        return ConsoleSmsSender()
    if settings.sms_backend is SmsBackend.WEBHOOK:
        url, secret = settings.sms_webhook_url, settings.sms_webhook_secret
        if not url or secret is None:  # Settings rejects this already; kept for the type checker.
            raise ValueError("sms_webhook_url and sms_webhook_secret are required for webhook")
        return WebhookSmsSender(
            url, secret.get_secret_value().encode("utf-8"), timeout=settings.sms_timeout
        )
    sid, token = settings.sms_twilio_account_sid, settings.sms_twilio_auth_token
    if not sid or token is None:  # Settings rejects this already; kept for the type checker.
        raise ValueError("sms_twilio_account_sid and sms_twilio_auth_token are required")
    return TwilioSmsSender(
        sid,
        token.get_secret_value(),
        from_number=settings.sms_twilio_from,
        messaging_service_sid=settings.sms_twilio_messaging_service_sid,
        timeout=settings.sms_timeout,
        base_url=settings.sms_twilio_base_url,
    )
