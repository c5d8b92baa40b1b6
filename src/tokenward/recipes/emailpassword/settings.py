"""The email/password recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, model_validator


class EmailPasswordSettings(BaseModel):
    password_min_length: int = Field(
        default=8, ge=8, le=64, description="Shortest password accepted at sign-up and reset."
    )
    password_max_length: int = Field(
        default=256,
        ge=64,
        le=4096,
        description="Longest password accepted (longer ones are refused before hashing).",
    )
    password_reset_token_validity: int = Field(
        default=3600, ge=60, description="Seconds a password-reset link stays valid."
    )
    password_reset_revokes_sessions: bool = Field(
        default=True, description="Sign the user out everywhere when their password is reset."
    )

    @model_validator(mode="after")
    def _password_checks(self) -> Self:
        if self.password_max_length < self.password_min_length:
            raise ValueError(
                "password_max_length (TOKENWARD_PASSWORD_MAX_LENGTH): must not be below "
                "password_min_length"
            )
        return self
