"""The login UI from an app that embeds tokenward (``Auth.install``), at configured paths: the
pages, their assets, and ``GET {api}/ui/me``. The browser tests (tests/browser/test_login_ui.py)
drive the pages themselves against `tokenward serve`."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tests.support.api import FAST_HASHING, running_api
from tokenward import Auth, load_settings

SITE = "http://localhost:3567"


async def home(request: Request) -> Response:
    return PlainTextResponse("the app's own page")


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        overrides={
            "database_url": database_url,
            "api_base_path": "/api/auth",
            "website_base_path": "/login",
            **FAST_HASHING,
        }
    )
    auth = Auth(settings)
    app = Starlette(lifespan=lambda app: auth.lifespan())
    app.add_route("/", home)
    auth.install(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=SITE) as client:
            yield client


async def test_the_embedded_app_serves_the_pages_at_the_website_base_path(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/")).text == "the app's own page"
    paths = ("/login", "/login/reset-password", "/login/verify-email", "/login/verify")
    for path in (*paths, "/login/account"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["referrer-policy"] == "no-referrer"
        assert '<meta name="tokenward-api" content="/api/auth">' in page.text
        assert '<meta name="tokenward-web" content="/login">' in page.text
    assert "Create an account" in (await client.get("/login?show=signup")).text
    assert "Choose a new password" in (await client.get("/login/reset-password?token=x")).text

    [script] = re.findall(
        r'src="(/login/ui/session\.js\?v=\w+)"', (await client.get("/login")).text
    )
    asset = await client.get(script)
    assert asset.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "TokenwardSession" in asset.text


async def test_ui_me_shows_the_signed_in_user_and_refuses_others(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/auth/ui/me")).status_code == 401
    signed_up = await client.post(
        "/api/auth/signup",
        json={
            "formFields": [
                {"id": "email", "value": "ui@example.com"},
                {"id": "password", "value": "a long ui passphrase"},
            ]
        },
        headers={"rid": "emailpassword", "st-auth-mode": "cookie"},
    )
    assert signed_up.json()["status"] == "OK"
    me = await client.get("/api/auth/ui/me")  # the client keeps the session cookies
    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    body = me.json()
    assert body["user"]["emails"] == ["ui@example.com"]
    assert body["session"]["tenantId"] == "public"

    signed_out = await client.post("/api/auth/signout", headers={"rid": "session"})
    assert signed_out.json() == {"status": "OK"}
    assert (await client.get("/api/auth/ui/me")).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        ({}, 'data-email="true" data-phone="true" data-flow="USER_INPUT_CODE_AND_MAGIC_LINK"'),
        (
            {"passwordless_contact_method": "EMAIL", "passwordless_flow_type": "MAGIC_LINK"},
            'data-email="true" data-phone="false" data-flow="MAGIC_LINK"',
        ),
        (
            {"passwordless_contact_method": "PHONE", "passwordless_code_lifetime": 7200},
            'data-email="false" data-phone="true" data-flow="USER_INPUT_CODE_AND_MAGIC_LINK"',
        ),
        # Off localhost without an SMS backend, codes go by email only (never to a console).
        (
            {"api_domain": "https://auth.example.com", "email_backend": "console"},
            'data-email="true" data-phone="false"',
        ),
    ],
)
async def test_the_sign_in_page_offers_the_enabled_passwordless_ways(
    sqlite_template: Path, tmp_path: Path, overrides: dict[str, object], shown: str
) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite")
    async with running_api(f"sqlite:///{tmp_path / 'db.sqlite'}", **overrides) as api:
        page = (await api.client.get("/auth")).text
    assert shown in page
    lifetime = "2 hours" if overrides.get("passwordless_code_lifetime") else "15 minutes"
    assert f"for {lifetime} after it was sent" in page


async def test_provider_buttons_only_for_configured_providers_and_the_callback_page(
    database_url: str,
) -> None:
    github = {
        "thirdPartyId": "github",
        "name": 'Git<Hub> & "Co"',
        "clients": [{"clientId": "id", "clientSecret": "secret"}],
    }
    pages: dict[str, str] = {}
    for providers in ([], [github]):
        async with running_api(database_url, thirdparty_providers=providers) as api:
            for path in ("/auth", "/auth?show=signup"):
                pages[f"{len(providers)} {path}"] = (await api.client.get(path)).text
            callback = await api.client.get("/auth/callback/github?code=c&state=s")
            assert callback.status_code == 200
            assert callback.headers["content-security-policy"].startswith("default-src 'self'")
            assert callback.headers["referrer-policy"] == "no-referrer"
            assert '<body data-page="callback">' in callback.text
            assert "data-provider" not in callback.text
    button = (
        '<button type="button" class="secondary" data-provider="github" '
        'data-name="Git&lt;Hub&gt; &amp; &quot;Co&quot;">'
        "Continue with Git&lt;Hub&gt; &amp; &quot;Co&quot;</button>"
    )
    for path in ("/auth", "/auth?show=signup"):
        assert "data-provider" not in pages[f"0 {path}"]
        assert 'id="providers"' not in pages[f"0 {path}"]
        assert pages[f"1 {path}"].count(button) == 1


async def test_a_provider_configured_through_the_core_api_gets_its_button(
    database_url: str,
) -> None:
    """Providers come and go through the core API while the server runs: the pages follow."""
    core = {"api-key": "ui-core-api-key-0123456789abcdef", "cdi-version": "5.4"}
    async with running_api(database_url, api_keys=core["api-key"]) as api:
        assert "data-provider" not in (await api.client.get("/auth")).text
        config = {
            "thirdPartyId": "corp",
            "name": "Corp SSO",
            "clients": [{"clientId": "c"}],
            "oidcDiscoveryEndpoint": "https://sso.corp.example/.well-known/openid-configuration",
        }
        put = await api.client.put(
            "/public/recipe/multitenancy/config/thirdparty", json={"config": config}, headers=core
        )
        assert put.json() == {"status": "OK", "createdNew": True}
        assert 'data-provider="corp"' in (await api.client.get("/auth")).text
        await api.client.post(
            "/public/recipe/multitenancy/config/thirdparty/remove",
            json={"thirdPartyId": "corp"},
            headers=core,
        )
        assert "data-provider" not in (await api.client.get("/auth?show=signup")).text
