"""The email-verification recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from tokenward.http.schemas import (
    GeneralError,
    NonEmpty,
    Reply,
    StatusOK,
)


class VerifyEmailRequest(BaseModel):
    method: Literal["token"]
    token: NonEmpty = Field(description="The token from the email-verification link")


# --- the user object ------------------------------------------------------------------------


class EmailVerificationInvalidToken(Reply):
    status: Literal["EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"]


class VerificationEmailSent(Reply):
    status: Literal["OK", "EMAIL_ALREADY_VERIFIED_ERROR"]


class IsVerified(Reply):
    status: Literal["OK"]
    isVerified: bool


class VerifyEmailResponse(
    RootModel[Annotated[StatusOK | EmailVerificationInvalidToken, Field(discriminator="status")]]
):
    pass


class VerificationEmailResponse(
    RootModel[Annotated[VerificationEmailSent | GeneralError, Field(discriminator="status")]]
):
    pass


# --- keys -----------------------------------------------------------------------------------
