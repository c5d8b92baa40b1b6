"""SMS delivery: the console backend, the signed webhook against a real HTTP receiver that
verifies the signature, Twilio's API against a real local stand-in, the failures a caller must
be able to retry, and the settings that choose a sender."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.sms import HANG, Reply, TwilioStandIn, WebhookReceiver, verify_signature
from tests.support.smtp import closed_port
from tokenward.config import ConfigError, load_settings, redacted
from tokenward.shared.sms_delivery import (
    SIGNATURE_HEADER,
    ConsoleSmsSender,
    SmsBackend,
    SmsDeliveryError,
    SmsMessage,
    TwilioSmsSender,
    WebhookSmsSender,
    sender_from_settings,
    sign,
)

TO = "+14155550100"
CODE = "482913"
BODY = f"Your Example sign-in code is {CODE}. It expires in 15 minutes."
WEBHOOK_SECRET = b"whsec-0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-9f8e7d6c5b4a39281706"
FROM = "+15005550006"
SHORT_TIMEOUT = 0.3


def message(body: str = BODY) -> SmsMessage:
    return SmsMessage(to=TO, body=body)


def webhook_sender(
    receiver: WebhookReceiver,
    *,
    secret: bytes = WEBHOOK_SECRET,
    retries: int = 2,
    timeout: float = 5.0,
    clock: Callable[[], float] = time.time,
    client: httpx.AsyncClient | None = None,
) -> WebhookSmsSender:
    return WebhookSmsSender(
        receiver.url,
        secret,
        timeout=timeout,
        retries=retries,
        retry_delay=0,
        client=client,
        clock=clock,
    )


def twilio_sender(
    standin: TwilioStandIn,
    *,
    auth_token: str = AUTH_TOKEN,
    from_number: str | None = FROM,
    messaging_service_sid: str | None = None,
    retries: int = 2,
    timeout: float = 5.0,
) -> TwilioSmsSender:
    return TwilioSmsSender(
        ACCOUNT_SID,
        auth_token,
        from_number=from_number,
        messaging_service_sid=messaging_service_sid,
        timeout=timeout,
        base_url=standin.origin,
        retries=retries,
        retry_delay=0,
    )


def assert_reveals_nothing(error: BaseException, *secrets: str) -> None:
    """The error names no secret and not the message: neither its body nor its code."""
    for secret in (BODY, CODE, *secrets):
        assert secret not in str(error)
        assert secret not in repr(error)
    # Nothing chained either: a chained httpx error would carry the request, body and all.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TOKENWARD_"):
            monkeypatch.delenv(name)


# --- the message ---------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["+14155550100\r\n", "+1415\n5550100", "+14155550100\u2028"])
def test_line_breaks_in_to_are_refused(to: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        SmsMessage(to=to, body=BODY)


@pytest.mark.parametrize("to", ["14155550100", "+0123", "+1 415 555 0100", "+1234567890123456", ""])
def test_to_must_be_e164(to: str) -> None:
    with pytest.raises(ValueError, match="E.164"):
        SmsMessage(to=to, body=BODY)


# --- console -------------------------------------------------------------------------------


async def test_console_sender_writes_recipient_and_body() -> None:
    stream = io.StringIO()
    await ConsoleSmsSender(stream).send(message())
    out = stream.getvalue()
    assert f"To: {TO}" in out
    assert BODY in out
    assert "console backend: not sent" in out


async def test_console_sender_defaults_to_current_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await ConsoleSmsSender().send(message())
    assert BODY in capsys.readouterr().out


# --- webhook: delivery and its signature ---------------------------------------------------


async def test_webhook_delivers_signed_compact_json() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        await webhook_sender(receiver).send(message())
    assert receiver.delivered[0].to == TO and receiver.delivered[0].body == BODY
    [request] = receiver.received
    assert request.method == "POST"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.body == json.dumps(
        {"body": BODY, "to": TO}, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
    header = request.headers[SIGNATURE_HEADER]
    assert verify_signature(WEBHOOK_SECRET, header, request.body, now=time.time())


async def test_webhook_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        # A clock a little behind (within the receiver's tolerance): the header carries its time.
        sender = webhook_sender(receiver, clock=lambda: time.time() - 60.7)
        await sender.send(message())
    [request] = receiver.received
    header = request.headers[SIGNATURE_HEADER]
    t, v1 = header.split(",")
    assert t.startswith("t=") and v1.startswith("v1=")
    timestamp = int(t[2:])
    assert abs(timestamp - (time.time() - 61)) < 5
    expected = hmac.new(
        WEBHOOK_SECRET, f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert v1 == f"v1={expected}"
    assert header == sign(WEBHOOK_SECRET, timestamp, request.body)


async def test_webhook_body_is_raw_utf8() -> None:
    body = f"Código de acceso: {CODE} — válido 15 min ✓"
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        await webhook_sender(receiver).send(message(body))
    [request] = receiver.received
    assert body.encode("utf-8") in request.body
    assert b"\\u" not in request.body
    assert receiver.delivered[0].body == body


async def test_webhook_with_a_wrong_secret_is_rejected_and_not_retried() -> None:
    wrong = b"whsec-wrong-wrong-wrong-wrong-wrong-wrong"
    with (
        WebhookReceiver(WEBHOOK_SECRET) as receiver,
        pytest.raises(SmsDeliveryError, match="401") as caught,
    ):
        await webhook_sender(receiver, secret=wrong).send(message())
    assert receiver.rejected_signatures == 1
    assert len(receiver.received) == 1, "a 4xx is final"
    assert receiver.delivered == []
    assert_reveals_nothing(caught.value, wrong.decode(), WEBHOOK_SECRET.decode())


async def test_webhook_with_a_stale_timestamp_is_rejected() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        sender = webhook_sender(receiver, clock=lambda: time.time() - 3600)
        with pytest.raises(SmsDeliveryError, match="401"):
            await sender.send(message())
    assert receiver.rejected_signatures == 1
    assert receiver.delivered == []


def test_receiver_rejects_tampered_or_malformed_signatures() -> None:
    now = int(time.time())
    body = b'{"body":"x","to":"+14155550100"}'
    good = sign(WEBHOOK_SECRET, now, body)
    assert verify_signature(WEBHOOK_SECRET, good, body, now=now)
    assert not verify_signature(WEBHOOK_SECRET, good, body.replace(b"x", b"y"), now=now)
    assert not verify_signature(
        WEBHOOK_SECRET, good.replace(f"t={now}", f"t={now + 1}"), body, now=now
    )
    assert not verify_signature(WEBHOOK_SECRET, f"t={now}", body, now=now)
    assert not verify_signature(WEBHOOK_SECRET, None, body, now=now)


async def test_the_documented_receiver_verifies_a_real_request() -> None:
    """docs/configuration.md's verification snippet, run as written against a real request."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    [snippet] = re.findall(r"```python\n(.*?def verify\(.*?)```", text, re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 (our own documentation)
    verify = namespace["verify"]
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        await webhook_sender(receiver).send(message())
    [request] = receiver.received
    header = request.headers[SIGNATURE_HEADER]
    assert verify(WEBHOOK_SECRET, header, request.body)
    assert not verify(b"another-secret-another-secret-xx", header, request.body)
    assert not verify(WEBHOOK_SECRET, header, request.body + b" ")
    stale = sign(WEBHOOK_SECRET, int(time.time()) - 600, request.body)
    assert not verify(WEBHOOK_SECRET, stale, request.body)


# --- webhook: failures and retries ---------------------------------------------------------


async def test_webhook_500_once_is_retried_and_delivered_once() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        receiver.script(500)
        await webhook_sender(receiver).send(message())
    assert len(receiver.received) == 2
    assert len(receiver.delivered) == 1
    for request in receiver.received:  # each attempt is signed
        header = request.headers[SIGNATURE_HEADER]
        assert verify_signature(WEBHOOK_SECRET, header, request.body, now=time.time())


async def test_webhook_always_500_fails_after_every_retry() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        receiver.script(500, 500, 500, 500)
        with pytest.raises(SmsDeliveryError) as caught:
            await webhook_sender(receiver, retries=2).send(message())
    assert len(receiver.received) == 3, "1 attempt + 2 retries"
    assert receiver.delivered == []
    text = str(caught.value)
    assert "webhook" in text and f"127.0.0.1:{receiver.port}" in text
    assert "500" in text and "3 attempts" in text
    assert_reveals_nothing(caught.value, WEBHOOK_SECRET.decode())


async def test_webhook_400_is_not_retried() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        # A receiver quoting the message back: its reply is never put in the error.
        receiver.script(Reply(400, {"error": f"refused {BODY}"}))
        with pytest.raises(SmsDeliveryError, match="400") as caught:
            await webhook_sender(receiver).send(message())
    assert len(receiver.received) == 1
    assert "1 attempt)" in str(caught.value)
    assert_reveals_nothing(caught.value, WEBHOOK_SECRET.decode())


async def test_webhook_that_hangs_times_out_and_is_retried() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        receiver.script(HANG, HANG)
        started = time.monotonic()
        with pytest.raises(SmsDeliveryError, match="no answer within 0.3 s") as caught:
            await webhook_sender(receiver, retries=1, timeout=SHORT_TIMEOUT).send(message())
        elapsed = time.monotonic() - started
    assert len(receiver.received) == 2
    assert receiver.delivered == []
    assert 2 * SHORT_TIMEOUT <= elapsed < 2 * SHORT_TIMEOUT + 2
    assert_reveals_nothing(caught.value, WEBHOOK_SECRET.decode())


async def test_webhook_that_hangs_once_then_answers_delivers() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        receiver.script(HANG)
        await webhook_sender(receiver, timeout=SHORT_TIMEOUT).send(message())
    assert len(receiver.received) == 2
    assert len(receiver.delivered) == 1


async def test_webhook_nobody_listening_is_a_delivery_error() -> None:
    with closed_port() as port:
        sender = WebhookSmsSender(
            f"http://127.0.0.1:{port}/hooks/sms",
            WEBHOOK_SECRET,
            timeout=2,
            retries=1,
            retry_delay=0,
        )
        with pytest.raises(SmsDeliveryError, match="ConnectError") as caught:
            await sender.send(message())
    assert "2 attempts" in str(caught.value)
    assert_reveals_nothing(caught.value, WEBHOOK_SECRET.decode())


async def test_retry_delay_is_waited_between_attempts() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        receiver.script(500, 500)
        sender = WebhookSmsSender(
            receiver.url, WEBHOOK_SECRET, timeout=5, retries=2, retry_delay=0.2
        )
        started = time.monotonic()
        await sender.send(message())
        elapsed = time.monotonic() - started
    assert len(receiver.delivered) == 1
    assert elapsed >= 0.4


async def test_webhook_uses_an_injected_client() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        async with httpx.AsyncClient() as client:
            sender = webhook_sender(receiver, client=client)
            await sender.send(message())
            await sender.send(message())
    assert len(receiver.delivered) == 2


async def test_webhook_redirect_is_not_followed() -> None:
    # Even by a client that follows redirects: the signed code goes only where configured.
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        receiver.script(Reply(307, headers={"Location": receiver.url}))
        async with httpx.AsyncClient(follow_redirects=True) as client:
            with pytest.raises(SmsDeliveryError, match="307"):
                await webhook_sender(receiver, client=client).send(message())
    assert len(receiver.received) == 1
    assert receiver.delivered == []


def test_repr_shows_no_secret() -> None:
    sender = WebhookSmsSender("https://hooks.example.com/sms?key=abc", WEBHOOK_SECRET, timeout=1)
    assert WEBHOOK_SECRET.decode() not in repr(sender)
    assert "key=abc" not in repr(sender)
    twilio = TwilioSmsSender(
        ACCOUNT_SID, AUTH_TOKEN, from_number=FROM, messaging_service_sid=None, timeout=1
    )
    assert AUTH_TOKEN not in repr(twilio)


# --- Twilio --------------------------------------------------------------------------------


async def test_twilio_posts_the_form_with_basic_auth() -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        await twilio_sender(standin).send(message())
    [request] = standin.received
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    [delivered] = standin.delivered
    assert delivered.fields == {"To": TO, "Body": BODY, "From": FROM}


@pytest.mark.parametrize(
    ("from_number", "fields"),
    [
        (None, {"MessagingServiceSid": "MG" + "1" * 32}),
        (FROM, {"From": FROM, "MessagingServiceSid": "MG" + "1" * 32}),
    ],
)
async def test_twilio_with_a_messaging_service(
    from_number: str | None, fields: dict[str, str]
) -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        sender = twilio_sender(
            standin, from_number=from_number, messaging_service_sid="MG" + "1" * 32
        )
        await sender.send(message())
    [delivered] = standin.delivered
    assert delivered.fields == {"To": TO, "Body": BODY, **fields}


async def test_twilio_error_names_code_and_message_and_is_not_retried() -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        standin.script(
            Reply(
                400,
                {"code": 21211, "message": "The 'To' number is not valid.", "status": 400},
            )
        )
        with pytest.raises(SmsDeliveryError) as caught:
            await twilio_sender(standin).send(message())
    assert len(standin.received) == 1
    text = str(caught.value)
    assert "twilio" in text and f"127.0.0.1:{standin.port}" in text
    assert "400" in text and "21211" in text and "The 'To' number is not valid." in text
    assert_reveals_nothing(caught.value, AUTH_TOKEN)


async def test_twilio_wrong_auth_token_is_final_and_not_revealed() -> None:
    wrong = "twilio-wrong-token-0000000000000000"
    with (
        TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin,
        pytest.raises(SmsDeliveryError, match="20003") as caught,
    ):
        await twilio_sender(standin, auth_token=wrong).send(message())
    assert len(standin.received) == 1
    assert standin.delivered == []
    assert_reveals_nothing(caught.value, wrong, AUTH_TOKEN)


async def test_twilio_error_echoing_secrets_is_masked() -> None:
    echo = f"Body '{BODY}' from {ACCOUNT_SID}:{AUTH_TOKEN} refused; code {CODE}"
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        standin.script(Reply(400, {"code": 30007, "message": echo}))
        with pytest.raises(SmsDeliveryError, match="30007") as caught:
            await twilio_sender(standin).send(message())
    assert_reveals_nothing(caught.value, AUTH_TOKEN)


async def test_twilio_alphanumeric_code_echoed_is_masked() -> None:
    code = "K7QX2M"
    body = f"Sign-in code: {code}"
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        standin.script(Reply(400, {"code": 30007, "message": f"filtered: {code}"}))
        with pytest.raises(SmsDeliveryError, match="30007") as caught:
            await twilio_sender(standin).send(message(body))
    assert code not in str(caught.value)


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_twilio_5xx_and_429_are_retried(status: int) -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        standin.script(Reply(status, {"code": 20500, "message": "Internal Server Error"}))
        await twilio_sender(standin).send(message())
    assert len(standin.received) == 2
    assert len(standin.delivered) == 1


async def test_twilio_always_failing_gives_up_after_retries() -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        standin.script(503, 503, 503)
        with pytest.raises(SmsDeliveryError, match="503") as caught:
            await twilio_sender(standin, retries=2).send(message())
    assert len(standin.received) == 3
    assert "3 attempts" in str(caught.value)
    assert_reveals_nothing(caught.value, AUTH_TOKEN)


async def test_twilio_that_hangs_times_out() -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        standin.script(HANG)
        with pytest.raises(SmsDeliveryError, match="no answer") as caught:
            await twilio_sender(standin, retries=0, timeout=SHORT_TIMEOUT).send(message())
    assert standin.delivered == []
    assert_reveals_nothing(caught.value, AUTH_TOKEN)


# --- settings ------------------------------------------------------------------------------


async def test_sender_from_settings_defaults_to_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = load_settings()
    assert settings.sms_backend is SmsBackend.CONSOLE
    sender = sender_from_settings(settings)
    assert isinstance(sender, ConsoleSmsSender)
    await sender.send(message())
    assert BODY in capsys.readouterr().out


async def test_sender_from_settings_delivers_to_the_webhook() -> None:
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        settings = load_settings(
            overrides={
                "sms_backend": "webhook",
                "sms_webhook_url": receiver.url,
                "sms_webhook_secret": WEBHOOK_SECRET.decode(),
                "sms_timeout": 5,
            }
        )
        await sender_from_settings(settings).send(message())
    assert [d.body for d in receiver.delivered] == [BODY]


async def test_sender_from_settings_delivers_through_twilio() -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        settings = load_settings(
            overrides={
                "sms_backend": "twilio",
                "sms_twilio_account_sid": ACCOUNT_SID,
                "sms_twilio_auth_token": AUTH_TOKEN,
                "sms_twilio_from": FROM,
                "sms_twilio_base_url": standin.origin,
            }
        )
        await sender_from_settings(settings).send(message())
    assert [d.fields for d in standin.delivered] == [{"To": TO, "Body": BODY, "From": FROM}]


WEBHOOK = {
    "sms_backend": "webhook",
    "sms_webhook_url": "https://hooks.example.com/sms",
    "sms_webhook_secret": WEBHOOK_SECRET.decode(),
}
TWILIO = {
    "sms_backend": "twilio",
    "sms_twilio_account_sid": ACCOUNT_SID,
    "sms_twilio_auth_token": AUTH_TOKEN,
    "sms_twilio_from": FROM,
}


@pytest.mark.parametrize(
    ("overrides", "key", "rule"),
    [
        ({"sms_backend": "pigeon"}, "sms_backend", "console"),
        ({**WEBHOOK, "sms_webhook_url": None}, "sms_webhook_url", "required"),
        ({**WEBHOOK, "sms_webhook_secret": None}, "sms_webhook_secret", "required"),
        ({**WEBHOOK, "sms_webhook_secret": "s" * 31}, "sms_webhook_secret", "at least 32"),
        (
            {**WEBHOOK, "sms_webhook_url": "http://hooks.example.com/sms"},
            "sms_webhook_url",
            "https unless",
        ),
        ({**WEBHOOK, "sms_webhook_url": "ftp://hooks.example.com"}, "sms_webhook_url", "http"),
        ({**WEBHOOK, "sms_webhook_url": "hooks.example.com/sms"}, "sms_webhook_url", "http"),
        ({**TWILIO, "sms_twilio_account_sid": None}, "sms_twilio_account_sid", "required"),
        ({**TWILIO, "sms_twilio_auth_token": None}, "sms_twilio_auth_token", "required"),
        ({**TWILIO, "sms_twilio_from": None}, "sms_twilio_from", "required"),
        (
            {**TWILIO, "sms_twilio_base_url": "http://api.twilio.com"},
            "sms_twilio_base_url",
            "https unless",
        ),
        ({"sms_timeout": 0}, "sms_timeout", "greater than 0"),
        ({"sms_timeout": 121}, "sms_timeout", "less than or equal to 120"),
    ],
)
def test_invalid_sms_settings_name_the_key_and_rule(
    overrides: dict[str, object], key: str, rule: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides=overrides)
    text = str(caught.value)
    assert key in text and f"TOKENWARD_{key.upper()}" in text
    assert rule in text
    assert "\n" not in text
    assert WEBHOOK_SECRET.decode() not in text and AUTH_TOKEN not in text


def test_unset_fields_are_not_checked_by_load_settings_override_none() -> None:
    # load_settings drops None overrides: a missing field is really missing from the input.
    with pytest.raises(ConfigError, match="sms_webhook_url"):
        load_settings(overrides={"sms_backend": "webhook"})


@pytest.mark.parametrize(
    "overrides",
    [
        {**WEBHOOK, "sms_webhook_url": "http://localhost:8080/sms"},
        {**WEBHOOK, "sms_webhook_url": "http://127.0.0.1/sms"},
        {**WEBHOOK, "sms_webhook_url": "http://[::1]:9000/sms"},
        {
            **{k: v for k, v in TWILIO.items() if k != "sms_twilio_from"},
            "sms_twilio_messaging_service_sid": "MG" + "1" * 32,
        },
        {"sms_webhook_url": "http://localhost/sms"},  # configured ahead, console still chosen
    ],
)
def test_valid_sms_settings(overrides: dict[str, object]) -> None:
    load_settings(overrides=overrides)


def test_sms_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENWARD_SMS_WEBHOOK_SECRET", WEBHOOK_SECRET.decode())
    monkeypatch.setenv("TOKENWARD_SMS_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    settings = load_settings()
    shown = repr(redacted(settings))
    assert WEBHOOK_SECRET.decode() not in shown and AUTH_TOKEN not in shown
    assert WEBHOOK_SECRET.decode() not in repr(settings) and AUTH_TOKEN not in repr(settings)
    assert redacted(settings)["sms_webhook_secret"] == "********"
    assert redacted(settings)["sms_twilio_auth_token"] == "********"
    assert redacted(settings)["sms_backend"] == "console"
