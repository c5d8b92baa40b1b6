"""The OpenID provider of the social/OIDC login tests (tests/support/oidc_provider.py), logged
into by Chromium through its development interaction forms, as a user would."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Route

from tests.support.oidc_provider import OidcClient, OidcProvider

REDIRECT = "http://127.0.0.1:9/auth/callback"
SECRET = "web-client-secret-for-tests"


@pytest.fixture(scope="module")
def op() -> Iterator[OidcProvider]:
    with OidcProvider(
        clients=[OidcClient("web", [REDIRECT], client_secret=SECRET)],
        accounts={"carol": {"email": "carol@example.com", "email_verified": True}},
    ) as provider:
        yield provider


def test_a_browser_logs_in_through_the_forms(
    op: OidcProvider, browser_context: BrowserContext
) -> None:
    # The forms' page imports a web font: nothing leaves loopback.
    browser_context.route(
        lambda url: urlsplit(url).hostname != "127.0.0.1", lambda route: route.abort()
    )
    landed: list[str] = []

    def callback(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="back at the client")

    browser_context.route(REDIRECT + "?*", callback)
    state, nonce, verifier = (secrets.token_urlsafe(16) for _ in range(3))
    verifier += secrets.token_urlsafe(32)
    page = browser_context.new_page()
    page.goto(
        op.authorization_url("web", REDIRECT, state=state, nonce=nonce, code_verifier=verifier)
    )
    page.fill("input[name=login]", "carol")
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")
    page.click("button:has-text('Continue')")
    page.wait_for_url(REDIRECT + "?*")
    assert len(landed) == 1
    query = parse_qs(urlsplit(landed[0]).query)
    assert query["state"] == [state]
    assert query["iss"] == [op.issuer]
    tokens = httpx.post(
        op.token_endpoint,
        auth=("web", SECRET),
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    userinfo = httpx.get(
        op.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
    ).json()
    assert userinfo["sub"] == "carol"
    assert userinfo["email"] == "carol@example.com"
