"""The passwordless core API (CDI) as supertokens-python 0.31 calls it, on SQLite and
PostgreSQL: codes for new and existing devices, check and consume, listing and removal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.api import Api, running_api

KEY = "passwordless-cdi-test-key-0123456789"
CORE = {"api-key": KEY, "cdi-version": "5.4"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(
        database_url, api_keys=KEY, passwordless_contact_method="EMAIL"
    ) as running:
        yield running


async def call(api: Api, method: str, path: str, **kwargs: Any) -> Any:
    response = await api.client.request(method, path, headers=CORE, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


async def new_code(api: Api, **body: str) -> dict[str, Any]:
    answer: dict[str, Any] = await call(api, "POST", "/public/recipe/signinup/code", json=body)
    assert answer["status"] == "OK", answer
    return answer


async def test_create_check_and_consume_a_code(api: Api) -> None:
    code = await new_code(api, email=" Ann@Example.com", userInputCode="424242")
    assert code["userInputCode"] == "424242" and code["codeLifetime"] == 900_000
    assert set(code) == {
        "status", "preAuthSessionId", "codeId", "deviceId", "userInputCode", "linkCode",
        "timeCreated", "codeLifetime",
    }  # fmt: skip
    typed = {
        "preAuthSessionId": code["preAuthSessionId"],
        "deviceId": code["deviceId"],
        "userInputCode": "424242",
    }
    checked = await call(api, "POST", "/public/recipe/signinup/code/check", json=typed)
    assert checked == {
        "status": "OK",
        "consumedDevice": {
            "preAuthSessionId": code["preAuthSessionId"],
            "failedCodeInputAttemptCount": 0,
            "email": "ann@example.com",
        },
    }
    by_link = {"preAuthSessionId": code["preAuthSessionId"], "linkCode": code["linkCode"]}
    consumed = await call(api, "POST", "/public/recipe/signinup/code/consume", json=by_link)
    assert consumed["status"] == "OK" and consumed["createdNewUser"] is True
    assert consumed["recipeUserId"] == consumed["user"]["id"]
    assert consumed["user"]["loginMethods"][0]["verified"] is True
    again = await call(api, "POST", "/public/recipe/signinup/code/consume", json=by_link)
    assert again == {"status": "RESTART_FLOW_ERROR"}


async def test_phone_numbers_are_taken_whatever_the_app_own_contact_method(api: Api) -> None:
    """The SDK decides what it takes; tokenward's own setting (EMAIL here) is for its FDI."""
    code = await new_code(api, phoneNumber="+44 20 7946 0958")
    typed = {
        "preAuthSessionId": code["preAuthSessionId"],
        "deviceId": code["deviceId"],
        "userInputCode": code["userInputCode"],
    }
    done = await call(api, "POST", "/public/recipe/signinup/code/consume", json=typed)
    assert done["user"]["phoneNumbers"] == ["+442079460958"]
    found = await call(
        api, "GET", "/public/users/by-accountinfo", params={"phoneNumber": "+442079460958"}
    )
    assert [u["id"] for u in found["users"]] == [done["user"]["id"]]


async def test_a_new_code_for_a_device_and_listing_codes(api: Api) -> None:
    first = await new_code(api, email="bea@example.com")
    api.clock.advance(seconds=1)
    second = await new_code(api, deviceId=first["deviceId"])
    assert second["preAuthSessionId"] == first["preAuthSessionId"]
    assert second["codeId"] != first["codeId"]
    taken = await call(
        api,
        "POST",
        "/public/recipe/signinup/code",
        json={"deviceId": first["deviceId"], "userInputCode": second["userInputCode"]},
    )
    assert taken == {"status": "USER_INPUT_CODE_ALREADY_USED_ERROR"}
    unknown = await call(api, "POST", "/public/recipe/signinup/code", json={"deviceId": "A" * 44})
    assert unknown == {"status": "RESTART_FLOW_ERROR"}
    for query in (
        {"email": "BEA@example.com"},
        {"deviceId": first["deviceId"]},
        {"preAuthSessionId": first["preAuthSessionId"]},
    ):
        listed = await call(api, "GET", "/public/recipe/signinup/codes", params=query)
        [device] = listed["devices"]
        assert device["email"] == "bea@example.com"
        assert [c["codeId"] for c in device["codes"]] == [first["codeId"], second["codeId"]]
    await call(api, "POST", "/public/recipe/signinup/code/remove", json={"codeId": first["codeId"]})
    listed = await call(
        api, "GET", "/public/recipe/signinup/codes", params={"email": "bea@example.com"}
    )
    assert [c["codeId"] for c in listed["devices"][0]["codes"]] == [second["codeId"]]
    await call(
        api, "POST", "/public/recipe/signinup/codes/remove", json={"email": "bea@example.com"}
    )
    listed = await call(
        api, "GET", "/public/recipe/signinup/codes", params={"email": "bea@example.com"}
    )
    assert listed == {"status": "OK", "devices": []}


async def test_remove_codes_takes_a_phone_number_in_the_email_field(api: Api) -> None:
    """supertokens-python 0.31 sends the phone number as "email" when revoking its codes."""
    await new_code(api, phoneNumber="+14155550100")
    await call(api, "POST", "/public/recipe/signinup/codes/remove", json={"email": "+14155550100"})
    listed = await call(
        api, "GET", "/public/recipe/signinup/codes", params={"phoneNumber": "+14155550100"}
    )
    assert listed["devices"] == []


async def test_wrong_codes_answer_with_counts_and_bad_bodies_are_400(api: Api) -> None:
    code = await new_code(api, email="cy@example.com", userInputCode="111111")
    typed = {
        "preAuthSessionId": code["preAuthSessionId"],
        "deviceId": code["deviceId"],
        "userInputCode": "222222",
    }
    wrong = await call(api, "POST", "/public/recipe/signinup/code/consume", json=typed)
    assert wrong == {
        "status": "INCORRECT_USER_INPUT_CODE_ERROR",
        "failedCodeInputAttemptCount": 1,
        "maximumCodeInputAttempts": 5,
    }
    both = typed | {"linkCode": code["linkCode"]}
    for body in (both, {"preAuthSessionId": code["preAuthSessionId"]}):
        answer = await api.client.post(
            "/public/recipe/signinup/code/consume", json=body, headers=CORE
        )
        assert answer.status_code == 400
    no_key = await api.client.post("/public/recipe/signinup/code", json={"email": "x@example.com"})
    assert no_key.status_code == 401


async def sign_up(api: Api, **contact: str) -> dict[str, Any]:
    code = await new_code(api, **contact)
    by_link = {"preAuthSessionId": code["preAuthSessionId"], "linkCode": code["linkCode"]}
    done = await call(api, "POST", "/public/recipe/signinup/code/consume", json=by_link)
    user: dict[str, Any] = done["user"]
    return user


async def test_put_user_changes_a_passwordless_contact(api: Api) -> None:
    dee = await sign_up(api, email="dee@example.com")
    await sign_up(api, email="eve@example.com")
    await sign_up(api, phoneNumber="+14155550123")

    async def put(**body: Any) -> Any:
        return await call(api, "PUT", "/recipe/user", json={"recipeUserId": dee["id"], **body})

    assert await put(email="EVE@example.com") == {"status": "EMAIL_ALREADY_EXISTS_ERROR"}
    assert await put(phoneNumber="+1 415 555 0123") == {
        "status": "PHONE_NUMBER_ALREADY_EXISTS_ERROR"
    }
    assert await put(email="dee.new@example.com", phoneNumber="+1 415 555 0199") == {"status": "OK"}
    assert await put(email=None) == {"status": "OK"}
    found = await call(
        api, "GET", "/public/users/by-accountinfo", params={"phoneNumber": "+14155550199"}
    )
    [user] = found["users"]
    assert user["id"] == dee["id"] and user["emails"] == []
    cleared = await api.client.put(
        "/recipe/user", json={"recipeUserId": dee["id"], "phoneNumber": None}, headers=CORE
    )
    assert cleared.status_code == 400, "a passwordless user keeps one contact"
    bad = await api.client.put(
        "/recipe/user", json={"recipeUserId": dee["id"], "email": "nope"}, headers=CORE
    )
    assert bad.status_code == 400
    unknown = await call(api, "PUT", "/recipe/user", json={"recipeUserId": "nobody"})
    assert unknown == {"status": "UNKNOWN_USER_ID_ERROR"}
    again = await new_code(api, phoneNumber="+14155550199")
    typed = {k: again[k] for k in ("preAuthSessionId", "deviceId", "userInputCode")}
    signed_in = await call(api, "POST", "/public/recipe/signinup/code/consume", json=typed)
    assert signed_in["createdNewUser"] is False and signed_in["user"]["id"] == dee["id"]
