"""Third-party (OIDC) sign-in with the official SuperTokens frontend SDK (supertokens-web-js
0.16's ``recipe/thirdparty``, unmodified) in a real headless Chromium, in cookie and in header
mode, against a real OpenID provider (tests/support/oidc_provider.py) on loopback.

tokenward runs in this process (``create_app`` on the system clock: the provider's id tokens
carry real times) and is served by uvicorn over real HTTP on localhost, cross-origin from the
test page. Its provider "acme" is the OpenID provider's public client "spa" (no secret, so
PKCE), whose redirect URI is the test page at ``{website_domain}/auth/callback/acme``. The SDK
makes the ``state``, keeps it (with the PKCE verifier) in its session storage and checks it
when the browser comes back; the user logs in and consents through the provider's forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from starlette.types import ASGIApp

from tests.browser.conftest import SdkBrowser, Site, Tab, page_server
from tests.support.oidc_provider import OidcClient, OidcProvider
from tests.support.server import serve_in_thread
from tokenward.app.server import create_app
from tokenward.config import load_settings

CALLBACK_PATH = "/auth/callback/acme"
LOOPBACK = {"127.0.0.1", "localhost"}


@dataclass(frozen=True)
class Backend:
    site: Site
    op: OidcProvider
    known: set[str] = field(default_factory=set)
    """The logins that signed in before (the database lives as long as the module)."""

    @property
    def callback(self) -> str:
        return self.site.page + CALLBACK_PATH


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Backend]:
    database = tmp_path_factory.mktemp("web-sdk-thirdparty") / "tokenward.db"
    database.write_bytes(sqlite_template.read_bytes())
    with (
        page_server() as page_origin,
        OidcProvider(
            clients=[OidcClient("spa", [page_origin + CALLBACK_PATH])],
            accounts={"alice": {"email": "alice@example.com", "email_verified": True}},
        ) as op,
    ):
        acme = {
            "thirdPartyId": "acme",
            "name": "Acme",
            "oidcDiscoveryEndpoint": op.discovery_url,
            "clients": [{"clientId": "spa", "scope": ["openid", "email"]}],
        }

        def make_app(port: int) -> ASGIApp:
            settings = load_settings(
                overrides={
                    "database_url": f"sqlite:///{database}",
                    "api_domain": f"http://localhost:{port}",
                    "website_domain": page_origin,
                    "thirdparty_providers": [acme],
                    "rate_limiting": False,
                }
            )
            return create_app(settings)

        with serve_in_thread(make_app) as port:
            yield Backend(Site(api=f"http://localhost:{port}", page=page_origin), op)


@pytest.fixture(scope="module")
def site(backend: Backend) -> Site:
    return backend.site


@pytest.fixture
def sdk(browser: SdkBrowser) -> SdkBrowser:
    # The provider's forms import a web font: nothing leaves loopback.
    browser.context.route(
        lambda url: urlsplit(url).hostname not in LOOPBACK, lambda route: route.abort()
    )
    return browser


def log_in_at_the_provider(backend: Backend, tab: Tab, login: str) -> str:
    """Start in the page, log in and consent at the provider; the tab is then back on the
    callback page (its SDK loaded). Returns the URL the provider sent the browser to."""
    url = tab("thirdPartyStart", "acme", backend.callback)
    assert url.startswith(backend.op.authorization_endpoint + "?"), url
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["spa"]
    assert query["redirect_uri"] == [backend.callback]
    assert query["code_challenge_method"] == ["S256"]
    page = tab.page
    page.goto(url)
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")
    page.click("button:has-text('Continue')")
    page.wait_for_url(backend.callback + "?*")
    page.wait_for_function("() => window.tw !== undefined")
    return page.url


def signed_in(browser: SdkBrowser, backend: Backend, login: str) -> tuple[Tab, dict[str, Any]]:
    tab = browser.open_tab()
    log_in_at_the_provider(backend, tab, login)
    answer = tab("thirdPartyFinish")
    assert answer["status"] == "OK", answer
    assert tab("doesSessionExist") is True
    assert tab("userId") == answer["userId"]
    assert tab("payload")["sub"] == answer["userId"]
    assert browser.session_tokens() == browser.expected_session_tokens()
    assert answer["createdNewRecipeUser"] is (login not in backend.known)
    backend.known.add(login)
    return tab, answer


def test_sign_up_then_sign_in_again(sdk: SdkBrowser, backend: Backend) -> None:
    tab, first = signed_in(sdk, backend, "alice")
    assert "SESSION_CREATED" in tab.page.evaluate("window.tw.events")
    tab("signOut")
    assert tab("doesSessionExist") is False
    assert sdk.session_tokens() == set()

    # alice again, through the forms again (the provider forgets her: its cookies go), in the
    # same profile: the same user, not a new one.
    sdk.context.clear_cookies(domain="127.0.0.1")
    _, again = signed_in(sdk, backend, "alice")
    assert again["createdNewRecipeUser"] is False
    assert again["userId"] == first["userId"]


def test_a_tampered_state_is_refused_by_the_sdk(sdk: SdkBrowser, backend: Backend) -> None:
    tab = sdk.open_tab()
    landed = log_in_at_the_provider(backend, tab, "mallory")
    parts = urlsplit(landed)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["state"] and query["code"]
    query["state"] = "tampered" + query["state"]
    tab.goto(parts._replace(query=urlencode(query)).geturl())

    with pytest.raises(PlaywrightError, match="responded with an invalid state"):
        tab("thirdPartyFinish")
    assert tab("doesSessionExist") is False
    assert sdk.session_tokens() == set()
