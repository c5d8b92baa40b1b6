"""The TOTP recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from tokenward.http.schemas import GeneralError, NonEmpty, Reply


class CreateDeviceRequest(BaseModel):
    deviceName: str | None = Field(default=None, description="Default: TOTP Device <n>")


class DeviceNameRequest(BaseModel):
    deviceName: NonEmpty


class VerifyDeviceRequest(BaseModel):
    deviceName: NonEmpty
    totp: NonEmpty = Field(description="The code the authenticator app shows")


class VerifyCodeRequest(BaseModel):
    totp: NonEmpty = Field(description="The code the authenticator app shows")


class DeviceCreated(Reply):
    status: Literal["OK"]
    deviceName: str
    secret: str = Field(description="Base32, for typing into the app")
    qrCodeString: str = Field(description="The otpauth:// URI to show as a QR code")


class DeviceAlreadyExists(Reply):
    status: Literal["DEVICE_ALREADY_EXISTS_ERROR"]


class CreateDeviceResponse(
    RootModel[
        Annotated[DeviceCreated | DeviceAlreadyExists | GeneralError, Field(discriminator="status")]
    ]
):
    pass


class Device(Reply):
    name: str
    period: int
    skew: int
    verified: bool


class Devices(Reply):
    status: Literal["OK"]
    devices: list[Device]


class DeviceRemoved(Reply):
    status: Literal["OK"]
    didDeviceExist: bool


class DeviceVerified(Reply):
    status: Literal["OK"]
    wasAlreadyVerified: bool


class CodeAccepted(Reply):
    status: Literal["OK"]


class UnknownDevice(Reply):
    status: Literal["UNKNOWN_DEVICE_ERROR"]


class UnknownUser(Reply):
    status: Literal["UNKNOWN_USER_ID_ERROR"]


class InvalidTotp(Reply):
    status: Literal["INVALID_TOTP_ERROR"]
    currentNumberOfFailedAttempts: int
    maxNumberOfFailedAttempts: int


class LimitReached(Reply):
    status: Literal["LIMIT_REACHED_ERROR"]
    retryAfterMs: int


class VerifyDeviceResponse(
    RootModel[
        Annotated[
            DeviceVerified | UnknownDevice | InvalidTotp | LimitReached,
            Field(discriminator="status"),
        ]
    ]
):
    pass


class VerifyCodeResponse(
    RootModel[
        Annotated[
            CodeAccepted | UnknownUser | InvalidTotp | LimitReached,
            Field(discriminator="status"),
        ]
    ]
):
    pass
