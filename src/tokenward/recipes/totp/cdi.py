"""Core API (CDI) TOTP endpoints, as supertokens-python 0.31.4 calls them: devices belong to the
app (no tenant segment); the two verify calls carry the tenant. The SDK runs the MFA logic
itself (its claim, the setup checks); the core keeps devices, codes and the attempt lock."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.context import runtime
from tokenward.http.core_api import CdiBadRequest, body, cdi, ok, query_field, status, string_field
from tokenward.recipes.totp.service import (
    Accepted,
    DeviceAlreadyExists,
    LockedOut,
    Totp,
    UnknownDevice,
    UnknownUser,
    Verdict,
)


def _optional_name(data: dict[str, Any]) -> str | None:
    name = data.get("deviceName")
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise CdiBadRequest("Field name 'deviceName' is invalid in JSON input")
    return name


def _int(data: dict[str, Any], name: str, *, least: int, most: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if type(value) is not int or not least <= value <= most:
        raise CdiBadRequest(f"{name} must be from {least} to {most}")
    return value


@cdi
async def create_device(request: Request) -> Response:
    """``POST /recipe/totp/device``: ``{userId, deviceName?, skew, period}``."""
    return await _put_device(runtime(request).services.totp, await body(request), imported=False)


@cdi
async def import_device(request: Request) -> Response:
    """``POST /recipe/totp/device/import``: ``{userId, deviceName?, skew, period, secretKey}``:
    a device from another system, verified already."""
    return await _put_device(runtime(request).services.totp, await body(request), imported=True)


async def _put_device(totp: Totp, data: dict[str, Any], *, imported: bool) -> Response:
    user_id, name = string_field(data, "userId"), _optional_name(data)
    # Bounded: each period of skew is one more HMAC per code checked.
    period = _int(data, "period", least=1, most=3600)
    skew = _int(data, "skew", least=0, most=10)
    try:
        if imported:
            secret = string_field(data, "secretKey")
            device = await totp.import_device(user_id, secret, name, period=period, skew=skew)
            return ok(deviceName=device.name)
        device = await totp.create_device(user_id, name, period=period, skew=skew)
        return ok(deviceName=device.name, secret=device.secret)
    except DeviceAlreadyExists:
        return status("DEVICE_ALREADY_EXISTS_ERROR")
    except UnknownUser:
        return status("UNKNOWN_USER_ID_ERROR")
    except ValueError as invalid:
        raise CdiBadRequest(str(invalid)) from None


@cdi
async def rename_device(request: Request) -> Response:
    """``PUT /recipe/totp/device``: ``{userId, existingDeviceName, newDeviceName}``."""
    data = await body(request)
    try:
        await runtime(request).services.totp.rename_device(
            string_field(data, "userId"),
            string_field(data, "existingDeviceName"),
            string_field(data, "newDeviceName"),
        )
    except UnknownDevice:
        return status("UNKNOWN_DEVICE_ERROR")
    except DeviceAlreadyExists:
        return status("DEVICE_ALREADY_EXISTS_ERROR")
    except ValueError as invalid:
        raise CdiBadRequest(str(invalid)) from None
    return ok()


@cdi
async def list_devices(request: Request) -> Response:
    devices = await runtime(request).services.totp.devices(query_field(request, "userId"))
    return ok(
        devices=[
            {"name": d.name, "period": d.period, "skew": d.skew, "verified": d.verified}
            for d in devices
        ]
    )


@cdi
async def remove_device(request: Request) -> Response:
    data = await body(request)
    removed = await runtime(request).services.totp.remove_device(
        string_field(data, "userId"), string_field(data, "deviceName")
    )
    return ok(didDeviceExist=removed is not None)


@cdi
async def verify_device(request: Request) -> Response:
    """``POST /<tenant>/recipe/totp/device/verify``: ``{userId, deviceName, totp}``."""
    data = await body(request)
    try:
        verdict = await runtime(request).services.totp.verify_device(
            string_field(data, "userId"),
            string_field(data, "deviceName"),
            string_field(data, "totp"),
        )
    except UnknownDevice:
        return status("UNKNOWN_DEVICE_ERROR")
    if isinstance(verdict, Accepted):
        return ok(wasAlreadyVerified=verdict.was_already_verified)
    return _refused(verdict)


@cdi
async def verify_code(request: Request) -> Response:
    """``POST /<tenant>/recipe/totp/verify``: ``{userId, totp}``, any verified device."""
    data = await body(request)
    try:
        verdict = await runtime(request).services.totp.verify_code(
            string_field(data, "userId"), string_field(data, "totp")
        )
    except UnknownUser:
        return status("UNKNOWN_USER_ID_ERROR")
    if isinstance(verdict, Accepted):
        return ok()
    return _refused(verdict)


def _refused(verdict: Verdict) -> Response:
    if isinstance(verdict, LockedOut):
        return status("LIMIT_REACHED_ERROR", retryAfterMs=verdict.retry_after_ms)
    if isinstance(verdict, Accepted):
        raise TypeError("an accepted code is not refused")
    return status(
        "INVALID_TOTP_ERROR",
        currentNumberOfFailedAttempts=verdict.failures,
        maxNumberOfFailedAttempts=verdict.max_attempts,
    )
