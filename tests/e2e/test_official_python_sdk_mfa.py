"""TOTP and MFA through the official supertokens-python SDK (0.31.4) with tokenward as its core:
the SDK's totp and multifactorauth recipes run the MFA logic (the st-mfa claim, the setup
checks, the required factors in user metadata); tokenward keeps the devices, checks the codes
and locks out guessing. Codes come from pyotp on the real clock (the SDK app's clock)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp

from tests.e2e.conftest import SDK_API_KEY, SdkStack, running_sdk_stack

PASSWORD = "mfapassword123"
EMAIL = "mfa@example.com"
EP = {"rid": "emailpassword", "fdi-version": "4.1", "st-auth-mode": "header"}
TOTP = {"rid": "totp", "fdi-version": "4.1", "st-auth-mode": "header"}
MFA = {"rid": "multifactorauth", "fdi-version": "4.1", "st-auth-mode": "header"}
CORE = {"api-key": SDK_API_KEY, "cdi-version": "5.4", "rid": "totp"}
_ACCESS = re.compile(r'"(?P<request>[A-Z]+ \S+) HTTP/[\d.]+" (?P<status>\d{3})')


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def current_step() -> int:
    return int(time.time()) // 30


def code(secret: str, step: int) -> str:
    """The code of ``step``. The core accepts the current step ± 1 (skew 1), and each accepted
    code must be of a later step than the last one: so a code for the current step stays
    usable for at least 30 s, and the next accepted code is taken from the step after it."""
    return pyotp.TOTP(secret).generate_otp(step)


def wrong_code(secret: str) -> str:
    """A code that matches no step the core would accept now (or a moment later)."""
    near = {code(secret, current_step() + d) for d in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


def sign_in(client: httpx.Client, email: str, *, sign_up: bool = False) -> httpx.Response:
    path = "/auth/signup" if sign_up else "/auth/signin"
    answer = client.post(path, json=form(email=email, password=PASSWORD), headers=EP)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "OK", answer.text
    return answer


def post(client: httpx.Client, path: str, access: str, body: dict[str, Any]) -> httpx.Response:
    answer = client.post(path, json=body, headers=TOTP | bearer(access))
    assert answer.status_code == 200, answer.text
    return answer


def devices(client: httpx.Client, access: str) -> list[dict[str, Any]]:
    listed = client.get("/auth/totp/device/list", headers=TOTP | bearer(access))
    assert listed.status_code == 200, listed.text
    assert listed.json()["status"] == "OK", listed.text
    return sorted(listed.json()["devices"], key=lambda d: d["name"])


def assert_core_log_clean(stack: SdkStack) -> None:
    """Every core API call (the SDK's and the test's) got a 200, and the core did not crash."""
    log = stack.core.output()
    calls = [m for m in _ACCESS.finditer(log) if m["request"] != "GET /hello"]
    assert calls, log
    assert [c.group(0) for c in calls if c["status"] != "200"] == [], log
    assert "Traceback" not in log, log


def test_totp_as_a_required_second_factor_through_the_sdk(sdk_mfa_stack: SdkStack) -> None:
    stack = sdk_mfa_stack
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        signed_up = sign_in(client, EMAIL, sign_up=True)
        user_id = signed_up.json()["user"]["id"]
        access = signed_up.headers["st-access-token"]
        # Nothing required yet: the SDK marks the first factor and the requirements as met.
        me = client.get("/api/me", headers=bearer(access))
        assert me.status_code == 200, me.text
        claim = me.json()["payload"]["st-mfa"]
        assert claim["v"] is True
        assert list(claim["c"]) == ["emailpassword"]

        # A device: the core makes the secret, the SDK builds the QR code string around it.
        created = post(client, "/auth/totp/device", access, {"deviceName": "phone"})
        answer = created.json()
        assert (answer["status"], answer["deviceName"]) == ("OK", "phone"), created.text
        secret = answer["secret"]
        assert re.fullmatch(r"[A-Z2-7]+=*", secret) and len(secret) >= 16
        assert answer["qrCodeString"] == (
            f"otpauth://totp/Acme:mfa%40example.com?secret={secret}&issuer=Acme&digits=6&period=30"
        )
        assert devices(client, access) == [
            {"name": "phone", "period": 30, "skew": 1, "verified": False}
        ]

        # A wrong code is counted by the core; the right one verifies the device.
        wrong = post(
            client,
            "/auth/totp/device/verify",
            access,
            {"deviceName": "phone", "totp": wrong_code(secret)},
        )
        assert wrong.json() == {
            "status": "INVALID_TOTP_ERROR",
            "currentNumberOfFailedAttempts": 1,
            "maxNumberOfFailedAttempts": 5,
        }
        step = current_step()
        verified = post(
            client,
            "/auth/totp/device/verify",
            access,
            {"deviceName": "phone", "totp": code(secret, step)},
        )
        assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}, verified.text
        access = verified.headers.get("st-access-token") or access
        assert devices(client, access) == [
            {"name": "phone", "period": 30, "skew": 1, "verified": True}
        ]

        # TOTP becomes required (the SDK keeps that in the core's user metadata).
        required = client.post(f"/api/require-totp/{user_id}")
        assert required.json() == {"_supertokens": {"requiredSecondaryFactors": ["totp"]}}

        # The next sign-in is pending MFA: the SDK's protected route refuses it.
        signed_in = sign_in(client, EMAIL)
        access = signed_in.headers["st-access-token"]
        pending = client.get("/api/me", headers=bearer(access))
        assert (pending.status_code, pending.json()) == (
            403,
            {
                "message": "invalid claim",
                "claimValidationErrors": [
                    {
                        "id": "st-mfa",
                        "reason": {"message": "MFA requirement for auth is not satisfied"},
                    }
                ],
            },
        )
        info = client.put("/auth/mfa/info", json={}, headers=MFA | bearer(access))
        assert info.status_code == 200, info.text
        assert info.json()["status"] == "OK", info.text
        assert info.json()["factors"] == {
            "next": ["totp"],
            "alreadySetup": ["emailpassword", "totp"],
            "allowedToSetup": [],
        }
        access = info.headers.get("st-access-token") or access

        # The second factor: a wrong code, then a fresh one (a later step than the last).
        refused = post(client, "/auth/totp/verify", access, {"totp": wrong_code(secret)})
        assert refused.json() == {
            "status": "INVALID_TOTP_ERROR",
            "currentNumberOfFailedAttempts": 1,
            "maxNumberOfFailedAttempts": 5,
        }
        replayed = post(client, "/auth/totp/verify", access, {"totp": code(secret, step)})
        assert replayed.json()["status"] == "INVALID_TOTP_ERROR", replayed.text
        done = post(client, "/auth/totp/verify", access, {"totp": code(secret, step + 1)})
        assert done.json() == {"status": "OK"}, done.text
        access = done.headers["st-access-token"]
        me = client.get("/api/me", headers=bearer(access))
        assert me.status_code == 200, me.text
        claim = me.json()["payload"]["st-mfa"]
        assert claim["v"] is True
        assert sorted(claim["c"]) == ["emailpassword", "totp"]

        # The core API that the SDK offers but its FDI does not use: rename and import.
        with httpx.Client(base_url=stack.core.url, headers=CORE, timeout=30) as core:
            renamed = core.put(
                "/recipe/totp/device",
                json={"userId": user_id, "existingDeviceName": "phone", "newDeviceName": "laptop"},
            )
            assert renamed.json() == {"status": "OK"}, renamed.text
            imported = core.post(
                "/recipe/totp/device/import",
                json={
                    "userId": user_id,
                    "deviceName": "imported",
                    "secretKey": pyotp.random_base32(),
                    "period": 30,
                    "skew": 1,
                },
            )
            assert imported.json() == {"status": "OK", "deviceName": "imported"}, imported.text
            again = core.post(
                "/recipe/totp/device/import",
                json={
                    "userId": user_id,
                    "deviceName": "imported",
                    "secretKey": pyotp.random_base32(),
                    "period": 30,
                    "skew": 1,
                },
            )
            assert again.json() == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}, again.text
            taken = core.post(
                "/recipe/totp/device",
                json={"userId": user_id, "deviceName": "laptop", "period": 30, "skew": 1},
            )
            assert taken.json() == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}, taken.text
            clash = core.put(
                "/recipe/totp/device",
                json={
                    "userId": user_id,
                    "existingDeviceName": "laptop",
                    "newDeviceName": "imported",
                },
            )
            assert clash.json() == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}, clash.text
            unknown = core.put(
                "/recipe/totp/device",
                json={"userId": user_id, "existingDeviceName": "nope", "newDeviceName": "x"},
            )
            assert unknown.json() == {"status": "UNKNOWN_DEVICE_ERROR"}, unknown.text
        assert [(d["name"], d["verified"]) for d in devices(client, access)] == [
            ("imported", True),
            ("laptop", True),
        ]

        # Removal (allowed: MFA is complete in this session).
        removed = post(client, "/auth/totp/device/remove", access, {"deviceName": "imported"})
        assert removed.json() == {"status": "OK", "didDeviceExist": True}, removed.text
        absent = post(client, "/auth/totp/device/remove", access, {"deviceName": "imported"})
        assert absent.json() == {"status": "OK", "didDeviceExist": False}, absent.text
        assert [d["name"] for d in devices(client, access)] == ["laptop"]
    assert_core_log_clean(stack)


def test_wrong_totp_codes_lock_verification_in_the_core(sdk_mfa_stack: SdkStack) -> None:
    stack = sdk_mfa_stack
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        access = sign_in(client, "guess@example.com", sign_up=True).headers["st-access-token"]
        created = post(client, "/auth/totp/device", access, {})
        secret, name = created.json()["secret"], created.json()["deviceName"]
        attempt = {"deviceName": name, "totp": wrong_code(secret)}
        for failures in range(1, 6):
            wrong = post(client, "/auth/totp/device/verify", access, attempt)
            assert wrong.json() == {
                "status": "INVALID_TOTP_ERROR",
                "currentNumberOfFailedAttempts": failures,
                "maxNumberOfFailedAttempts": 5,
            }, wrong.text
        locked = post(client, "/auth/totp/device/verify", access, attempt)
        assert locked.json()["status"] == "LIMIT_REACHED_ERROR", locked.text
        assert locked.json()["retryAfterMs"] > 0
        # Locked means locked: even the right code is refused until the cooldown ends.
        right = {"deviceName": name, "totp": code(secret, current_step())}
        still = post(client, "/auth/totp/device/verify", access, right)
        assert still.json()["status"] == "LIMIT_REACHED_ERROR", still.text
        assert [d["verified"] for d in devices(client, access)] == [False]
    assert_core_log_clean(stack)


def test_the_cores_required_second_factor_is_enforced_by_the_sdk(
    tmp_path: Path, database_url: str
) -> None:
    """TOTP required for every user by the core's setting: the SDK reads it from the tenant
    (GET .../tenant/v2), so even a fresh sign-up must set up and use TOTP first."""
    with (
        running_sdk_stack(
            tmp_path,
            database_url,
            access_token_validity_s=3600,
            mfa=True,
            TOKENWARD_MFA_REQUIRED_SECONDARY_FACTORS="totp",
        ) as stack,
        httpx.Client(base_url=stack.url, timeout=30) as client,
    ):
        access = sign_in(client, "new@example.com", sign_up=True).headers["st-access-token"]
        pending = client.get("/api/me", headers=bearer(access))
        assert pending.status_code == 403, pending.text
        assert pending.json()["claimValidationErrors"][0]["id"] == "st-mfa"
        info = client.put("/auth/mfa/info", json={}, headers=MFA | bearer(access))
        assert info.json()["factors"] == {
            "next": ["totp"],
            "alreadySetup": ["emailpassword"],
            "allowedToSetup": ["totp"],
        }, info.text
        access = info.headers.get("st-access-token") or access

        created = post(client, "/auth/totp/device", access, {"deviceName": "phone"})
        secret = created.json()["secret"]
        body = {"deviceName": "phone", "totp": code(secret, current_step())}
        verified = post(client, "/auth/totp/device/verify", access, body)
        assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}, verified.text
        access = verified.headers["st-access-token"]
        me = client.get("/api/me", headers=bearer(access))
        assert me.status_code == 200, me.text
        assert me.json()["payload"]["st-mfa"]["v"] is True
    assert_core_log_clean(stack)
