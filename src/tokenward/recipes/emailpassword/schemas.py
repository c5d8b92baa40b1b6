"""The email/password recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from tokenward.http.schemas import (
    FieldError,
    FormField,
    GeneralError,
    NonEmpty,
    Reply,
    SignedIn,
    StatusOK,
)


class CredentialField(BaseModel):
    id: Literal["email", "password"]
    value: str | None = None


class EmailField(BaseModel):
    id: Literal["email"]
    value: str | None = None


class PasswordField(BaseModel):
    id: Literal["password"]
    value: str | None = None


class SignUpRequest(BaseModel):
    formFields: list[FormField]


class SignInRequest(BaseModel):
    formFields: list[CredentialField]


class PasswordResetTokenRequest(BaseModel):
    formFields: list[EmailField]


class PasswordResetRequest(BaseModel):
    """The SDKs also send ``"method": "token"``, which the server ignores."""

    token: NonEmpty = Field(description="The token from the password-reset link")
    formFields: list[PasswordField]


class WrongCredentials(Reply):
    status: Literal["WRONG_CREDENTIALS_ERROR"]


class ResetPasswordInvalidToken(Reply):
    status: Literal["RESET_PASSWORD_INVALID_TOKEN_ERROR"]


class EmailExists(Reply):
    status: Literal["OK"]
    exists: bool


class SignUpResponse(RootModel[Annotated[SignedIn | FieldError, Field(discriminator="status")]]):
    pass


class SignInResponse(
    RootModel[Annotated[SignedIn | FieldError | WrongCredentials, Field(discriminator="status")]]
):
    pass


class PasswordResetTokenResponse(
    RootModel[Annotated[StatusOK | FieldError | GeneralError, Field(discriminator="status")]]
):
    pass


class PasswordResetResponse(
    RootModel[
        Annotated[StatusOK | FieldError | ResetPasswordInvalidToken, Field(discriminator="status")]
    ]
):
    pass
