"""Cross-origin defences and response hardening over real HTTP, on SQLite and PostgreSQL:
Origin / Fetch-Metadata checks (CSRF-01, CSRF-04), no state change on GET (CSRF-02), the CORS
allowlist (CSRF-03), JSON-only bodies (IN-07) and security response headers (IN-08)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.api import Api, running_api
from tests.support.smtp import SmtpSink, first_url

WEBSITE = "http://localhost:3000"
API = "http://localhost:3567"
EVIL = "https://evil.example"
EP = {"rid": "emailpassword", "fdi-version": "4.1"}
PASSWORD = "a cross origin passphrase"
CROSS_SITE = [{"origin": EVIL}, {"origin": "null"}, {"sec-fetch-site": "cross-site"}]


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


def cookies(**values: str) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in values.items())}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, website_domain=WEBSITE) as running:
        yield running


async def session_works(api: Api, access: str) -> bool:
    """Whether the session behind ``access`` is still alive (checked in the database)."""
    response = await api.client.get(
        "/test/session", params={"check_database": "1"}, headers=cookies(sAccessToken=access)
    )
    return response.status_code == 200


@pytest.mark.parametrize("cross", CROSS_SITE, ids=["evil-origin", "null-origin", "fetch-site"])
async def test_csrf_01_cross_site_requests_with_the_session_cookie_are_refused(
    api: Api, cross: dict[str, str]
) -> None:
    issued = await api.create_session("victim")
    access = cookies(sAccessToken=issued.access.token)
    plain = {"content-type": "text/plain", "rid": "session"}
    for path in ("/test/session", "/auth/signout"):
        response = await api.client.post(path, content=b"{}", headers=access | plain | cross)
        assert response.status_code == 403, path
        assert response.json()["message"].startswith("Cross-origin request refused")
        assert not response.headers.get_list("set-cookie")
    refresh = await api.client.post(
        "/auth/session/refresh",
        headers=cookies(sRefreshToken=issued.refresh_token) | {"rid": "session"} | cross,
    )
    assert refresh.status_code == 403
    assert await session_works(api, issued.access.token), "nothing was revoked"


@pytest.mark.parametrize(
    "origin",
    [{"origin": WEBSITE}, {"origin": API}, {"origin": WEBSITE, "sec-fetch-site": "same-site"}, {}],
    ids=["website", "api", "website-same-site", "no-browser-headers"],
)
async def test_csrf_01_the_website_the_api_and_non_browser_clients_pass(
    api: Api, origin: dict[str, str]
) -> None:
    issued = await api.create_session("user")
    access = cookies(sAccessToken=issued.access.token)
    protected = await api.client.post("/test/session", headers=access | origin)
    assert protected.status_code == 200
    signed_out = await api.client.post("/auth/signout", headers=access | {"rid": "s"} | origin)
    assert signed_out.json() == {"status": "OK"}
    assert not await session_works(api, issued.access.token)


async def test_csrf_01_unsafe_requests_without_cookies_outside_the_api_are_not_checked(
    api: Api,
) -> None:
    """A header-mode client of the embedding app is not a CSRF target: no cookie rides along."""
    issued = await api.create_session("user")
    bearer = {"authorization": f"Bearer {issued.access.token}", "origin": EVIL}
    assert (await api.client.post("/test/session", headers=bearer)).status_code == 200


@pytest.mark.parametrize("cross", CROSS_SITE, ids=["evil-origin", "null-origin", "fetch-site"])
async def test_csrf_04_cross_site_sign_in_and_sign_up_are_refused(
    api: Api, cross: dict[str, str]
) -> None:
    await api.client.post(
        "/auth/signup", json=form(email="eve@example.com", password=PASSWORD), headers=EP
    )
    attempt = form(email="eve@example.com", password=PASSWORD)
    for path, email in (("/auth/signin", "eve@example.com"), ("/auth/signup", "new@example.com")):
        response = await api.client.post(
            path, json=form(email=email, password=PASSWORD), headers=EP | cross
        )
        assert response.status_code == 403, path
        assert "st-access-token" not in response.headers
        assert not response.headers.get_list("set-cookie")
    assert not await api.runtime.services.accounts.email_exists("public", "new@example.com")
    allowed = await api.client.post(
        "/auth/signin", json=attempt, headers=EP | {"origin": WEBSITE, "st-auth-mode": "cookie"}
    )
    assert allowed.json()["status"] == "OK"


async def test_csrf_02_get_never_signs_out_refreshes_or_consumes_a_token(
    database_url: str,
) -> None:
    with SmtpSink() as smtp:
        settings = {"email_backend": "smtp", "smtp_host": smtp.host, "smtp_port": smtp.port}
        async with running_api(database_url, smtp_security="none", **settings) as api:
            up = await api.client.post(
                "/auth/signup", json=form(email="gil@example.com", password=PASSWORD), headers=EP
            )
            access, refresh = up.headers["st-access-token"], up.headers["st-refresh-token"]
            bearer_access = {"authorization": f"Bearer {access}"}
            await api.client.post("/auth/user/email/verify/token", headers=bearer_access)
            token = first_url(smtp.received[0]).split("token=", 1)[1].split("&", 1)[0]

            for path in ("/auth/signout", "/auth/session/refresh", "/auth/user/password/reset"):
                assert (await api.client.get(path, headers=bearer_access)).status_code == 405
            assert (
                await api.client.get(
                    "/auth/session/refresh", headers={"authorization": f"Bearer {refresh}"}
                )
            ).status_code == 405
            # GET on the verify route only reads the state; the token stays unused.
            read = await api.client.get(
                "/auth/user/email/verify", params={"token": token}, headers=bearer_access
            )
            assert read.json()["isVerified"] is False
            assert await session_works(api, access)
            refreshed = await api.client.post(
                "/auth/session/refresh", headers={"authorization": f"Bearer {refresh}"}
            )
            assert refreshed.status_code == 200, "the refresh token was not used up by GET"
            verified = await api.client.post(
                "/auth/user/email/verify", json={"method": "token", "token": token}
            )
            assert verified.json() == {"status": "OK"}


@pytest.mark.parametrize("origin", [EVIL, "null", "http://localhost:3000.evil.example"])
async def test_csrf_03_cors_never_allows_an_unlisted_or_null_origin(api: Api, origin: str) -> None:
    preflight = await api.client.options(
        "/auth/signin",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,rid",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await api.client.get(
        "/auth/signup/email/exists?email=a@b.co", headers={"origin": origin}
    )
    assert "access-control-allow-origin" not in simple.headers


async def test_csrf_03_cors_allows_the_website_with_credentials(api: Api) -> None:
    preflight = await api.client.options(
        "/auth/signin",
        headers={"origin": WEBSITE, "access-control-request-method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == WEBSITE
    assert preflight.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_in_07_json_routes_refuse_other_content_types(
    api: Api, content_type: str | None
) -> None:
    body = b'{"formFields":[{"id":"email","value":"a@b.co"},{"id":"password","value":"x"}]}'
    headers = EP | ({"content-type": content_type} if content_type else {})
    for path in ("/auth/signin", "/auth/signup", "/auth/user/password/reset/token"):
        response = await api.client.post(path, content=body, headers=headers)
        assert response.status_code == 415, (path, content_type)
        assert response.json() == {"message": "Content-Type must be application/json"}


async def test_in_07_json_with_charset_and_bodiless_posts_still_work(api: Api) -> None:
    body = b'{"formFields":[{"id":"email","value":"a@b.co"},{"id":"password","value":"x"}]}'
    signin = await api.client.post(
        "/auth/signin",
        content=body,
        headers=EP | {"content-type": "Application/JSON; charset=utf-8"},
    )
    assert signin.json()["status"] == "WRONG_CREDENTIALS_ERROR"
    issued = await api.create_session("user")
    refreshed = await api.client.post(
        "/auth/session/refresh", headers={"authorization": f"Bearer {issued.refresh_token}"}
    )
    assert refreshed.status_code == 200
    signed_out = await api.client.post(
        "/auth/signout",
        headers={"authorization": f"Bearer {refreshed.headers['st-access-token']}"},
    )
    assert signed_out.json() == {"status": "OK"}


async def test_in_08_token_and_user_responses_are_not_stored_and_not_sniffed(api: Api) -> None:
    up = await api.client.post(
        "/auth/signup", json=form(email="hal@example.com", password=PASSWORD), headers=EP
    )
    signin = await api.client.post(
        "/auth/signin", json=form(email="hal@example.com", password=PASSWORD), headers=EP
    )
    refreshed = await api.client.post(
        "/auth/session/refresh",
        headers={"authorization": f"Bearer {signin.headers['st-refresh-token']}"},
    )
    bearer = {"authorization": f"Bearer {refreshed.headers['st-access-token']}"}
    verified = await api.client.get("/auth/user/email/verify", headers=bearer)
    signout = await api.client.post("/auth/signout", headers=bearer)
    failed = await api.client.post(
        "/auth/signin", json=form(email="hal@example.com", password="wrong"), headers=EP
    )
    for response in (up, signin, refreshed, verified, signout, failed):
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers, "the API is http"
        assert response.headers["content-type"].startswith("application/json")
    jwks = await api.client.get("/auth/jwt/jwks.json")
    assert jwks.headers["cache-control"].startswith("max-age="), "public keys stay cacheable"
    assert jwks.headers["x-content-type-options"] == "nosniff"


async def test_in_08_renewed_tokens_on_an_app_route_are_not_stored(api: Api) -> None:
    issued = await api.create_session("user")
    await api.runtime.services.sessions.merge_into_payload(
        issued.access.claims.session_handle, {"plan": "gold"}
    )
    response = await api.client.get(
        "/test/session",
        params={"check_database": "1"},
        headers={"authorization": f"Bearer {issued.access.token}"},
    )
    assert response.status_code == 200 and response.headers.get("st-access-token")
    assert response.headers["cache-control"] == "no-store"


async def test_in_08_hsts_when_the_api_is_https(database_url: str) -> None:
    async with running_api(
        database_url, api_domain="https://api.example.com", email_backend="console"
    ) as api:
        response = await api.client.get("/hello")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert response.headers["x-content-type-options"] == "nosniff"
