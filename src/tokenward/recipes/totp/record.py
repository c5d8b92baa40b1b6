"""The TOTP recipe: authenticator-app devices and codes (FDI without a tenant segment, CDI)."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.recipes.totp import cdi, fdi
from tokenward.recipes.totp import schemas as s
from tokenward.recipes.totp.rules import RECIPE_ID as TOTP
from tokenward.recipes.totp.settings import TotpSettings
from tokenward.shared.database.schema import totp_attempts, totp_devices

TAG = "TOTP Recipe"
CODES = rl.Limit(rl.code_consumes)
"""Per address; each user's wrong codes are limited by the recipe itself (the lock)."""

RECORD = RecipeRecord(
    recipe_id=TOTP,
    frontend=(
        FrontendRoute(
            "POST", "/totp/device", fdi.create_device,
            Operation(
                "totpCreateDevice", "Add an authenticator app (unverified until a code)", TAG,
                s.CreateDeviceResponse, body=s.CreateDeviceRequest, rid=TOTP, session="access",
            ),
        ),
        FrontendRoute(
            "GET", "/totp/device/list", fdi.list_devices,
            Operation(
                "totpListDevices", "The session user's authenticator apps", TAG, s.Devices,
                rid=TOTP, session="access",
            ),
        ),
        FrontendRoute(
            "POST", "/totp/device/remove", fdi.remove_device,
            Operation(
                "totpRemoveDevice", "Remove an authenticator app (a verified one needs step-up)",
                TAG, s.DeviceRemoved, body=s.DeviceNameRequest, rid=TOTP, session="access",
            ),
        ),
        FrontendRoute(
            "POST", "/totp/device/verify", fdi.verify_device,
            Operation(
                "totpVerifyDevice", "Verify a new authenticator app with a code from it", TAG,
                s.VerifyDeviceResponse, body=s.VerifyDeviceRequest, rid=TOTP, session="access",
            ),
            limit=CODES,
        ),
        FrontendRoute(
            "POST", "/totp/verify", fdi.verify_code,
            Operation(
                "totpVerify", "Complete the second factor with a code", TAG,
                s.VerifyCodeResponse, body=s.VerifyCodeRequest, rid=TOTP, session="access",
            ),
            limit=CODES,
        ),
    ),
    core=(
        CoreRoute("POST", "/recipe/totp/device", cdi.create_device),
        CoreRoute("PUT", "/recipe/totp/device", cdi.rename_device),
        CoreRoute("POST", "/recipe/totp/device/import", cdi.import_device),
        CoreRoute("GET", "/recipe/totp/device/list", cdi.list_devices),
        CoreRoute("POST", "/recipe/totp/device/remove", cdi.remove_device),
        CoreRoute("POST", "/recipe/totp/device/verify", cdi.verify_device, tenanted=True),
        CoreRoute("POST", "/recipe/totp/verify", cdi.verify_code, tenanted=True),
    ),
    tables=(totp_devices, totp_attempts),
    settings=TotpSettings,
)  # fmt: skip
