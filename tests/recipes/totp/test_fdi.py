"""TOTP and MFA over HTTP (FDI), on SQLite and PostgreSQL, in header mode: a device set up and
verified, the second factor asked for at the next sign-in, the ``st-mfa`` claim on the same
response, replay and the attempt lock. Codes come from pyotp with the test's clock."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.api import Api, running_api

EP = {"rid": "emailpassword", "st-auth-mode": "header"}
TOTP = {"rid": "totp"}
MFA = {"rid": "multifactorauth"}
PROTECTED = "/test/session"
EMAIL, PASSWORD = "alice@example.com", "correct horse battery staple 9"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, totp_issuer="Acme") as running:
        yield running


def _form() -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": EMAIL}, {"id": "password", "value": PASSWORD}]}


class Browser:
    """A header-mode client that keeps the newest access token, as the SDKs do."""

    def __init__(self, api: Api, access: str) -> None:
        self.api = api
        self.access = access

    def _keep(self, response: httpx.Response) -> httpx.Response:
        self.access = response.headers.get("st-access-token", self.access)
        return response

    async def post(self, path: str, body: dict[str, Any], rid: dict[str, str]) -> httpx.Response:
        headers = rid | {"authorization": f"Bearer {self.access}"}
        return self._keep(await self.api.client.post(f"/auth{path}", json=body, headers=headers))

    async def get(self, path: str, rid: dict[str, str] | None = None) -> httpx.Response:
        headers = (rid or {}) | {"authorization": f"Bearer {self.access}"}
        return self._keep(await self.api.client.get(path, headers=headers))

    async def put(self, path: str, rid: dict[str, str]) -> httpx.Response:
        headers = rid | {"authorization": f"Bearer {self.access}"}
        return self._keep(await self.api.client.put(f"/auth{path}", json={}, headers=headers))

    def mfa(self) -> dict[str, Any]:
        payload = self.access.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
        value: dict[str, Any] = claims["st-mfa"]
        return value


async def sign_in(api: Api, path: str = "/signin") -> Browser:
    response = await api.client.post(f"/auth{path}", json=_form(), headers=EP)
    assert response.status_code == 200 and response.json()["status"] == "OK", response.text
    return Browser(api, response.headers["st-access-token"])


def code(secret: str, api: Api, offset_s: int = 0) -> str:
    return pyotp.TOTP(secret).at((api.clock.now_ms() // 1000) + offset_s)


async def set_up_device(api: Api, browser: Browser) -> str:
    created = (await browser.post("/totp/device", {}, TOTP)).json()
    assert created["status"] == "OK", created
    verified = await browser.post(
        "/totp/device/verify",
        {"deviceName": created["deviceName"], "totp": code(created["secret"], api)},
        TOTP,
    )
    assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}
    secret: str = created["secret"]
    return secret


async def test_a_verified_device_is_asked_for_at_the_next_sign_in(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    assert browser.mfa()["v"] is True and "emailpassword" in browser.mfa()["c"]
    created = (await browser.post("/totp/device", {"deviceName": "phone"}, TOTP)).json()
    assert created["deviceName"] == "phone"
    assert len(created["secret"]) == 32
    assert created["qrCodeString"] == (
        f"otpauth://totp/Acme:alice%40example.com?secret={created['secret']}"
        "&issuer=Acme&digits=6&period=30"
    )
    listed = (await browser.get("/auth/totp/device/list", TOTP)).json()
    assert listed == {
        "status": "OK",
        "devices": [{"name": "phone", "period": 30, "skew": 1, "verified": False}],
    }
    verified = await browser.post(
        "/totp/device/verify", {"deviceName": "phone", "totp": code(created["secret"], api)}, TOTP
    )
    assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}
    assert "totp" in browser.mfa()["c"], "the claim is updated on the same response"

    api.clock.advance(seconds=60)
    again = await sign_in(api)
    assert again.mfa()["v"] is False
    blocked = await again.get(PROTECTED)
    assert blocked.status_code == 403
    assert blocked.json() == {
        "message": "invalid claim",
        "claimValidationErrors": [
            {"id": "st-mfa", "reason": {"message": "MFA requirement for auth is not satisfied"}}
        ],
    }
    info = (await again.put("/mfa/info", MFA)).json()
    assert info["factors"]["next"] == ["totp"]
    assert info["factors"]["alreadySetup"] == ["emailpassword", "totp"]
    assert info["emails"]["emailpassword"] == [EMAIL]
    done = await again.post("/totp/verify", {"totp": code(created["secret"], api)}, TOTP)
    assert done.json() == {"status": "OK"}
    assert again.mfa()["v"] is True
    through = await again.get(PROTECTED)
    assert through.status_code == 200, through.text


async def test_an_accepted_code_is_not_accepted_again(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    replay = await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)
    assert replay.json() == {
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": 1,
        "maxNumberOfFailedAttempts": 5,
    }
    api.clock.advance(seconds=30)
    fresh = await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)
    assert fresh.json() == {"status": "OK"}


async def test_wrong_codes_lock_verification_until_the_cooldown(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    right = code(secret, api, 30)
    wrong = "000000" if right != "000000" else "111111"
    for attempt in range(1, 6):
        refused = await browser.post("/totp/verify", {"totp": wrong}, TOTP)
        assert refused.json()["currentNumberOfFailedAttempts"] == attempt
    locked = (await browser.post("/totp/verify", {"totp": right}, TOTP)).json()
    assert locked == {"status": "LIMIT_REACHED_ERROR", "retryAfterMs": 900_000}
    api.clock.advance(seconds=900)
    assert (await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)).json() == {
        "status": "OK"
    }
