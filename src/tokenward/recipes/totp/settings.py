"""The TOTP recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TotpSettings(BaseModel):
    totp_issuer: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The issuer authenticator apps show next to the account. Default: app_name.",
    )
    totp_period: int = Field(
        default=30, ge=15, le=300, description="Seconds each code of a new device is valid."
    )
    totp_digits: int = Field(default=6, ge=6, le=8, description="Digits in a code.")
    totp_skew: int = Field(
        default=1,
        ge=0,
        le=5,
        description="Periods before and after the current one whose codes are still accepted "
        "(clock drift between the server and the phone).",
    )
    totp_max_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Wrong codes in a row (per user) before verification is locked.",
    )
    totp_rate_limit_cooldown: int = Field(
        default=900,
        ge=1,
        le=86_400,
        description="Seconds verification stays locked after `totp_max_attempts` wrong codes.",
    )
