"""Multi-factor auth over HTTP (FDI), on SQLite and PostgreSQL: recovery codes, required second
factors for a user without one, codes by email as a second factor (SMTP sink), and the security
notices mailed when a factor is added or removed (MFA-03, MFA-04)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.recipes.totp.test_fdi import (
    EMAIL,
    EP,
    MFA,
    PROTECTED,
    TOTP,
    Browser,
    code,
    set_up_device,
    sign_in,
)
from tests.support.api import Api, running_api
from tests.support.smtp import SmtpSink, smtp_settings
from tokenward.shared.database.schema import mfa_recovery_codes

PL = {"rid": "passwordless", "fdi-version": "4.2"}
SIX_DIGITS = re.compile(r"\b(\d{6})\b")
SETUP_REFUSED = "Completed factors in the session does not satisfy the MFA requirements for auth"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
async def api(database_url: str, smtp: SmtpSink) -> AsyncIterator[Api]:
    async with running_api(database_url, totp_issuer="Acme", **smtp_settings(smtp)) as running:
        yield running


@pytest.fixture
async def required_totp(database_url: str, smtp: SmtpSink) -> AsyncIterator[Api]:
    async with running_api(
        database_url, mfa_required_secondary_factors="totp", **smtp_settings(smtp)
    ) as running:
        yield running


@pytest.fixture
async def required_email_code(database_url: str, smtp: SmtpSink) -> AsyncIterator[Api]:
    async with running_api(
        database_url,
        mfa_required_secondary_factors="otp-email",
        website_domain="http://localhost:3000",
        **smtp_settings(smtp),
    ) as running:
        yield running


async def handle(browser: Browser) -> str:
    answer = await browser.get(PROTECTED)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["handle"]
    return value


# --- recovery codes -----------------------------------------------------------------------------


async def test_recovery_codes_complete_the_second_factor_once(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    created = await browser.post("/mfa/recovery-codes", {}, MFA)
    assert created.status_code == 200, created.text
    codes: list[str] = created.json()["recoveryCodes"]
    assert created.json()["status"] == "OK" and len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    left = (await browser.get("/auth/mfa/recovery-codes", MFA)).json()
    assert left == {"status": "OK", "remaining": 10}

    api.clock.advance(seconds=60)
    pending = await sign_in(api)
    assert pending.mfa()["v"] is False
    used = await pending.post("/mfa/recovery-code/verify", {"recoveryCode": codes[0]}, MFA)
    assert used.json() == {"status": "OK", "remaining": 9}
    assert pending.mfa()["v"] is True and "recovery-code" in pending.mfa()["c"]
    assert (await pending.get(PROTECTED)).status_code == 200

    other = await sign_in(api)
    reused = await other.post("/mfa/recovery-code/verify", {"recoveryCode": codes[0]}, MFA)
    assert reused.json() == {"status": "INVALID_RECOVERY_CODE_ERROR"}
    assert other.mfa()["v"] is False
    typed = codes[1].upper().replace("-", " ")
    assert (await other.post("/mfa/recovery-code/verify", {"recoveryCode": typed}, MFA)).json() == {
        "status": "OK",
        "remaining": 8,
    }


async def test_a_new_set_of_recovery_codes_revokes_the_old(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    first = (await browser.post("/mfa/recovery-codes", {}, MFA)).json()["recoveryCodes"]
    second = (await browser.post("/mfa/recovery-codes", {}, MFA)).json()["recoveryCodes"]
    assert not set(first) & set(second)
    old = await browser.post("/mfa/recovery-code/verify", {"recoveryCode": first[0]}, MFA)
    assert old.json() == {"status": "INVALID_RECOVERY_CODE_ERROR"}
    new = await browser.post("/mfa/recovery-code/verify", {"recoveryCode": second[0]}, MFA)
    assert new.json() == {"status": "OK", "remaining": 9}


async def test_recovery_codes_need_an_authenticator_and_go_with_the_last_one(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    refused = await browser.post("/mfa/recovery-codes", {}, MFA)
    assert refused.json() == {"status": "NO_SECOND_FACTOR_ERROR"}
    await set_up_device(api, browser)
    codes = (await browser.post("/mfa/recovery-codes", {}, MFA)).json()["recoveryCodes"]
    removed = await browser.post("/totp/device/remove", {"deviceName": "TOTP Device 0"}, TOTP)
    assert removed.json() == {"status": "OK", "didDeviceExist": True}
    left = (await browser.get("/auth/mfa/recovery-codes", MFA)).json()
    assert left == {"status": "OK", "remaining": 0}, "they would bypass the next device"
    used = await browser.post("/mfa/recovery-code/verify", {"recoveryCode": codes[0]}, MFA)
    assert used.json() == {"status": "INVALID_RECOVERY_CODE_ERROR"}


async def test_another_device_needs_a_recent_second_factor(api: Api) -> None:
    """A stolen session that passed MFA long ago cannot add the thief's authenticator (and
    then pass step-up with it)."""
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=301)
    stale = await browser.post("/totp/device", {"deviceName": "thief"}, TOTP)
    assert stale.status_code == 403 and stale.json()["claimValidationErrors"][0]["id"] == "st-mfa"
    assert (await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)).json() == {
        "status": "OK"
    }
    added = await browser.post("/totp/device", {"deviceName": "tablet"}, TOTP)
    assert added.json()["status"] == "OK"


async def test_new_recovery_codes_need_a_recent_second_factor_when_totp_is_set_up(
    api: Api,
) -> None:
    browser = await sign_in(api, "/signup")
    secret = await set_up_device(api, browser)
    api.clock.advance(seconds=301)
    stale = await browser.post("/mfa/recovery-codes", {}, MFA)
    assert stale.status_code == 403
    assert (await browser.post("/totp/verify", {"totp": code(secret, api)}, TOTP)).json() == {
        "status": "OK"
    }
    assert (await browser.post("/mfa/recovery-codes", {}, MFA)).status_code == 200


async def test_the_database_keeps_no_plaintext_recovery_code(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    codes = (await browser.post("/mfa/recovery-codes", {}, MFA)).json()["recoveryCodes"]
    async with api.runtime.stores.db.read() as conn:
        stored = [row.code_hash for row in await conn.execute(select(mfa_recovery_codes))]
    assert len(stored) == 10
    for c in codes:
        assert c not in stored and c.replace("-", "") not in stored


# --- a required second factor ------------------------------------------------------------------


async def test_a_required_factor_without_a_device_asks_for_its_setup(required_totp: Api) -> None:
    api = required_totp
    browser = await sign_in(api, "/signup")
    assert browser.mfa()["v"] is False
    assert (await browser.get(PROTECTED)).status_code == 403
    info = (await browser.put("/mfa/info", MFA)).json()
    assert info["factors"]["next"] == ["totp"]
    assert "totp" in info["factors"]["allowedToSetup"]
    assert info["factors"]["alreadySetup"] == ["emailpassword"]

    created = await browser.post("/totp/device", {"deviceName": "phone"}, TOTP)
    assert created.status_code == 200 and created.json()["status"] == "OK", created.text
    verified = await browser.post(
        "/totp/device/verify",
        {"deviceName": "phone", "totp": code(created.json()["secret"], api)},
        TOTP,
    )
    assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}
    assert browser.mfa()["v"] is True
    assert (await browser.get(PROTECTED)).status_code == 200

    # With a verified device and the factor still to do, no new device may be added.
    api.clock.advance(seconds=60)
    pending = await sign_in(api)
    refused = await pending.post("/totp/device", {"deviceName": "sneaky"}, TOTP)
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "invalid claim",
        "claimValidationErrors": [{"id": "st-mfa", "reason": {"message": SETUP_REFUSED}}],
    }
    info = (await pending.put("/mfa/info", MFA)).json()
    assert info["factors"] == {
        "next": ["totp"],
        "alreadySetup": ["emailpassword", "totp"],
        "allowedToSetup": [],
    }


# --- codes by email as a second factor ----------------------------------------------------------


async def verified_user(api: Api) -> Browser:
    """alice signed up with a password, her email verified, then signed in again (pending)."""
    signed_up = await api.client.post(
        "/auth/signup",
        json={
            "formFields": [
                {"id": "email", "value": EMAIL},
                {"id": "password", "value": "correct horse battery staple 9"},
            ]
        },
        headers=EP,
    )
    user = signed_up.json()["user"]
    await api.runtime.stores.email_verification.mark_verified(
        user["loginMethods"][0]["recipeUserId"], EMAIL, now=api.clock.now_ms()
    )
    return await sign_in(api)


def mailed_code(smtp: SmtpSink) -> str:
    match = SIX_DIGITS.search(smtp.received[-1].text())
    assert match is not None, smtp.received[-1].text()
    return match.group(1)


async def test_an_email_code_to_the_users_verified_email_completes_the_factor(
    required_email_code: Api, smtp: SmtpSink
) -> None:
    api = required_email_code
    browser = await verified_user(api)
    assert browser.mfa()["v"] is False
    info = (await browser.put("/mfa/info", MFA)).json()
    assert info["factors"]["next"] == ["otp-email"]
    before = await handle_of_pending(api, browser)

    body = {"email": EMAIL, "shouldTryLinkingWithSessionUser": True}
    started = await browser.post("/signinup/code", body, PL)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "OK", started.json()
    assert smtp.received[-1].rcpt_tos == (EMAIL,)
    consumed = await browser.post(
        "/signinup/code/consume",
        {
            "preAuthSessionId": started.json()["preAuthSessionId"],
            "deviceId": started.json()["deviceId"],
            "userInputCode": mailed_code(smtp),
            "shouldTryLinkingWithSessionUser": True,
        },
        PL,
    )
    answer = consumed.json()
    assert answer["status"] == "OK", answer
    assert answer["createdNewRecipeUser"] is False
    assert "st-refresh-token" not in consumed.headers, "no new session"
    assert browser.mfa()["v"] is True and "otp-email" in browser.mfa()["c"]
    assert await handle(browser) == before, "the same session"
    assert await api.runtime.stores.users.count(None) == 1


async def test_a_second_factor_code_never_signs_in(
    required_email_code: Api, smtp: SmtpSink
) -> None:
    """Its device is kept for a second factor: presented without the session flag (a sign-in,
    which would make a passwordless user past the sign-up hooks) it ends the attempt."""
    api = required_email_code
    browser = await verified_user(api)
    body = {"email": EMAIL, "shouldTryLinkingWithSessionUser": True}
    started = (await browser.post("/signinup/code", body, PL)).json()
    assert started["flowType"] == "USER_INPUT_CODE", "a code only, never a link"
    attempt = {
        "preAuthSessionId": started["preAuthSessionId"],
        "deviceId": started["deviceId"],
        "userInputCode": mailed_code(smtp),
    }
    signed = await api.client.post("/auth/signinup/code/consume", json=attempt, headers=PL)
    assert signed.json() == {"status": "RESTART_FLOW_ERROR"}
    assert "st-access-token" not in signed.headers and "front-token" not in signed.headers
    assert await api.runtime.stores.users.count(None) == 1


async def test_an_email_code_to_another_email_is_not_allowed(
    required_email_code: Api, smtp: SmtpSink
) -> None:
    api = required_email_code
    browser = await verified_user(api)
    sent = len(smtp.received)
    body = {"email": "mallory@example.com", "shouldTryLinkingWithSessionUser": True}
    answer = (await browser.post("/signinup/code", body, PL)).json()
    assert answer["status"] == "SIGN_IN_UP_NOT_ALLOWED"
    assert len(smtp.received) == sent, "no code was mailed"
    assert browser.mfa()["v"] is False


async def handle_of_pending(api: Api, browser: Browser) -> str:
    """The session handle of a session whose MFA is pending (from its access token)."""
    payload = browser.access.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    value: str = claims["sessionHandle"]
    return value


# --- security notices ---------------------------------------------------------------------------


async def test_verifying_and_removing_a_device_mail_a_notice(api: Api, smtp: SmtpSink) -> None:
    browser = await sign_in(api, "/signup")
    sent = len(smtp.received)
    await set_up_device(api, browser)
    [added] = smtp.received[sent:]
    assert added.rcpt_tos == (EMAIL,)
    assert "A TOTP authenticator app was added" in added.text()
    removed = await browser.post("/totp/device/remove", {"deviceName": "TOTP Device 0"}, TOTP)
    assert removed.json() == {"status": "OK", "didDeviceExist": True}
    [_, gone] = smtp.received[sent:]
    assert gone.rcpt_tos == (EMAIL,)
    assert "A TOTP authenticator app was removed" in gone.text()


async def test_parallel_uses_of_one_recovery_code_accept_exactly_one(api: Api) -> None:
    browser = await sign_in(api, "/signup")
    await set_up_device(api, browser)
    [first, *_] = (await browser.post("/mfa/recovery-codes", {}, MFA)).json()["recoveryCodes"]
    api.clock.advance(seconds=60)
    pending = await sign_in(api)
    answers = await asyncio.gather(
        *(
            pending.post("/mfa/recovery-code/verify", {"recoveryCode": first}, MFA)
            for _ in range(10)
        )
    )
    statuses = [a.json()["status"] for a in answers]
    assert statuses.count("OK") == 1, statuses
    assert statuses.count("INVALID_RECOVERY_CODE_ERROR") == 9
    left = (await pending.get("/auth/mfa/recovery-codes", MFA)).json()
    assert left == {"status": "OK", "remaining": 9}
