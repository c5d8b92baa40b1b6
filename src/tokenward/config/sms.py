"""How text messages are delivered (``shared.sms_delivery``)."""

from __future__ import annotations

from typing import Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator

from tokenward.shared.sms_delivery import SmsBackend

MIN_WEBHOOK_SECRET_LENGTH = 32


class SmsSettings(BaseModel):
    sms_backend: SmsBackend = Field(
        default=SmsBackend.CONSOLE,
        description="`console` prints text messages to standard output (development); `webhook` "
        "POSTs them, signed, to `sms_webhook_url`; `twilio` sends them with Twilio's API.",
    )
    sms_webhook_url: str | None = Field(
        default=None,
        description="URL the webhook backend POSTs each message to (https unless localhost).",
    )
    sms_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret (at least 32 characters) keying the HMAC-SHA256 signature of "
        "each webhook request.",
    )
    sms_twilio_account_sid: str | None = Field(
        default=None, description="Twilio account SID (`AC…`), the Basic-auth user name."
    )
    sms_twilio_auth_token: SecretStr | None = Field(
        default=None, description="Twilio auth token, the Basic-auth password."
    )
    sms_twilio_from: str | None = Field(
        default=None,
        description="Sender: a Twilio number in E.164 form or an alphanumeric sender ID.",
    )
    sms_twilio_messaging_service_sid: str | None = Field(
        default=None,
        description="Twilio Messaging Service SID (`MG…`), instead of or as well as a sender.",
    )
    sms_twilio_base_url: str = Field(
        default="https://api.twilio.com",
        description="Origin of Twilio's REST API (https unless localhost; tests point it at a "
        "local stand-in).",
    )
    sms_timeout: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Seconds an SMS delivery attempt may take before it gives up.",
    )

    @model_validator(mode="after")
    def _sms_checks(self) -> Self:
        if self.sms_webhook_url is not None:
            _check_url("sms_webhook_url", self.sms_webhook_url)
        _check_url("sms_twilio_base_url", self.sms_twilio_base_url)
        secret = self.sms_webhook_secret
        if secret is not None and len(secret.get_secret_value()) < MIN_WEBHOOK_SECRET_LENGTH:
            raise ValueError(
                "sms_webhook_secret (TOKENWARD_SMS_WEBHOOK_SECRET): must be at least "
                f"{MIN_WEBHOOK_SECRET_LENGTH} characters"
            )
        if self.sms_backend is SmsBackend.WEBHOOK:
            if not self.sms_webhook_url:
                raise ValueError(
                    "sms_webhook_url (TOKENWARD_SMS_WEBHOOK_URL): required when sms_backend is "
                    "webhook"
                )
            if secret is None:
                raise ValueError(
                    "sms_webhook_secret (TOKENWARD_SMS_WEBHOOK_SECRET): required when "
                    "sms_backend is webhook"
                )
        if self.sms_backend is SmsBackend.TWILIO:
            if not self.sms_twilio_account_sid:
                raise ValueError(
                    "sms_twilio_account_sid (TOKENWARD_SMS_TWILIO_ACCOUNT_SID): required when "
                    "sms_backend is twilio"
                )
            token = self.sms_twilio_auth_token
            if token is None or not token.get_secret_value():
                raise ValueError(
                    "sms_twilio_auth_token (TOKENWARD_SMS_TWILIO_AUTH_TOKEN): required when "
                    "sms_backend is twilio"
                )
            if not self.sms_twilio_from and not self.sms_twilio_messaging_service_sid:
                raise ValueError(
                    "sms_twilio_from (TOKENWARD_SMS_TWILIO_FROM): required when sms_backend is "
                    "twilio, unless sms_twilio_messaging_service_sid is set"
                )
        return self


def _check_url(name: str, url: str) -> None:
    """An http(s) URL with a host, and https unless that host is this machine: the requests
    carry a signed one-time code or the Twilio credentials."""
    where = f"{name} (TOKENWARD_{name.upper()})"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise ValueError(f"{where}: must be an http or https URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{where}: must be an http or https URL with a host")
    if parts.scheme == "http" and host not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError(f"{where}: must be https unless its host is localhost")
