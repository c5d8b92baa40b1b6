"""The passwordless recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tokenward.recipes.passwordless.rules import ContactMethod, FlowType


class PasswordlessSettings(BaseModel):
    passwordless_flow_type: FlowType = Field(
        default=FlowType.USER_INPUT_CODE_AND_MAGIC_LINK,
        description="What a sign-in message carries: `USER_INPUT_CODE` (a 6-digit code), "
        "`MAGIC_LINK` (a link) or `USER_INPUT_CODE_AND_MAGIC_LINK` (both).",
    )
    passwordless_contact_method: ContactMethod = Field(
        default=ContactMethod.EMAIL_OR_PHONE,
        description="Where codes go: `EMAIL`, `PHONE` or `EMAIL_OR_PHONE`.",
    )
    passwordless_code_lifetime: int = Field(
        default=900, ge=60, le=86_400, description="Seconds a sign-in code or link stays valid."
    )
    passwordless_max_code_input_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Wrong codes typed for one sign-in attempt before it must start again.",
    )
