"""The FDI session endpoints and session verification over HTTP, on SQLite and PostgreSQL:
every header, cookie, status and body rule of the protocol reference §4–§6."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.support.api import Api, exposed, front, running_api, set_cookies
from tests.support.outage import database_unreachable, join_sqlite_workers
from tokenward.recipes.session.rules import refresh_token as rt
from tokenward.shared.claims import BooleanClaim
from tokenward.shared.encoding import b64url_decode

REFRESH = "/auth/session/refresh"
SIGNOUT = "/auth/signout"
PROTECTED = "/test/session"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as running:
        yield running


def cookie_header(**cookies: str) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def expires_ms(morsel: object) -> int:
    return int(parsedate_to_datetime(morsel["expires"]).timestamp() * 1000)  # type: ignore[index]


def assert_cleared(response: object) -> None:
    cookies = set_cookies(response)  # type: ignore[arg-type]
    assert cookies["sAccessToken"].value == "" and cookies["sRefreshToken"].value == ""
    assert expires_ms(cookies["sAccessToken"]) == 0
    assert cookies["sRefreshToken"]["path"] == REFRESH
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["st-access-token"] == "" and headers["st-refresh-token"] == ""
    assert headers["front-token"] == "remove"
    assert "anti-csrf" not in headers


async def test_refresh_in_cookie_mode(api: Api) -> None:
    issued = await api.create_session("alice", access_token_payload={"plan": "pro"})
    response = await api.client.post(
        REFRESH,
        headers={"rid": "session", "st-auth-mode": "cookie", "fdi-version": "4.1"}
        | cookie_header(sRefreshToken=issued.refresh_token),
    )
    assert (response.status_code, response.json()) == (200, {})
    cookies = set_cookies(response)
    access, refresh = cookies["sAccessToken"], cookies["sRefreshToken"]
    assert access["path"] == "/" and access["httponly"] and access["samesite"].lower() == "lax"
    assert not access["secure"], "the API is http, so cookies are not Secure"
    assert expires_ms(access) >= api.clock.now + 364 * 24 * 3_600_000, "outlives the JWT"
    assert refresh["path"] == REFRESH and refresh["httponly"]
    assert expires_ms(refresh) == issued.refresh_expires_at_ms // 1000 * 1000
    assert "st-access-token" not in response.headers
    token = front(response)
    assert token.user_id == "alice"
    assert token.payload["plan"] == "pro"
    assert token.payload["parentRefreshTokenHash1"] == rt.hash1(issued.refresh_token)
    assert token.access_token_expiry_ms == token.payload["exp"] * 1000
    assert "front-token" in exposed(response)


async def test_refresh_in_header_mode(api: Api) -> None:
    issued = await api.create_session()
    response = await api.client.post(
        REFRESH, headers={"rid": "session"} | bearer(issued.refresh_token)
    )
    assert response.status_code == 200
    assert not response.headers.get_list("set-cookie")
    new_refresh = response.headers["st-refresh-token"]
    assert rt.open(api.runtime.services.sessions._refresh_key, new_refresh)
    assert response.headers["st-access-token"].count(".") == 2
    assert {"front-token", "st-access-token", "st-refresh-token"} <= exposed(response)
    # The new refresh token carries the lineage on.
    again = await api.client.post(REFRESH, headers=bearer(new_refresh))
    assert again.status_code == 200


async def test_header_wins_and_the_other_mode_is_cleared(api: Api) -> None:
    cookie_session = await api.create_session("c")
    header_session = await api.create_session("h")
    response = await api.client.post(
        REFRESH,
        headers={"rid": "session"}
        | bearer(header_session.refresh_token)
        | cookie_header(sRefreshToken=cookie_session.refresh_token),
    )
    assert response.status_code == 200
    assert front(response).user_id == "h"
    cookies = set_cookies(response)
    assert cookies["sRefreshToken"].value == "" and expires_ms(cookies["sRefreshToken"]) == 0


async def test_refresh_without_a_token_clears_and_is_unauthorised(api: Api) -> None:
    response = await api.client.post(REFRESH, headers={"rid": "session"})
    assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
    assert_cleared(response)


async def test_refresh_with_garbage_is_unauthorised(api: Api) -> None:
    for token in ("garbage", "v1.AAAA", "v1." + "A" * 80):
        response = await api.client.post(REFRESH, headers=bearer(token))
        assert (response.status_code, response.json()) == (401, {"message": "unauthorised"})
        assert_cleared(response)


async def test_replayed_refresh_token_is_theft_and_ends_the_session(api: Api) -> None:
    first = await api.create_session()
    child = await api.client.post(REFRESH, headers=bearer(first.refresh_token))
    child_rt = child.headers["st-refresh-token"]
    grandchild = await api.client.post(REFRESH, headers=bearer(child_rt))
    assert grandchild.status_code == 200

    stolen = await api.client.post(REFRESH, headers=bearer(first.refresh_token))
    assert (stolen.status_code, stolen.json()) == (401, {"message": "token theft detected"})
    assert_cleared(stolen)
    after = await api.client.post(REFRESH, headers=bearer(grandchild.headers["st-refresh-token"]))
    assert (after.status_code, after.json()) == (401, {"message": "unauthorised"})
    assert await api.runtime.stores.sessions.get(first.access.claims.session_handle) is None


async def test_expired_access_token_says_try_refresh_token(api: Api) -> None:
    issued = await api.create_session()
    ok = await api.client.get(PROTECTED, headers=bearer(issued.access.token))
    assert ok.status_code == 200 and ok.json()["userId"] == "user-1"
    api.clock.advance(seconds=3600)
    expired = await api.client.get(PROTECTED, headers=bearer(issued.access.token))
    assert (expired.status_code, expired.json()) == (401, {"message": "try refresh token"})
    assert "front-token" not in expired.headers, "try refresh token keeps the tokens"
    assert not expired.headers.get_list("set-cookie")


async def test_the_session_expired_status_is_configurable(database_url: str) -> None:
    async with running_api(database_url, session_expired_status_code=440) as api:
        issued = await api.create_session()
        api.clock.advance(seconds=3600)
        response = await api.client.get(PROTECTED, headers=bearer(issued.access.token))
        assert (response.status_code, response.json()) == (440, {"message": "try refresh token"})


async def test_missing_or_malformed_access_token(api: Api) -> None:
    missing = await api.client.get(PROTECTED)
    assert (missing.status_code, missing.json()) == (401, {"message": "unauthorised"})
    assert "front-token" not in missing.headers, "no token: nothing to clear"
    malformed = await api.client.get(PROTECTED, headers=bearer("a.b"))
    assert (malformed.status_code, malformed.json()) == (401, {"message": "unauthorised"})


async def test_duplicate_access_cookies_ask_for_a_refresh(api: Api) -> None:
    issued = await api.create_session()
    headers = {"cookie": f"sAccessToken={issued.access.token}; sAccessToken={issued.access.token}"}
    response = await api.client.get(PROTECTED, headers=headers)
    assert response.status_code == 401 and response.json() == {"message": "try refresh token"}


@pytest.mark.parametrize("mode", ["cookie", "header"])
async def test_first_use_of_a_refreshed_token_returns_its_replacement(api: Api, mode: str) -> None:
    issued = await api.create_session()
    if mode == "cookie":
        refreshed = await api.client.post(
            REFRESH, headers={"rid": "session"} | cookie_header(sRefreshToken=issued.refresh_token)
        )
        new_access = set_cookies(refreshed)["sAccessToken"].value
        request_headers = cookie_header(sAccessToken=new_access)
    else:
        refreshed = await api.client.post(REFRESH, headers=bearer(issued.refresh_token))
        new_access = refreshed.headers["st-access-token"]
        request_headers = bearer(new_access)
    assert front(refreshed).payload["parentRefreshTokenHash1"] is not None

    used = await api.client.get(PROTECTED, headers=request_headers)
    assert used.status_code == 200
    replacement = front(used)
    assert replacement.payload["parentRefreshTokenHash1"] is None
    if mode == "cookie":
        assert set_cookies(used)["sAccessToken"].value not in ("", new_access)
    else:
        assert used.headers["st-access-token"] not in ("", new_access)


async def test_sign_out(api: Api) -> None:
    issued = await api.create_session()
    response = await api.client.post(
        SIGNOUT, headers={"rid": "session"} | cookie_header(sAccessToken=issued.access.token)
    )
    assert (response.status_code, response.json()) == (200, {"status": "OK"})
    assert_cleared(response)
    refused = await api.client.post(REFRESH, headers=bearer(issued.refresh_token))
    assert (refused.status_code, refused.json()) == (401, {"message": "unauthorised"})
    again = await api.client.post(SIGNOUT, headers={"rid": "session"})
    assert again.status_code == 401


async def test_custom_header_anti_csrf(database_url: str) -> None:
    async with running_api(database_url, anti_csrf="VIA_CUSTOM_HEADER") as api:
        issued = await api.create_session()
        cookies = cookie_header(
            sAccessToken=issued.access.token, sRefreshToken=issued.refresh_token
        )
        no_rid = await api.client.post(SIGNOUT, headers=cookies)
        assert (no_rid.status_code, no_rid.json()) == (401, {"message": "try refresh token"})
        get_is_safe = await api.client.get(PROTECTED, headers=cookies)
        assert get_is_safe.status_code == 200
        header_mode = await api.client.post(PROTECTED, headers=bearer(issued.access.token))
        assert header_mode.status_code == 200, "header mode needs no CSRF defence"
        refresh_no_rid = await api.client.post(REFRESH, headers=cookies)
        assert refresh_no_rid.status_code == 401
        assert_cleared(refresh_no_rid)
        with_rid = await api.client.post(SIGNOUT, headers={"rid": "anti-csrf"} | cookies)
        assert with_rid.status_code == 200


async def test_anti_csrf_token(database_url: str) -> None:
    async with running_api(database_url, anti_csrf="VIA_TOKEN") as api:
        issued = await api.create_session()
        first = await api.client.post(
            REFRESH, headers=cookie_header(sRefreshToken=issued.refresh_token)
        )
        assert first.status_code == 401, "refresh without the anti-csrf token"
        response = await api.client.post(
            REFRESH,
            headers={"anti-csrf": issued.anti_csrf_token or ""}
            | cookie_header(sRefreshToken=issued.refresh_token),
        )
        assert response.status_code == 200
        token = response.headers["anti-csrf"]
        assert "anti-csrf" in exposed(response)
        access = set_cookies(response)["sAccessToken"].value
        wrong = await api.client.post(
            PROTECTED, headers={"anti-csrf": "nope"} | cookie_header(sAccessToken=access)
        )
        assert wrong.status_code == 401 and wrong.json() == {"message": "try refresh token"}
        right = await api.client.post(
            PROTECTED, headers={"anti-csrf": token} | cookie_header(sAccessToken=access)
        )
        assert right.status_code == 200


async def test_cors_for_the_website_origin_only(database_url: str) -> None:
    async with running_api(database_url, website_domain="http://localhost:3000") as api:
        preflight = await api.client.options(
            REFRESH,
            headers={
                "origin": "http://localhost:3000",
                "access-control-request-method": "POST",
                "access-control-request-headers": (
                    "rid,fdi-version,st-auth-mode,anti-csrf,authorization,content-type"
                ),
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        stranger = await api.client.options(
            REFRESH,
            headers={"origin": "http://evil.test", "access-control-request-method": "POST"},
        )
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers
        issued = await api.create_session()
        actual = await api.client.post(
            REFRESH, headers={"origin": "http://localhost:3000"} | bearer(issued.refresh_token)
        )
        assert actual.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "front-token" in exposed(actual)


async def test_jwks(api: Api) -> None:
    issued = await api.create_session()
    kid = json.loads(b64url_decode(issued.access.token.split(".")[0]))["kid"]
    for path in ("/.well-known/jwks.json", "/auth/jwt/jwks.json"):
        response = await api.client.get(path)
        assert response.status_code == 200
        keys = response.json()["keys"]
        assert keys and all(
            set(k) == {"kty", "kid", "n", "e", "alg", "use"} and k["alg"] == "RS256" for k in keys
        )
        cache = response.headers["cache-control"]
        assert cache.startswith("max-age=") and cache.endswith(", must-revalidate")
        assert int(cache.split("=")[1].split(",")[0]) > 0
        assert kid in {k["kid"] for k in keys}


async def test_store_outage_is_503_not_401(api: Api, tmp_path: Path) -> None:
    issued = await api.create_session()
    db = api.runtime.stores.db
    async with database_unreachable(db, tmp_path):
        response = await api.client.post(REFRESH, headers=bearer(issued.refresh_token))
        assert response.status_code == 503
        assert response.headers["retry-after"].isdigit()
        assert "front-token" not in response.headers, "an outage must not log the user out"
        assert "Traceback" not in response.text
    # Nothing was consumed: the same refresh token works once the database is back.
    assert (await api.client.post(REFRESH, headers=bearer(issued.refresh_token))).status_code == 200
    join_sqlite_workers()


async def test_parallel_refreshes_over_http(api: Api) -> None:
    issued = await api.create_session()
    responses = await asyncio.gather(
        *(api.client.post(REFRESH, headers=bearer(issued.refresh_token)) for _ in range(20))
    )
    assert [r.status_code for r in responses] == [200] * 20
    children = [r.headers["st-refresh-token"] for r in responses]
    used = await api.client.post(REFRESH, headers=bearer(children[5]))
    assert used.status_code == 200
    sibling = await api.client.post(REFRESH, headers=bearer(children[6]))
    assert sibling.json() == {"message": "token theft detected"}


async def test_failed_claim_validation_is_403_with_the_reasons(api: Api) -> None:
    email_verified = BooleanClaim("st-ev")
    api.use_claim_validators([email_verified.has_value(True)])
    unverified = await api.create_session(
        access_token_payload={"st-ev": email_verified.entry(False, api.clock.now)}
    )
    response = await api.client.get(PROTECTED, headers=bearer(unverified.access.token))
    assert response.status_code == 403
    body = response.json()
    assert body["message"] == "invalid claim"
    assert body["claimValidationErrors"] == [
        {
            "id": "st-ev",
            "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False},
        }
    ]
    verified = await api.create_session(
        access_token_payload={"st-ev": email_verified.entry(True, api.clock.now)}
    )
    assert (
        await api.client.get(PROTECTED, headers=bearer(verified.access.token))
    ).status_code == 200
    # Sign-out ignores claims: an unverified user can still leave.
    out = await api.client.post(SIGNOUT, headers=bearer(unverified.access.token))
    assert out.status_code == 200
