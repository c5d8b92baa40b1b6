"""A real SMTP server for tests: aiosmtpd on loopback, keeping every message it accepts.

    with SmtpSink(security="starttls", auth=True) as sink:
        sender = SmtpEmailSender(sink.host, sink.port, username=sink.username,
                                 password=sink.password, ..., tls_context=sink.client_tls_context())
        await sender.send(message)
        [mail] = sink.received

Security modes match the sender's: ``none`` (plain), ``starttls`` (the server refuses every
command until the client has upgraded) and ``tls`` (implicit TLS). TLS uses a private CA and a
certificate for 127.0.0.1/localhost made with ``cryptography``; ``client_tls_context()`` trusts
that CA and nothing else. With ``auth=True`` the server requires AUTH (LOGIN or PLAIN) with
``username``/``password``, and records every attempt, successful or not.

``stop()`` and ``start()`` take the server down and bring it back on the same port (aiosmtpd's
Controller closes its event loop on stop, so each start makes a new one).
"""

from __future__ import annotations

import datetime
import email
import email.policy
import functools
import ipaddress
import re
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SinkSecurity = Literal["none", "starttls", "tls"]
HOST = "127.0.0.1"
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope, the parsed message, and how the session was secured."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    tls: bool
    login: str | None

    def text(self) -> str:
        return _part(self.message, "plain")

    def html(self) -> str:
        return _part(self.message, "html")


@dataclass(frozen=True)
class AuthAttempt:
    mechanism: str
    login: str
    success: bool


class SmtpSink:
    """An SMTP server on 127.0.0.1 and a free port, started by ``with`` or ``start()``."""

    username = "mailer"
    password = "correct horse battery staple"

    def __init__(
        self,
        *,
        security: SinkSecurity = "none",
        auth: bool = False,
        rcpt_reply: str | None = None,
        data_reply: str | None = None,
    ) -> None:
        """``rcpt_reply`` and ``data_reply`` replace the server's answer to RCPT and DATA (e.g.
        a ``550 ...`` rejection); a message is recorded only when DATA is answered with 250."""
        self.security = security
        self.auth = auth
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.host = HOST
        self.port = free_port()
        self.received: list[ReceivedMail] = []
        self.auth_attempts: list[AuthAttempt] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this sink's CA (and only it)."""
        return ssl.create_default_context(cadata=_tls_material().ca_pem.decode())

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is already running")
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="sink.test",  # else aiosmtpd asks DNS for this machine's name
            **self._server_options(),
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the listening socket and every connection: the port now refuses connections."""
        if self._controller is not None:
            controller, self._controller = self._controller, None
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def mail_to(self, email: str, nth: int = 1, timeout_s: float = 15.0) -> ReceivedMail:
        """The ``nth`` message to ``email``, once it has arrived (delivery runs on the
        server's own thread, or after the answer for a background notice)."""
        deadline = time.monotonic() + timeout_s
        while True:
            mails = [m for m in self.received if email in m.rcpt_tos]
            if len(mails) >= nth:
                return mails[nth - 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(mails)} mails to {email}, waited for {nth}")
            time.sleep(0.02)

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _server_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.security == "starttls":
            options.update(tls_context=_server_tls_context(), require_starttls=True)
        elif self.security == "tls":
            options.update(ssl_context=_server_tls_context())
        if self.auth:
            options.update(
                authenticator=self._authenticate,
                # aiosmtpd only counts STARTTLS as TLS; over implicit TLS it would refuse AUTH.
                # A plain sink accepts AUTH in clear so tests can see whether a client sends it.
                auth_require_tls=self.security == "starttls",
                # Not aiosmtpd's auth_required: without auth_require_tls it warns (an error
                # under the test run's filters). _Handler.handle_MAIL enforces it instead.
            )
        return options

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        success = login == self.username and data.password == self.password.encode()
        with self._lock:
            self.auth_attempts.append(AuthAttempt(mechanism, login, success))
        return AuthResult(success=success, handled=False, auth_data=data)

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self.received.append(mail)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self._sink.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self._sink.rcpt_reply or "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        reply = self._sink.data_reply or "250 Message accepted for delivery"
        if not reply.startswith("250"):
            return reply
        login = session.login_data
        self._sink._record(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                tls=server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
                login=login.decode() if isinstance(login, bytes) else None,
            )
        )
        return reply


def smtp_settings(sink: SmtpSink) -> dict[str, Any]:
    """tokenward settings that send its emails to ``sink``."""
    return {
        "email_backend": "smtp",
        "smtp_host": sink.host,
        "smtp_port": sink.port,
        "smtp_security": "none",
        "smtp_timeout": 5.0,
    }


def token_from(link: str) -> str:
    """The ``token`` query parameter of an emailed link."""
    return parse_qs(urlsplit(link).query)["token"][0]


def first_url(mail: ReceivedMail | EmailMessage) -> str:
    """The first http(s) URL in a message's plain-text part (where a user would copy it from)."""
    message = mail.message if isinstance(mail, ReceivedMail) else mail
    match = _URL.search(_part(message, "plain"))
    if match is None:
        raise AssertionError("no URL in the message's text part")
    return match.group(0)


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        raise AssertionError(f"the message has no text/{subtype} part")
    assert isinstance(body, EmailMessage)
    content = body.get_content()
    assert isinstance(content, str)
    return content


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog does) but never says a word,
    like a hung mail server: clients connect, then wait for a greeting that never comes."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@contextmanager
def closed_port() -> Iterator[int]:
    """A port nothing listens on (bound but not listening, so nothing else takes it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        yield int(sock.getsockname()[1])


@dataclass(frozen=True)
class _TlsMaterial:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def _server_tls_context() -> ssl.SSLContext:
    material = _tls_material()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # load_cert_chain reads files only; they live just long enough to be loaded.
    with tempfile.TemporaryDirectory(prefix="tokenward-smtp-tls-") as tmp:
        cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert.write_bytes(material.cert_pem)
        key.write_bytes(material.key_pem)
        context.load_cert_chain(cert, key)
    return context


@functools.cache
def _tls_material() -> _TlsMaterial:
    """A CA and a server certificate it signed, for 127.0.0.1 and localhost (made once a run).

    A separate CA, not one self-signed leaf, so strict X.509 verification accepts it too."""
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenward test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _TlsMaterial(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
