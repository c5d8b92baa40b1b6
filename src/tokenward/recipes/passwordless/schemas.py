"""The passwordless recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from tokenward.http.schemas import GeneralError, NonEmpty, Reply, StatusOK, User


class CreateCodeRequest(BaseModel):
    email: str | None = Field(default=None, description="Exactly one of email and phoneNumber")
    phoneNumber: str | None = Field(
        default=None, description="With its country code (+…); stored in E.164"
    )
    shouldTryLinkingWithSessionUser: bool | None = None


class ResendCodeRequest(BaseModel):
    deviceId: NonEmpty
    preAuthSessionId: NonEmpty
    shouldTryLinkingWithSessionUser: bool | None = None


class ConsumeCodeRequest(BaseModel):
    preAuthSessionId: NonEmpty
    linkCode: str | None = Field(
        default=None, description="From the magic link's fragment; or deviceId + userInputCode"
    )
    deviceId: str | None = None
    userInputCode: str | None = None
    shouldTryLinkingWithSessionUser: bool | None = None


class CodeCreated(Reply):
    status: Literal["OK"]
    deviceId: str
    preAuthSessionId: str
    flowType: Literal["USER_INPUT_CODE", "MAGIC_LINK", "USER_INPUT_CODE_AND_MAGIC_LINK"]


class SignInUpNotAllowed(Reply):
    status: Literal["SIGN_IN_UP_NOT_ALLOWED"]
    reason: str


class RestartFlow(Reply):
    status: Literal["RESTART_FLOW_ERROR"]


class WrongCode(Reply):
    status: Literal["INCORRECT_USER_INPUT_CODE_ERROR", "EXPIRED_USER_INPUT_CODE_ERROR"]
    failedCodeInputAttemptCount: int
    maximumCodeInputAttempts: int


class CodeConsumed(Reply):
    status: Literal["OK"]
    createdNewRecipeUser: bool
    user: User


class Exists(Reply):
    status: Literal["OK"]
    exists: bool


class CreateCodeResponse(
    RootModel[
        Annotated[CodeCreated | SignInUpNotAllowed | GeneralError, Field(discriminator="status")]
    ]
):
    pass


class ResendCodeResponse(
    RootModel[Annotated[StatusOK | RestartFlow | GeneralError, Field(discriminator="status")]]
):
    pass


class ConsumeCodeResponse(
    RootModel[
        Annotated[
            CodeConsumed | WrongCode | RestartFlow | SignInUpNotAllowed | GeneralError,
            Field(discriminator="status"),
        ]
    ]
):
    pass
