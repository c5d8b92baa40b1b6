"""The email-verification recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EmailVerificationSettings(BaseModel):
    email_verification: Literal["OFF", "OPTIONAL", "REQUIRED"] = Field(
        default="OPTIONAL",
        description="OFF: no st-ev claim. OPTIONAL: the claim is kept, not enforced. REQUIRED: "
        "sessions of unverified users fail claim validation (403).",
    )
    email_verification_token_validity: int = Field(
        default=86_400, ge=60, description="Seconds an email-verification link stays valid."
    )
