"""Sending transactional emails (password reset, email verification): to the developer's terminal
or through an SMTP server.

The bodies of these emails carry single-use tokens, so nothing here logs them, and the error a
failed delivery raises describes the failure without quoting the body or the SMTP password.
"""

from __future__ import annotations

import contextlib
import email.message
import email.utils
import re
import ssl
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol, TextIO

import aiosmtplib
from pydantic import SecretStr

SmtpSecurity = Literal["starttls", "tls", "none"]

_REDACTED = "[redacted]"
# Long runs of URL-safe characters: what a token (or base64 credentials) looks like. A server's
# reply is quoted in errors only after these are masked, in case it echoes what it was sent.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-+/=%]{24,}")
_MAX_REASON = 200
# CR and LF end a header line on the wire; the others are line breaks to str.splitlines, which
# some mail tooling applies to header values.
_LINE_BREAK = re.compile("[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One email, ready to send: the plain-text and the HTML version of the same content."""

    to: str
    subject: str
    text: str
    html: str

    def __post_init__(self) -> None:
        # A line break in a header value would let it add headers (Bcc:) or end the headers.
        for name in ("to", "subject"):
            if _has_line_break(getattr(self, name)):
                raise ValueError(f"email {name} must not contain a line break")


class EmailSender(Protocol):
    """Delivers emails. Implementations raise EmailDeliveryError for failures worth retrying."""

    async def send(self, message: EmailMessage) -> None: ...


class EmailDeliveryError(Exception):
    """The email could not be handed over (server down, refused, timed out, TLS or login failed).

    Retryable: nothing was sent. The message names the server and the cause, never the body (it
    holds a single-use token) nor the SMTP password.
    """


class ConsoleEmailSender:
    """Development backend: prints each email to a terminal stream instead of sending it.

    It writes to a stream, not to ``logging``: the body holds a working token, and logs (which get
    shipped and kept) must never carry one. The default stream is the ``sys.stdout`` of the moment
    of sending, so redirections made after construction are honoured.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: EmailMessage) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        rule = "=" * 72
        stream.write(
            f"{rule}\n"
            "tokenward email (console backend: not sent)\n"
            f"To: {message.to}\n"
            f"Subject: {message.subject}\n"
            f"{'-' * 72}\n"
            f"{message.text.rstrip()}\n"
            f"{rule}\n"
        )
        stream.flush()


class SmtpEmailSender:
    """Sends each email over its own SMTP connection (aiosmtplib).

    One connection per message keeps no state between sends, so a server that went away and came
    back needs no reconnect logic, and concurrent sends do not queue behind one another.

    ``security``: ``starttls`` upgrades the connection and fails when the server does not offer
    STARTTLS (a stripped offer must not make us send credentials or tokens in clear); ``tls`` is
    implicit TLS from the first byte (port 465); ``none`` is plain text, for a relay on a trusted
    network (credentials, if given, then cross it in clear too). ``tls_context`` replaces the
    system's trust store (tests use it for a private CA). ``timeout`` bounds each network
    operation (connect, each command), in seconds.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None,
        password: str | None,
        sender: str,
        security: SmtpSecurity,
        timeout: float,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"security must be starttls, tls or none, got {security!r}")
        envelope_from = email.utils.parseaddr(sender)[1]
        if _has_line_break(sender) or "@" not in envelope_from:
            raise ValueError("sender must be an address such as 'App <no-reply@example.com>'")
        self.host = host
        self.port = port
        self.security: SmtpSecurity = security
        self.timeout = timeout
        self._username = username
        self._password = password
        self._sender = sender
        self._envelope_from = envelope_from
        self._domain = envelope_from.rpartition("@")[2]
        self._tls_context = tls_context

    def __repr__(self) -> str:
        return (
            f"SmtpEmailSender(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self._username!r})"
        )

    async def send(self, message: EmailMessage) -> None:
        mime, recipient = self._build(message)
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=self._tls_context,
            timeout=self.timeout,
            username=self._username,
            password=self._password,
        )
        try:
            await smtp.connect()
            await smtp.send_message(mime, sender=self._envelope_from, recipients=[recipient])
        except (aiosmtplib.SMTPException, OSError) as exc:
            # `from None`: the chained exception would print the server's raw reply unredacted.
            raise EmailDeliveryError(self._describe(exc)) from None
        else:
            await _quit(smtp)
        finally:
            smtp.close()

    def _build(self, message: EmailMessage) -> tuple[email.message.EmailMessage, str]:
        """The MIME message and its one envelope recipient."""
        if _has_line_break(message.to):  # EmailMessage checks already; this is the last gate.
            raise ValueError("email to must not contain a line break")
        mime = email.message.EmailMessage()
        mime["From"] = self._sender
        mime["To"] = message.to
        addresses = mime["To"].addresses
        if len(addresses) != 1 or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
            # A token must reach exactly the one mailbox it was made for.
            raise ValueError("email to must be exactly one address")
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.formatdate(usegmt=True)
        mime["Message-ID"] = email.utils.make_msgid(domain=self._domain)
        # RFC 3834: tells vacation responders and the like not to answer.
        mime["Auto-Submitted"] = "auto-generated"
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime, addresses[0].addr_spec

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
            exc_reply: aiosmtplib.SMTPResponseException | None = exc.recipients[0]
        elif isinstance(exc, aiosmtplib.SMTPResponseException):
            exc_reply = exc
        else:
            exc_reply = None
        if exc_reply is not None:
            # The server's own words, which could quote anything it was sent: mask token-like runs.
            reason = (
                f"server replied {exc_reply.code} {_TOKEN_LIKE.sub(_REDACTED, exc_reply.message)}"
            )
        else:
            reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        reason = " ".join(reason.split())
        if self._password:
            reason = reason.replace(self._password, _REDACTED)
        if len(reason) > _MAX_REASON:
            reason = reason[:_MAX_REASON] + "..."
        return (
            f"email not sent via {self.host}:{self.port} ({self.security}): "
            f"{type(exc).__name__}: {reason}"
        )


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """Say goodbye after a delivery. A failure here is ignored: the server has accepted the
    message already, and reporting an error would make callers send it a second time."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await smtp.quit()


def _has_line_break(value: str) -> bool:
    return _LINE_BREAK.search(value) is not None


class EmailBackend(StrEnum):
    CONSOLE = "console"
    SMTP = "smtp"


class MailSettings(Protocol):
    """The settings that choose and configure the sender (``Settings`` is one)."""

    @property
    def email_backend(self) -> EmailBackend: ...
    @property
    def smtp_host(self) -> str | None: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_user(self) -> str | None: ...
    @property
    def smtp_password(self) -> SecretStr | None: ...
    @property
    def smtp_from(self) -> str: ...
    @property
    def smtp_security(self) -> SmtpSecurity: ...
    @property
    def smtp_timeout(self) -> float: ...


def sender_from_settings(settings: MailSettings) -> EmailSender:
    """The sender the configuration asks for."""
    if settings.email_backend is EmailBackend.CONSOLE:
        return ConsoleEmailSender()
    if not settings.smtp_host:  # Settings rejects this already; kept for the type checker.
        raise ValueError("smtp_host is required when email_backend is smtp")
    password = settings.smtp_password
    return SmtpEmailSender(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_user,
        password=password.get_secret_value() if password is not None else None,
        sender=settings.smtp_from,
        security=settings.smtp_security,
        timeout=settings.smtp_timeout,
    )
