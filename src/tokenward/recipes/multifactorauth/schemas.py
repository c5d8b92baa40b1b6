"""The multi-factor auth recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from tokenward.http.schemas import NonEmpty, Reply


class Factors(Reply):
    next: list[str] = Field(description="What to complete next (empty: MFA is done)")
    alreadySetup: list[str]
    allowedToSetup: list[str]


class MfaInfo(Reply):
    status: Literal["OK"]
    factors: Factors
    emails: dict[str, list[str]] = Field(description="Where each email factor's codes can go")
    phoneNumbers: dict[str, list[str]]


class CodesMade(Reply):
    status: Literal["OK"]
    recoveryCodes: list[str] = Field(description="Shown this once; each works once")


class NoSecondFactor(Reply):
    """Recovery codes stand in for an authenticator app: set one up first."""

    status: Literal["NO_SECOND_FACTOR_ERROR"]


class RecoveryCodes(
    RootModel[Annotated[CodesMade | NoSecondFactor, Field(discriminator="status")]]
):
    pass


class RemainingCodes(Reply):
    status: Literal["OK"]
    remaining: int


class UseRecoveryCodeRequest(BaseModel):
    recoveryCode: NonEmpty


class InvalidRecoveryCode(Reply):
    status: Literal["INVALID_RECOVERY_CODE_ERROR"]


class UseRecoveryCodeResponse(
    RootModel[Annotated[RemainingCodes | InvalidRecoveryCode, Field(discriminator="status")]]
):
    pass
