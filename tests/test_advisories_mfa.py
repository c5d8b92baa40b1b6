"""The security checklist's MFA items (MFA-01..04, AUTH-06) as attacks over HTTP, on SQLite and
PostgreSQL: TOTP codes single use within one step of skew, secrets encrypted at rest, the
attempt lock, recovery codes single use and hashed, re-authentication and a notice for factor
changes, and no way to a full session that skips the second factor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.api import Api, running_api
from tests.support.attacks import PASSWORD, bearer, call, refresh, sign_in, sign_up
from tests.support.forge import parts
from tests.support.smtp import SmtpSink, smtp_settings

TOTP = {"rid": "totp"}
MFA = {"rid": "multifactorauth"}
EMAIL = "mfa@example.com"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
async def api(database_url: str, smtp: SmtpSink) -> AsyncIterator[Api]:
    async with running_api(database_url, **smtp_settings(smtp)) as running:
        yield running


class Signed:
    """A header-mode session that follows the access tokens the responses send."""

    def __init__(self, api: Api, response: httpx.Response) -> None:
        assert response.json()["status"] == "OK", response.text
        self.api = api
        self.access = response.headers["st-access-token"]
        self.refresh = response.headers["st-refresh-token"]

    async def post(self, path: str, body: dict[str, Any], rid: dict[str, str]) -> dict[str, Any]:
        response = await self.api.client.post(
            f"/auth{path}", json=body, headers=rid | bearer(self.access)
        )
        self.access = response.headers.get("st-access-token", self.access)
        answer: dict[str, Any] = response.json()
        return answer | {"_status": response.status_code}

    def mfa(self) -> dict[str, Any]:
        value: dict[str, Any] = parts(self.access)[1]["st-mfa"]
        return value


def at(api: Api, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(api.clock.now_ms() // 1000 + 30 * steps)


async def with_device(api: Api) -> tuple[Signed, str]:
    user = Signed(api, await sign_up(api, EMAIL))
    secret: str = (await user.post("/totp/device", {"deviceName": "phone"}, TOTP))["secret"]
    verified = await user.post(
        "/totp/device/verify", {"deviceName": "phone", "totp": at(api, secret)}, TOTP
    )
    assert verified["status"] == "OK"
    return user, secret


async def table_dump(api: Api, table: str) -> str:
    async with api.runtime.stores.db.engine.connect() as connection:
        return repr((await connection.exec_driver_sql(f"SELECT * FROM {table}")).all())


def invalid(failures: int) -> dict[str, Any]:
    return {
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": failures,
        "maxNumberOfFailedAttempts": 5,
        "_status": 200,
    }


async def test_mfa_01_totp_codes_are_single_use_within_one_step_and_secrets_encrypted(
    api: Api,
) -> None:
    user, secret = await with_device(api)
    stored = await table_dump(api, "totp_devices")
    assert secret not in stored and secret.lower() not in stored, "the secret is encrypted"
    replayed = await user.post("/totp/verify", {"totp": at(api, secret)}, TOTP)
    assert replayed == invalid(1), "the just-accepted code is spent"
    assert await user.post("/totp/verify", {"totp": at(api, secret, -2)}, TOTP) == invalid(2)
    assert await user.post("/totp/verify", {"totp": at(api, secret, 2)}, TOTP) == invalid(3)
    accepted = await user.post("/totp/verify", {"totp": at(api, secret, 1)}, TOTP)
    assert accepted == {"status": "OK", "_status": 200}, "one step of skew"
    api.clock.advance(seconds=30)
    earlier = await user.post("/totp/verify", {"totp": at(api, secret, -1)}, TOTP)
    assert earlier == invalid(1), "a code older than the last accepted one is spent too"


async def test_mfa_02_the_sixth_wrong_code_locks_even_the_right_one(api: Api) -> None:
    user, secret = await with_device(api)
    api.clock.advance(seconds=30)
    right = at(api, secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for failures in range(1, 6):
        assert await user.post("/totp/verify", {"totp": wrong}, TOTP) == invalid(failures)
    locked = await user.post("/totp/verify", {"totp": right}, TOTP)
    assert locked == {"status": "LIMIT_REACHED_ERROR", "retryAfterMs": 900_000, "_status": 200}
    api.clock.advance(seconds=899)
    again = await user.post("/totp/verify", {"totp": at(api, secret)}, TOTP)
    assert again["status"] == "LIMIT_REACHED_ERROR" and again["retryAfterMs"] == 1000
    api.clock.advance(seconds=1)
    assert (await user.post("/totp/verify", {"totp": at(api, secret)}, TOTP))["status"] == "OK"


async def test_mfa_03_recovery_codes_are_single_use_and_not_stored(api: Api) -> None:
    user, _ = await with_device(api)
    codes = (await user.post("/mfa/recovery-codes", {}, MFA))["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = await table_dump(api, "mfa_recovery_codes")
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)

    pending = Signed(api, await sign_in(api, EMAIL))
    assert pending.mfa()["v"] is False
    used = await pending.post("/mfa/recovery-code/verify", {"recoveryCode": codes[0]}, MFA)
    assert used == {"status": "OK", "remaining": 9, "_status": 200}
    assert pending.mfa()["v"] is True
    assert (await call(api, pending.access)).status_code == 200

    other = Signed(api, await sign_in(api, EMAIL))
    reused = await other.post("/mfa/recovery-code/verify", {"recoveryCode": codes[0]}, MFA)
    assert reused == {"status": "INVALID_RECOVERY_CODE_ERROR", "_status": 200}
    assert (await call(api, other.access)).status_code == 403


async def test_mfa_04_factor_changes_need_a_recent_factor_and_send_a_notice(
    api: Api, smtp: SmtpSink
) -> None:
    user, secret = await with_device(api)
    assert any("was added" in mail.text() for mail in smtp.received if EMAIL in mail.rcpt_tos)
    api.clock.advance(seconds=301)
    stale = await user.post("/totp/device/remove", {"deviceName": "phone"}, TOTP)
    assert stale["_status"] == 403 and stale["claimValidationErrors"][0]["id"] == "st-mfa"
    assert (await user.post("/mfa/recovery-codes", {}, MFA))["_status"] == 403
    assert (await user.post("/totp/verify", {"totp": at(api, secret)}, TOTP))["status"] == "OK"
    removed = await user.post("/totp/device/remove", {"deviceName": "phone"}, TOTP)
    assert removed == {"status": "OK", "didDeviceExist": True, "_status": 200}
    assert "was removed" in smtp.mail_to(EMAIL, nth=2).text()


async def test_auth_06_no_way_to_a_full_session_skips_the_second_factor(api: Api) -> None:
    await with_device(api)
    signed_in = await sign_in(api, EMAIL, PASSWORD)
    pending = Signed(api, signed_in)
    assert pending.mfa()["v"] is False
    assert (await call(api, pending.access)).status_code == 403
    renewed = await refresh(api, pending.refresh)
    assert renewed.status_code == 200
    access = renewed.headers["st-access-token"]
    assert parts(access)[1]["st-mfa"]["v"] is False, "a refresh keeps the pending claim"
    assert (await call(api, access)).status_code == 403
    for path, rid in (("/mfa/recovery-codes", MFA), ("/totp/device", TOTP)):
        refused = await pending.post(path, {}, rid)
        assert refused["_status"] == 403, (path, refused)
