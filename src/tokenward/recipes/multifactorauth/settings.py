"""The multi-factor auth recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

from tokenward.recipes.multifactorauth.rules import SECONDARY_FACTORS


class MultiFactorAuthSettings(BaseModel):
    mfa_required_secondary_factors: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated second factors every user must complete at sign-in, one "
        "of them (`totp`, `otp-email`, `otp-phone`). A user who has none set up is asked to "
        "set one up. Empty: only users who set up a factor are asked for it.",
    )
    mfa_enrolled_factors_required: bool = Field(
        default=True,
        description="A user with a verified TOTP device must use it at every sign-in.",
    )
    mfa_step_up_max_age: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="Seconds within which a second factor must have been completed for the "
        "sensitive actions that ask again (removing a verified TOTP device, new recovery codes).",
    )
    mfa_recovery_code_count: int = Field(
        default=10, ge=1, le=50, description="Recovery codes in a set."
    )
    mfa_factor_change_emails: bool = Field(
        default=True,
        description="Email the user when a second factor is added or removed, or recovery "
        "codes are made (best effort: a failing mail server does not fail the change).",
    )

    @field_validator("mfa_required_secondary_factors", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(f.strip() for f in value.split(",") if f.strip())
        return value

    @field_validator("mfa_required_secondary_factors")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for factor in value:
            if factor not in SECONDARY_FACTORS:
                raise ValueError(
                    f"{factor!r} is not a second factor; use {', '.join(SECONDARY_FACTORS)}"
                )
        return value
