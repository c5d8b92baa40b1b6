"""The TOTP core API (CDI) as supertokens-python 0.31 calls it, on SQLite and PostgreSQL:
create, import, list, rename, remove, verify a device and a code, and the attempt lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.api import Api, running_api
from tokenward.recipes.totp.rules import CodeShape, code_at

KEY = "totp-cdi-test-key-0123456789abcdef"
CORE = {"api-key": KEY, "cdi-version": "5.4"}
USER = "user-1"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, api_keys=KEY) as running:
        await running.runtime.stores.users.create_email_password_user(
            user_id=USER,
            tenant_id="public",
            email="ann@example.com",
            password_hash="$argon2id$x",
            now=running.clock.now_ms(),
        )
        yield running


async def call(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    response = await api.client.request(method, path, headers=CORE, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def code(api: Api, secret: str) -> str:
    return code_at(secret, api.clock.now_ms() // 1000, CodeShape())


async def listed(api: Api, user_id: str = USER) -> list[dict[str, Any]]:
    answer = await call(api, "GET", "/recipe/totp/device/list", params={"userId": user_id})
    assert answer["status"] == "OK"
    devices: list[dict[str, Any]] = answer["devices"]
    return devices


async def test_the_api_key_is_required(api: Api) -> None:
    response = await api.client.get(
        "/recipe/totp/device/list", params={"userId": USER}, headers={"cdi-version": "5.4"}
    )
    assert response.status_code == 401


async def test_create_verify_list_and_remove(api: Api) -> None:
    created = await call(
        api, "POST", "/recipe/totp/device", json={"userId": USER, "skew": 1, "period": 30}
    )
    assert set(created) == {"status", "deviceName", "secret"}
    assert created["deviceName"] == "TOTP Device 0" and len(created["secret"]) == 32
    assert await listed(api) == [
        {"name": "TOTP Device 0", "period": 30, "skew": 1, "verified": False}
    ]
    body = {"userId": USER, "deviceName": "TOTP Device 0", "totp": code(api, created["secret"])}
    verified = await call(api, "POST", "/public/recipe/totp/device/verify", json=body)
    assert verified == {"status": "OK", "wasAlreadyVerified": False}
    api.clock.advance(seconds=30)
    body["totp"] = code(api, created["secret"])
    again = await call(api, "POST", "/public/recipe/totp/device/verify", json=body)
    assert again == {"status": "OK", "wasAlreadyVerified": True}

    second = await call(api, "POST", "/recipe/totp/device", json={"userId": USER})
    assert second["deviceName"] == "TOTP Device 1"
    taken = await call(
        api, "POST", "/recipe/totp/device", json={"userId": USER, "deviceName": "TOTP Device 0"}
    )
    assert taken == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}

    removed = await call(
        api,
        "POST",
        "/recipe/totp/device/remove",
        json={"userId": USER, "deviceName": "TOTP Device 0"},
    )
    assert removed == {"status": "OK", "didDeviceExist": True}
    gone = await call(
        api,
        "POST",
        "/recipe/totp/device/remove",
        json={"userId": USER, "deviceName": "TOTP Device 0"},
    )
    assert gone == {"status": "OK", "didDeviceExist": False}
    assert [d["name"] for d in await listed(api)] == ["TOTP Device 1"]


async def test_unknown_user_and_device(api: Api) -> None:
    assert await call(api, "POST", "/recipe/totp/device", json={"userId": "ghost"}) == {
        "status": "UNKNOWN_USER_ID_ERROR"
    }
    assert await call(
        api, "POST", "/public/recipe/totp/verify", json={"userId": USER, "totp": "123456"}
    ) == {"status": "UNKNOWN_USER_ID_ERROR"}, "no verified device"
    assert await call(
        api,
        "POST",
        "/public/recipe/totp/device/verify",
        json={"userId": USER, "deviceName": "nope", "totp": "123456"},
    ) == {"status": "UNKNOWN_DEVICE_ERROR"}


async def test_import_a_device_then_verify_codes(api: Api) -> None:
    """An imported device is verified already; an 80-bit secret (SuperTokens' example) works."""
    imported = await call(
        api,
        "POST",
        "/recipe/totp/device/import",
        json={"userId": USER, "deviceName": "old app", "secretKey": "jbsw y3dp ehpk 3pxp"},
    )
    assert imported == {"status": "OK", "deviceName": "old app"}
    assert await listed(api) == [{"name": "old app", "period": 30, "skew": 1, "verified": True}]
    ok = await call(
        api,
        "POST",
        "/public/recipe/totp/verify",
        json={"userId": USER, "totp": code(api, "JBSWY3DPEHPK3PXP")},
    )
    assert ok == {"status": "OK"}
    again = await call(
        api,
        "POST",
        "/recipe/totp/device/import",
        json={"userId": USER, "deviceName": "old app", "secretKey": "JBSWY3DPEHPK3PXP"},
    )
    assert again == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}
    bad = await api.client.post(
        "/recipe/totp/device/import",
        json={"userId": USER, "deviceName": "x", "secretKey": "not base32!"},
        headers=CORE,
    )
    assert bad.status_code == 400


async def test_rename_keeps_the_device_working(api: Api) -> None:
    created = await call(api, "POST", "/recipe/totp/device", json={"userId": USER})
    await call(
        api,
        "POST",
        "/public/recipe/totp/device/verify",
        json={
            "userId": USER,
            "deviceName": created["deviceName"],
            "totp": code(api, created["secret"]),
        },
    )
    await call(api, "POST", "/recipe/totp/device", json={"userId": USER, "deviceName": "other"})
    renamed = await call(
        api,
        "PUT",
        "/recipe/totp/device",
        json={
            "userId": USER,
            "existingDeviceName": created["deviceName"],
            "newDeviceName": "phone",
        },
    )
    assert renamed == {"status": "OK"}
    assert sorted(d["name"] for d in await listed(api)) == ["other", "phone"]
    clash = await call(
        api,
        "PUT",
        "/recipe/totp/device",
        json={"userId": USER, "existingDeviceName": "phone", "newDeviceName": "other"},
    )
    assert clash == {"status": "DEVICE_ALREADY_EXISTS_ERROR"}
    missing = await call(
        api,
        "PUT",
        "/recipe/totp/device",
        json={"userId": USER, "existingDeviceName": "nope", "newDeviceName": "x"},
    )
    assert missing == {"status": "UNKNOWN_DEVICE_ERROR"}
    api.clock.advance(seconds=30)
    after = await call(
        api,
        "POST",
        "/public/recipe/totp/verify",
        json={"userId": USER, "totp": code(api, created["secret"])},
    )
    assert after == {"status": "OK"}, "the renamed device's secret still opens"


async def test_wrong_codes_reach_the_limit(api: Api) -> None:
    created = await call(api, "POST", "/recipe/totp/device", json={"userId": USER})
    name, secret = created["deviceName"], created["secret"]
    right = code(api, secret)
    wrong = "000000" if right != "000000" else "111111"
    body = {"userId": USER, "deviceName": name, "totp": wrong}
    for attempt in range(1, 6):
        refused = await call(api, "POST", "/public/recipe/totp/device/verify", json=body)
        assert refused == {
            "status": "INVALID_TOTP_ERROR",
            "currentNumberOfFailedAttempts": attempt,
            "maxNumberOfFailedAttempts": 5,
        }
    body["totp"] = right
    locked = await call(api, "POST", "/public/recipe/totp/device/verify", json=body)
    assert locked == {"status": "LIMIT_REACHED_ERROR", "retryAfterMs": 900_000}
    api.clock.advance(seconds=600)
    body["totp"] = code(api, secret)
    still = await call(api, "POST", "/public/recipe/totp/device/verify", json=body)
    assert still == {"status": "LIMIT_REACHED_ERROR", "retryAfterMs": 300_000}
    api.clock.advance(seconds=300)
    body["totp"] = code(api, secret)
    ok = await call(api, "POST", "/public/recipe/totp/device/verify", json=body)
    assert ok == {"status": "OK", "wasAlreadyVerified": False}
