"""TOTP and MFA over HTTP (FDI), on SQLite and PostgreSQL, in header mode: a device set up and
verified, the second factor asked for at the next sign-in, the ``st-mfa`` claim on the same
response, replay and the attempt lock. Codes come from pyotp with the test's clock."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select

from tests.support.api import Api, running_api, set_cookies
from tokenward.shared.database.schema import totp_devices

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


async def test_a_code_typed_as_the_app_shows_it_is_accepted(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=30)
    shown = code(secret, api)
    spaced = await browser.post("/totp/verify", {"totp": f" {shown[:3]} {shown[3:]} "}, TOTP)
    assert spaced.json() == {"status": "OK"}


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


# --- parallel requests (MFA-01, MFA-02) ---------------------------------------------------------


async def test_parallel_verifies_of_one_valid_code_accept_exactly_one(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=30)
    valid = code(secret, api)
    answers = await asyncio.gather(
        *(browser.post("/totp/verify", {"totp": valid}, TOTP) for _ in range(10))
    )
    statuses = [a.json()["status"] for a in answers]
    assert all(a.status_code == 200 for a in answers)
    assert statuses.count("OK") == 1, statuses
    assert set(statuses) <= {"OK", "INVALID_TOTP_ERROR", "LIMIT_REACHED_ERROR"}


async def test_parallel_wrong_codes_never_exceed_the_limit(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=30)
    window = {code(secret, api, d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in window)
    answers = await asyncio.gather(
        *(browser.post("/totp/verify", {"totp": wrong}, TOTP) for _ in range(20))
    )
    bodies = [a.json() for a in answers]
    refused = [b for b in bodies if b["status"] == "INVALID_TOTP_ERROR"]
    assert len(refused) == 5, bodies
    assert sorted(b["currentNumberOfFailedAttempts"] for b in refused) == [1, 2, 3, 4, 5]
    assert sum(b["status"] == "LIMIT_REACHED_ERROR" for b in bodies) == 15
    right = (await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)).json()
    assert right["status"] == "LIMIT_REACHED_ERROR", "locked even for the right code"


# --- a pending session on a protected route, in both token modes ------------------------------


async def test_a_session_without_the_factor_is_refused_in_header_and_cookie_mode(
    api: Api,
) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    refusal = {
        "message": "invalid claim",
        "claimValidationErrors": [
            {"id": "st-mfa", "reason": {"message": "MFA requirement for auth is not satisfied"}}
        ],
    }
    header_mode = await sign_in(api)
    blocked = await header_mode.get(PROTECTED)
    assert (blocked.status_code, blocked.json()) == (403, refusal)

    api.client.cookies.clear()
    signed = await api.client.post(
        "/auth/signin", json=_form(), headers={"rid": "emailpassword", "st-auth-mode": "cookie"}
    )
    assert signed.status_code == 200 and "st-access-token" not in signed.headers
    access = set_cookies(signed)["sAccessToken"].value
    api.client.cookies.clear()
    in_cookie = await api.client.get(PROTECTED, headers={"cookie": f"sAccessToken={access}"})
    assert (in_cookie.status_code, in_cookie.json()) == (403, refusal)
    assert (await header_mode.get(PROTECTED)).status_code == 403


# --- removing devices ---------------------------------------------------------------------------


async def test_an_unverified_device_is_removed_freely(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await browser.post("/totp/device", {"deviceName": "half"}, TOTP)
    removed = await browser.post("/totp/device/remove", {"deviceName": "half"}, TOTP)
    assert removed.json() == {"status": "OK", "didDeviceExist": True}
    again = await browser.post("/totp/device/remove", {"deviceName": "half"}, TOTP)
    assert again.json() == {"status": "OK", "didDeviceExist": False}


async def test_removing_a_verified_device_needs_mfa_and_a_recent_second_factor(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)  # TOTP Device 0

    # A pending session (v false) may not remove it.
    api.clock.advance(seconds=30)
    pending = await sign_in(api)
    refused = await pending.post("/totp/device/remove", {"deviceName": "TOTP Device 0"}, TOTP)
    assert refused.status_code == 403
    assert refused.json()["claimValidationErrors"] == [
        {"id": "st-mfa", "reason": {"message": "MFA requirement for auth is not satisfied"}}
    ]

    # Past mfa_step_up_max_age (300 s) since the code, the factor is asked for again.
    api.clock.advance(seconds=301)
    stale = await browser.post("/totp/device/remove", {"deviceName": "TOTP Device 0"}, TOTP)
    assert stale.status_code == 403
    [error] = stale.json()["claimValidationErrors"]
    assert error["id"] == "st-mfa"
    assert error["reason"]["maxAgeInSeconds"] == 300
    assert [
        d["verified"] for d in (await browser.get("/auth/totp/device/list", TOTP)).json()["devices"]
    ] == [True]

    assert (await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)).json() == {
        "status": "OK"
    }
    removed = await browser.post("/totp/device/remove", {"deviceName": "TOTP Device 0"}, TOTP)
    assert removed.json() == {"status": "OK", "didDeviceExist": True}
    listed = (await browser.get("/auth/totp/device/list", TOTP)).json()
    assert listed == {"status": "OK", "devices": []}


async def test_the_factor_completed_in_cookie_mode_renews_the_cookie(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=30)
    api.client.cookies.clear()
    signed = await api.client.post(
        "/auth/signin", json=_form(), headers={"rid": "emailpassword", "st-auth-mode": "cookie"}
    )
    access = set_cookies(signed)["sAccessToken"].value
    api.client.cookies.clear()
    cookie = {"cookie": f"sAccessToken={access}"}
    done = await api.client.post(
        "/auth/totp/verify", json={"totp": code(secret, api)}, headers=TOTP | cookie
    )
    assert done.json() == {"status": "OK"}
    assert "st-access-token" not in done.headers, "the answer keeps the session's mode"
    renewed = set_cookies(done)["sAccessToken"].value
    assert renewed and renewed != access
    api.client.cookies.clear()
    through = await api.client.get(PROTECTED, headers={"cookie": f"sAccessToken={renewed}"})
    assert through.status_code == 200, through.text


async def test_the_name_of_a_verified_device_is_not_taken_again(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    again = await browser.post("/totp/device", {"deviceName": "TOTP Device 0"}, TOTP)
    assert again.json() == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}
    unnamed = (await browser.post("/totp/device", {}, TOTP)).json()
    assert unnamed["status"] == "OK" and unnamed["deviceName"] == "TOTP Device 1"


async def test_an_unverified_device_goes_without_a_recent_factor_once_mfa_is_done(
    api: Api,
) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    await browser.post("/totp/device", {"deviceName": "spare"}, TOTP)
    api.clock.advance(seconds=301)
    removed = await browser.post("/totp/device/remove", {"deviceName": "spare"}, TOTP)
    assert removed.json() == {"status": "OK", "didDeviceExist": True}


async def test_the_secret_is_encrypted_at_rest(api: Api) -> None:
    """MFA-01: the database holds the sealed secret, never the Base32 one."""
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    async with api.runtime.stores.db.read() as conn:
        [stored] = [row.secret for row in await conn.execute(select(totp_devices))]
    assert stored.startswith("v1.") and secret not in stored
    assert secret.lower() not in stored.lower()


async def test_the_completed_factor_survives_a_refresh(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=30)
    signed = await api.client.post("/auth/signin", json=_form(), headers=EP)
    pending = Browser(api, signed.headers["st-access-token"])
    refresh_token = signed.headers["st-refresh-token"]
    await pending.post("/totp/verify", {"totp": code(secret, api)}, TOTP)
    assert pending.mfa()["v"] is True
    api.clock.advance(hours=2)
    refreshed = await api.client.post(
        "/auth/session/refresh",
        headers={"rid": "session", "authorization": f"Bearer {refresh_token}"},
    )
    assert refreshed.status_code == 200, refreshed.text
    renewed = Browser(api, refreshed.headers["st-access-token"])
    assert renewed.mfa()["v"] is True and "totp" in renewed.mfa()["c"]
    assert (await renewed.get(PROTECTED)).status_code == 200


async def test_a_session_made_outside_a_sign_in_gets_its_claim_rebuilt(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    user_id = (await browser.get(PROTECTED)).json()["userId"]
    issued = await api.create_session(user_id)
    bare = Browser(api, issued.access.token)
    blocked = await bare.get(PROTECTED)
    assert blocked.status_code == 403, "a user with a device must still complete it"
    info = (await bare.put("/mfa/info", MFA)).json()
    assert info["factors"]["next"] == ["totp"]
    claim = bare.mfa()
    assert claim["v"] is False
    assert list(claim["c"].values()) == [api.clock.now_ms()], "rebuilt in milliseconds"
