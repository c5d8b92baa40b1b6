"""Email delivery: the console backend, and SMTP against a real aiosmtpd server in each security
mode, including the failures a caller must be able to retry."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from tests.support.smtp import AuthAttempt, SmtpSink, closed_port, first_url, silent_server
from tokenward.config import Settings
from tokenward.shared.email_delivery import (
    ConsoleEmailSender,
    EmailDeliveryError,
    EmailMessage,
    SmtpEmailSender,
    SmtpSecurity,
    sender_from_settings,
)
from tokenward.shared.email_templates import password_reset_email

TOKEN = "Zm9vYmFyLXNpbmdsZS11c2UtdG9rZW4tMTIzNDU2Nzg5MA"
LINK = f"https://app.example.com/auth/reset-password?token={TOKEN}&tenantId=public"
TO = "ada@example.com"
FROM = "Example <no-reply@example.com>"
SHORT_TIMEOUT = 0.5


def reset_message(to: str = TO) -> EmailMessage:
    return password_reset_email(to, LINK, app_name="Example", valid_for_s=3600)


def sender_for(
    sink: SmtpSink,
    *,
    security: SmtpSecurity | None = None,
    password: str | None = None,
    trusted: bool = True,
    timeout: float = 10.0,
) -> SmtpEmailSender:
    """A sender configured for ``sink``: its security mode, its credentials when it wants AUTH,
    and trust in its CA."""
    mode: SmtpSecurity = security or sink.security
    return SmtpEmailSender(
        sink.host,
        sink.port,
        username=sink.username if sink.auth else None,
        password=(password or sink.password) if sink.auth else None,
        sender=FROM,
        security=mode,
        timeout=timeout,
        tls_context=sink.client_tls_context() if trusted else None,
    )


@pytest.fixture
def plain_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


# --- the message ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "to", ["ada@example.com\r\nBcc: eve@example.com", "ada@example.com\nX: 1", "a\r@example.com"]
)
def test_line_breaks_in_to_are_refused(to: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        reset_message(to)


def test_line_breaks_in_subject_are_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        EmailMessage(to=TO, subject="Hi\r\nBcc: eve@example.com", text="t", html="h")


# --- console -------------------------------------------------------------------------------


async def test_console_sender_writes_recipient_subject_and_link() -> None:
    stream = io.StringIO()
    await ConsoleEmailSender(stream).send(reset_message())
    out = stream.getvalue()
    assert f"To: {TO}" in out
    assert "Subject: Reset your password for Example" in out
    assert LINK in out
    assert "<html" not in out  # the text body only: the developer wants the link, not markup


async def test_console_sender_defaults_to_current_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await ConsoleEmailSender().send(reset_message())
    assert LINK in capsys.readouterr().out


# --- SMTP: delivery in each security mode --------------------------------------------------


async def test_plain_smtp_delivers_a_multipart_message(plain_sink: SmtpSink) -> None:
    await sender_for(plain_sink).send(reset_message())

    [mail] = plain_sink.received
    assert mail.mail_from == "no-reply@example.com"
    assert mail.rcpt_tos == (TO,)
    assert not mail.tls and mail.login is None
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["From"] == FROM
    assert msg["To"] == TO
    assert msg["Subject"] == "Reset your password for Example"
    assert msg["Date"].datetime is not None
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert first_url(mail) == LINK
    assert LINK.replace("&", "&amp;") in mail.html()


async def test_starttls_with_auth_delivers() -> None:
    with SmtpSink(security="starttls", auth=True) as sink:
        await sender_for(sink).send(reset_message())

    [mail] = sink.received
    assert mail.tls and mail.login == sink.username
    assert sink.auth_attempts == [AuthAttempt(sink.auth_attempts[0].mechanism, "mailer", True)]
    assert first_url(mail) == LINK
    assert "Choose a new password" in mail.html()


@pytest.mark.parametrize("auth", [False, True])
async def test_implicit_tls_delivers(auth: bool) -> None:
    with SmtpSink(security="tls", auth=auth) as sink:
        await sender_for(sink).send(reset_message())

    [mail] = sink.received
    assert mail.tls
    assert mail.login == (sink.username if auth else None)
    assert first_url(mail) == LINK


async def test_sender_from_settings_delivers_over_smtp(plain_sink: SmtpSink) -> None:
    settings = Settings(
        email_backend="smtp",
        smtp_host=plain_sink.host,
        smtp_port=plain_sink.port,
        smtp_security="none",
        smtp_from=FROM,
    )
    sender = sender_from_settings(settings)
    assert isinstance(sender, SmtpEmailSender)
    await sender.send(reset_message())
    assert first_url(plain_sink.received[0]) == LINK


def test_sender_from_settings_maps_every_smtp_option() -> None:
    settings = Settings(
        email_backend="smtp",
        smtp_host="mail.example.com",
        smtp_port=465,
        smtp_user="mailer",
        smtp_password="s3cret-password",
        smtp_security="tls",
        smtp_timeout=3.5,
    )
    sender = sender_from_settings(settings)
    assert isinstance(sender, SmtpEmailSender)
    assert (sender.host, sender.port, sender.security, sender.timeout) == (
        "mail.example.com",
        465,
        "tls",
        3.5,
    )
    assert "s3cret-password" not in repr(sender)


def test_console_is_the_default_backend() -> None:
    assert isinstance(sender_from_settings(Settings()), ConsoleEmailSender)


# --- SMTP: failures ------------------------------------------------------------------------


async def test_starttls_required_but_not_offered_sends_nothing() -> None:
    # A plain server that would accept AUTH in clear: the sender must not even try.
    with SmtpSink(security="none", auth=True) as sink:
        sender = sender_for(sink, security="starttls")
        with pytest.raises(EmailDeliveryError, match="STARTTLS"):
            await sender.send(reset_message())
    assert sink.auth_attempts == []
    assert sink.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_untrusted_certificate_is_a_delivery_error(security: SmtpSecurity) -> None:
    with SmtpSink(security=security, auth=True) as sink, pytest.raises(EmailDeliveryError):
        await sender_for(sink, trusted=False).send(reset_message())
    assert sink.auth_attempts == []
    assert sink.received == []


async def test_server_down_then_back_up(plain_sink: SmtpSink) -> None:
    sender = sender_for(plain_sink, timeout=SHORT_TIMEOUT)
    plain_sink.stop()
    with pytest.raises(EmailDeliveryError, match=str(plain_sink.port)):
        await sender.send(reset_message())

    plain_sink.start()
    await sender.send(reset_message())
    assert first_url(plain_sink.received[0]) == LINK


async def test_closed_port_is_a_delivery_error() -> None:
    with closed_port() as port:
        sender = SmtpEmailSender(
            "127.0.0.1",
            port,
            username=None,
            password=None,
            sender=FROM,
            security="none",
            timeout=SHORT_TIMEOUT,
        )
        with pytest.raises(EmailDeliveryError):
            await sender.send(reset_message())


async def test_server_that_never_answers_times_out() -> None:
    with silent_server() as port:
        sender = SmtpEmailSender(
            "127.0.0.1",
            port,
            username=None,
            password=None,
            sender=FROM,
            security="starttls",
            timeout=SHORT_TIMEOUT,
        )
        with pytest.raises(EmailDeliveryError, match="Timeout"):
            await sender.send(reset_message())


async def test_wrong_password_error_reveals_neither_password_nor_body() -> None:
    wrong = "hunter2-wrong-password"
    message = reset_message()
    with (
        SmtpSink(security="starttls", auth=True) as sink,
        pytest.raises(EmailDeliveryError) as caught,
    ):
        await sender_for(sink, password=wrong).send(message)
    assert sink.auth_attempts and not any(a.success for a in sink.auth_attempts)
    assert sink.received == []
    error = caught.value
    assert "535" in str(error)
    for secret in (wrong, TOKEN, LINK, message.text, message.html):
        assert secret not in str(error)
        assert secret not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__


async def test_a_server_echoing_secrets_in_its_reply_is_redacted() -> None:
    # A server quoting what it received must not make the error carry the token or password.
    password = "hunter2-correct-password"
    reply = f"554 5.7.1 rejected {TOKEN} for {SmtpSink.username}:{password}"
    with SmtpSink(security="starttls", auth=True, data_reply=reply) as sink:
        sink.password = password
        with pytest.raises(EmailDeliveryError, match="554") as caught:
            await sender_for(sink, password=password).send(reset_message())
    assert TOKEN not in str(caught.value)
    assert password not in str(caught.value)


async def test_sending_without_required_auth_is_refused() -> None:
    with SmtpSink(security="starttls", auth=True) as sink:
        sender = SmtpEmailSender(
            sink.host,
            sink.port,
            username=None,
            password=None,
            sender=FROM,
            security="starttls",
            timeout=10.0,
            tls_context=sink.client_tls_context(),
        )
        with pytest.raises(EmailDeliveryError, match="530"):
            await sender.send(reset_message())
    assert sink.received == []


async def test_refused_recipient_is_a_delivery_error() -> None:
    with (
        SmtpSink(rcpt_reply="550 5.1.1 No such user here") as sink,
        pytest.raises(EmailDeliveryError, match="550 5.1.1 No such user here"),
    ):
        await sender_for(sink).send(reset_message())
    assert sink.received == []


async def test_local_failures_are_described_unredacted() -> None:
    # Masking applies to what the server says; the local cause stays readable for operators.
    with (
        SmtpSink(security="tls") as sink,
        pytest.raises(EmailDeliveryError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        await sender_for(sink, trusted=False).send(reset_message())


async def test_to_with_line_break_is_refused_before_connecting(plain_sink: SmtpSink) -> None:
    message = reset_message()
    object.__setattr__(message, "to", "ada@example.com\r\nBcc: eve@example.com")
    with pytest.raises(ValueError, match="line break"):
        await sender_for(plain_sink).send(message)
    assert plain_sink.received == []


@pytest.mark.parametrize("to", ["ada@example.com, eve@example.com", "not an address", ""])
async def test_to_must_be_exactly_one_address(plain_sink: SmtpSink, to: str) -> None:
    message = EmailMessage(to=to, subject="s", text="t", html="h")
    with pytest.raises(ValueError, match="exactly one address"):
        await sender_for(plain_sink).send(message)
    assert plain_sink.received == []
