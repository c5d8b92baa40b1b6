"""Email/password sign-up and sign-in over HTTP (FDI), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import bcrypt
import httpx
import pytest

from tests.support.api import Api, front, running_api, set_cookies

SIGNUP = "/auth/signup"
SIGNIN = "/auth/signin"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as running:
        yield running


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


EP = {"rid": "emailpassword", "fdi-version": "3.1,4.0,4.1,4.2"}


async def sign_up(
    api: Api, email: str, password: str = "correct horse battery", **headers: str
) -> httpx.Response:
    return await api.client.post(
        SIGNUP, json=form(email=email, password=password), headers=EP | headers
    )


async def test_sign_up_creates_a_user_and_a_session(api: Api) -> None:
    response = await sign_up(api, "  Alice@Example.COM ", **{"st-auth-mode": "cookie"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "OK"
    user = body["user"]
    assert user["emails"] == ["alice@example.com"]
    assert user["isPrimaryUser"] is False and user["tenantIds"] == ["public"]
    assert user["phoneNumbers"] == [] and user["thirdParty"] == []
    assert user["webauthn"] == {"credentialIds": []}
    [method] = user["loginMethods"]
    assert method == {
        "recipeId": "emailpassword",
        "recipeUserId": user["id"],
        "tenantIds": ["public"],
        "timeJoined": user["timeJoined"],
        "verified": False,
        "email": "alice@example.com",
    }
    cookies = set_cookies(response)
    assert cookies["sAccessToken"].value and cookies["sRefreshToken"].value
    token = front(response)
    assert token.user_id == user["id"]
    assert token.payload["st-ev"]["v"] is False, "the email-verified claim is in the token"


async def test_sign_up_without_st_auth_mode_uses_header_mode(api: Api) -> None:
    response = await sign_up(api, "bob@example.com")
    assert response.json()["status"] == "OK"
    assert response.headers["st-access-token"] and response.headers["st-refresh-token"]
    assert not response.headers.get_list("set-cookie")


async def test_sign_up_field_errors(api: Api) -> None:
    await sign_up(api, "taken@example.com")
    taken = await sign_up(api, "TAKEN@example.com")
    assert taken.json() == {
        "status": "FIELD_ERROR",
        "formFields": [
            {"id": "email", "error": "This email already exists. Please sign in instead."}
        ],
    }
    both = await sign_up(api, "not-an-email", "short")
    assert both.status_code == 200
    errors = {f["id"]: f["error"] for f in both.json()["formFields"]}
    assert errors["email"] == "Email is not valid"
    assert "8 characters" in errors["password"]
    common = await sign_up(api, "carol@example.com", "password1234")
    assert common.json()["status"] == "FIELD_ERROR"
    missing = await api.client.post(SIGNUP, json=form(email="dave@example.com"), headers=EP)
    assert missing.json() == {
        "status": "FIELD_ERROR",
        "formFields": [{"id": "password", "error": "Field is not optional"}],
    }


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'{"formFields": "x"}', b'{"formFields": [{"value": "a"}]}', b"", b"NaN"],
)
async def test_malformed_bodies_are_400(api: Api, body: bytes) -> None:
    response = await api.client.post(
        SIGNIN, content=body, headers=EP | {"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


async def test_concurrent_sign_ups_with_one_email(api: Api) -> None:
    responses = await asyncio.gather(*(sign_up(api, "race@example.com") for _ in range(8)))
    statuses = sorted(r.json()["status"] for r in responses)
    assert [r.status_code for r in responses] == [200] * 8
    assert statuses == ["FIELD_ERROR"] * 7 + ["OK"]


async def test_sign_in(api: Api) -> None:
    user_id = (await sign_up(api, "erin@example.com", "a long pass phrase of hers")).json()["user"][
        "id"
    ]
    response = await api.client.post(
        SIGNIN,
        json=form(email="Erin@Example.com", password="a long pass phrase of hers"),
        headers=EP,
    )
    assert response.json()["status"] == "OK"
    assert response.json()["user"]["id"] == user_id
    assert front(response).user_id == user_id
    upper = await api.client.post(
        SIGNIN,
        json=form(email="erin@example.com", password="A LONG PASS PHRASE OF HERS"),
        headers=EP,
    )
    assert upper.json() == {"status": "WRONG_CREDENTIALS_ERROR"}


async def test_unknown_email_and_wrong_password_answer_identically(api: Api) -> None:
    await sign_up(api, "frank@example.com")
    wrong = await api.client.post(
        SIGNIN, json=form(email="frank@example.com", password="nope nope nope"), headers=EP
    )
    unknown = await api.client.post(
        SIGNIN, json=form(email="nobody@example.com", password="nope nope nope"), headers=EP
    )
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.content == unknown.content == b'{"status":"WRONG_CREDENTIALS_ERROR"}'
    strip = lambda r: sorted((k, v) for k, v in r.headers.items() if k != "date")  # noqa: E731
    assert strip(wrong) == strip(unknown)


async def test_sign_in_timing_does_not_reveal_whether_the_email_exists(database_url: str) -> None:
    # Real Argon2id parameters: the point is that both paths spend one verification. Rate
    # limits off: 60 wrong passwords from one address would meet the sign-in backoff.
    async with running_api(
        database_url,
        password_hash_memory_kib=19456,
        password_hash_time_cost=2,
        rate_limiting=False,
    ) as api:
        await sign_up(api, "grace@example.com")

        async def timed(email: str) -> float:
            start = time.perf_counter()
            response = await api.client.post(
                SIGNIN, json=form(email=email, password="wrong password!"), headers=EP
            )
            assert response.json()["status"] == "WRONG_CREDENTIALS_ERROR"
            return time.perf_counter() - start

        known: list[float] = []
        unknown: list[float] = []
        for _ in range(30):  # interleaved, so drift affects both equally
            known.append(await timed("grace@example.com"))
            unknown.append(await timed("nobody@example.com"))
        # Compare the distributions with each other (never with a fixed duration): the medians
        # must be within a quarter of each other, where skipping the hash would differ by ~100%.
        a, b = statistics.median(known), statistics.median(unknown)
        assert abs(a - b) <= 0.25 * max(a, b), (a, b)


async def test_email_exists(api: Api) -> None:
    await sign_up(api, "heidi@example.com")
    for path in (
        "/auth/emailpassword/email/exists",
        "/auth/signup/email/exists",
        "/auth/public/emailpassword/email/exists",
    ):
        found = await api.client.get(path, params={"email": "HEIDI@example.com"}, headers=EP)
        assert found.json() == {"status": "OK", "exists": True}
        absent = await api.client.get(path, params={"email": "ivan@example.com"}, headers=EP)
        assert absent.json() == {"status": "OK", "exists": False}
    assert (await api.client.get("/auth/emailpassword/email/exists")).status_code == 400


async def test_tenant_segment(api: Api) -> None:
    created = await api.client.post(
        "/auth/public/signup",
        json=form(email="judy@example.com", password="a passphrase of hers"),
        headers=EP,
    )
    assert created.json()["status"] == "OK"
    signed_in = await api.client.post(
        "/auth/signin",
        json=form(email="judy@example.com", password="a passphrase of hers"),
        headers=EP,
    )
    assert signed_in.json()["status"] == "OK"
    unknown = await api.client.post(
        "/auth/acme/signup",
        json=form(email="judy@example.com", password="a passphrase of hers"),
        headers=EP,
    )
    assert unknown.status_code == 400
    bad = await api.client.post(
        "/auth/Bad_Tenant!/signin", json=form(email="a@b.co", password="x" * 10), headers=EP
    )
    assert bad.status_code in (400, 404)


async def test_imported_bcrypt_hash_is_upgraded_on_sign_in(api: Api) -> None:
    user_id = (await sign_up(api, "kim@example.com", "kim's old password")).json()["user"]["id"]
    legacy = bcrypt.hashpw(b"kim's old password", bcrypt.gensalt(rounds=10)).decode()
    await api.runtime.stores.users.set_password_hash(user_id, legacy)
    response = await api.client.post(
        SIGNIN, json=form(email="kim@example.com", password="kim's old password"), headers=EP
    )
    assert response.json()["status"] == "OK"
    method = await api.runtime.stores.users.find_email_password("public", "kim@example.com")
    assert method is not None and method.password_hash is not None
    assert method.password_hash.startswith("$argon2id$")


async def test_oversized_password_is_refused_before_hashing(api: Api) -> None:
    huge = "x" * 60_000
    up = await sign_up(api, "leo@example.com", huge)
    assert up.json()["status"] == "FIELD_ERROR"
    inn = await api.client.post(
        SIGNIN, json=form(email="leo@example.com", password=huge), headers=EP
    )
    assert inn.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
