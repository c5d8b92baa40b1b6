"""Social sign-in on the prebuilt login pages, in a real Chromium, against a real `tokenward
serve` process and a real OpenID provider (tests/support/oidc_provider.py) on loopback.

tokenward's provider "acme" is the OpenID provider's public client "spa" (no secret, so PKCE),
whose redirect URI is the login pages' callback, ``{api}/auth/callback/acme``. The user clicks
"Continue with Acme", logs in and consents through the provider's forms, and comes back signed
in where they started. The pages make the ``state``, keep it (with the PKCE verifier) in the
tab's sessionStorage and check it on the way back; a wrong, missing or stale state, a refusal at
the provider and a refused code are explained on the page, without a signed-in session.

The pages speak the session protocol in cookie mode only (docs/login-ui.md); the same sign-in in
header mode is proven with the official SDK (test_official_web_sdk_thirdparty.py).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Route, expect

from tests.support.cli import clean_env
from tests.support.oidc_provider import OidcClient, OidcProvider
from tests.support.server import ServeProcess
from tests.support.smtp import free_port

LOOPBACK = {"127.0.0.1", "localhost"}
ATTEMPT = "tokenward.thirdparty.attempt"
APPLE_SECRET = "apple-web-client-secret-0123456789"
BAD_STATE = re.compile(r"not started in this browser tab, or it took longer than 10 minutes")


@dataclass(frozen=True)
class Site:
    url: str
    op: OidcProvider

    @property
    def callback(self) -> str:
        return f"{self.url}/auth/callback/acme"


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("login-ui-thirdparty")
    database = directory / "tokenward.db"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    apple_client = OidcClient(
        "apple-web",
        [f"{url}/auth/callback/apple"],
        client_secret=APPLE_SECRET,
        token_endpoint_auth_method="client_secret_post",
    )
    with OidcProvider(
        clients=[OidcClient("spa", [f"{url}/auth/callback/acme"]), apple_client],
        accounts={
            "alice": {"email": "alice@example.com", "email_verified": True},
            "nobody": {"email": None},
        },
    ) as op:
        acme = {
            "thirdPartyId": "acme",
            "name": "Acme",
            "oidcDiscoveryEndpoint": op.discovery_url,
            "clients": [{"clientId": "spa", "scope": ["openid", "email"]}],
        }
        # Apple, its endpoints on the local provider, which answers with form_post as Apple
        # does (the built-in adds response_mode=form_post); a stored secret stands in for the
        # signed one (test_client_secrets.py proves that).
        apple = {
            "thirdPartyId": "apple",
            "oidcDiscoveryEndpoint": op.discovery_url,
            "clients": [{"clientId": "apple-web", "clientSecret": APPLE_SECRET}],
        }
        env = clean_env(
            TOKENWARD_DATABASE_URL=f"sqlite:///{database}",
            TOKENWARD_API_DOMAIN=url,
            TOKENWARD_EMAIL_VERIFICATION="REQUIRED",
            TOKENWARD_THIRDPARTY_PROVIDERS=json.dumps([acme, apple]),
            TOKENWARD_RATE_LIMITING="false",
        )
        with ServeProcess(directory, env=env, port=port):
            yield Site(url, op)


@pytest.fixture
def context(browser_context: BrowserContext) -> BrowserContext:
    # The provider's forms import a web font: nothing leaves loopback.
    browser_context.route(
        lambda url: urlsplit(url).hostname not in LOOPBACK, lambda route: route.abort()
    )
    return browser_context


@pytest.fixture
def page(context: BrowserContext, site: Site) -> Iterator[Page]:
    """A tab that fails the test on an error in our pages (a CSP violation, a script error)."""
    tab = context.new_page()
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and str(message.location.get("url")).startswith(site.url):
            errors.append(message.text)

    tab.on("console", console)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    assert not errors, errors


def requests_to(context: BrowserContext, path: str) -> list[Request]:
    seen: list[Request] = []
    context.on("request", lambda r: seen.append(r) if urlsplit(r.url).path == path else None)
    return seen


def to_the_provider(site: Site, page: Page) -> None:
    """Click "Continue with Acme" and wait for the provider's login form."""
    page.get_by_role("button", name="Continue with Acme").click()
    expect(page.locator("input[name=login]")).to_be_visible()
    assert page.url.startswith(site.op.issuer)


def log_in_at_the_provider(page: Page, login: str) -> None:
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")
    page.click("button:has-text('Continue')")


def signed_in_user_id(page: Page, email: str) -> str:
    expect(page.locator("#user-email")).to_have_text(email)
    user_id = page.locator("#user-id").text_content()
    assert user_id
    return user_id


def session_cookies(context: BrowserContext) -> set[str]:
    names = {"sAccessToken", "sRefreshToken"}
    return {c["name"] for c in context.cookies() if c["name"] in names and c["value"]}


def test_sign_in_with_the_provider_and_come_back_where_you_were(
    site: Site, context: BrowserContext, page: Page
) -> None:
    authorise = requests_to(context, urlsplit(site.op.authorization_endpoint).path)
    signinup = requests_to(context, "/auth/signinup")
    page.goto(f"{site.url}/auth?redirectToPath=%2Fauth%2Faccount%3Ffrom%3Dprovider")
    to_the_provider(site, page)

    # PKCE (the client has no secret) and the page's own state, 256 random bits.
    query = parse_qs(urlsplit(authorise[-1].url).query)
    assert query["redirect_uri"] == [site.callback]
    assert query["code_challenge_method"] == ["S256"]
    [state] = query["state"]
    made = json.loads(base64.b64decode(state))
    assert len(made["state"]) == 43
    assert made["frontendRedirectURI"] == site.callback  # where Apple's form_post comes back

    log_in_at_the_provider(page, "alice")
    expect(page).to_have_url(f"{site.url}/auth/account?from=provider")
    first = signed_in_user_id(page, "alice@example.com")
    expect(page.locator("#user-verified")).to_have_text("Yes")  # the provider said so
    assert session_cookies(context) == {"sAccessToken", "sRefreshToken"}
    [call] = signinup
    sent = call.post_data_json["redirectURIInfo"]
    assert sent["redirectURIOnProviderDashboard"] == site.callback
    assert sent["redirectURIQueryParams"]["state"] == state
    assert len(sent["pkceCodeVerifier"]) >= 43
    # The attempt is gone from the tab: the code is never sent twice.
    assert page.evaluate(f"sessionStorage.getItem('{ATTEMPT}')") is None

    # Sign out; the provider forgets alice too (its cookies go). From the sign-up page this
    # time: the same user, not a new one.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/auth")
    assert session_cookies(context) == set()
    context.clear_cookies(domain=urlsplit(site.op.issuer).hostname)
    page.goto(f"{site.url}/auth?show=signup")
    to_the_provider(site, page)
    log_in_at_the_provider(page, "alice")
    expect(page).to_have_url(f"{site.url}/auth/account")
    assert signed_in_user_id(page, "alice@example.com") == first
    assert len(signinup) == 2


def test_apple_posts_its_answer_to_the_api_which_sends_the_browser_to_the_page(
    site: Site, context: BrowserContext, page: Page
) -> None:
    """Apple's form_post: the provider's page posts code and state to the API's
    /auth/callback/apple, which 303s to the page named in the state; the page finishes."""
    posted = requests_to(context, "/auth/callback/apple")
    page.goto(f"{site.url}/auth")
    page.get_by_role("button", name="Continue with Apple").click()
    expect(page.locator("input[name=login]")).to_be_visible()
    log_in_at_the_provider(page, "alice")
    expect(page).to_have_url(f"{site.url}/auth/account")
    signed_in_user_id(page, "alice@example.com")
    methods = [r.method for r in posted]
    assert methods[:2] == ["POST", "GET"], methods  # the form_post, then the 303 to the page
    assert "code=" in (posted[0].post_data or "")


def rewrite_the_callback(
    context: BrowserContext, site: Site, change: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    """The provider's redirect back to the pages, its query changed by ``change`` (once).
    Playwright routes only the first request of a redirect chain: the consent form's POST. Its
    chain is followed outside the page (the callback page's HTML is fetched, nothing runs) and
    the browser is sent to the changed callback URL instead."""
    done: list[str] = []

    def handle(route: Route) -> None:
        if done or "prompt=consent" not in (route.request.post_data or ""):
            route.continue_()
            return
        landed = route.fetch().url
        assert landed.startswith(site.callback + "?"), landed
        done.append(landed)
        query = {k: v[0] for k, v in parse_qs(urlsplit(landed).query).items()}
        changed = f"{site.callback}?{urlencode(change(query))}"
        route.fulfill(status=303, headers={"location": changed})

    context.route(f"{site.op.issuer}/interaction/**", handle)


def assert_refused(
    site: Site, context: BrowserContext, page: Page, message: str | re.Pattern[str]
) -> None:
    expect(page.get_by_role("heading")).to_have_text("Could not sign you in")
    expect(page.get_by_role("alert")).to_have_text(message)
    back = page.get_by_role("link", name="Back to sign in")
    expect(back).to_be_focused()
    assert session_cookies(context) == set()
    assert "code=" not in page.url  # taken out of the address bar
    back.click()
    expect(page.get_by_role("button", name="Continue with Acme")).to_be_visible()


@pytest.mark.parametrize("how", ["tampered", "missing"])
def test_a_wrong_or_missing_state_is_refused_without_signing_in(
    site: Site, context: BrowserContext, page: Page, how: str
) -> None:
    def change(query: dict[str, str]) -> dict[str, str]:
        assert query["code"] and query["state"]
        if how == "missing":
            return {k: v for k, v in query.items() if k != "state"}
        return {**query, "state": "x" + query["state"]}

    rewrite_the_callback(context, site, change)
    signinup = requests_to(context, "/auth/signinup")
    page.goto(f"{site.url}/auth")
    to_the_provider(site, page)
    log_in_at_the_provider(page, "mallory")
    assert_refused(site, context, page, BAD_STATE)
    assert signinup == []


def test_a_stale_attempt_is_refused_without_signing_in(
    site: Site, context: BrowserContext, page: Page
) -> None:
    signinup = requests_to(context, "/auth/signinup")
    page.goto(f"{site.url}/auth")
    to_the_provider(site, page)
    # Back in the page's tab, the attempt has aged past its 10 minutes; then on to the provider.
    page.go_back()
    expect(page.get_by_role("button", name="Continue with Acme")).to_be_visible()
    page.evaluate(
        """(key) => {
          const attempt = JSON.parse(sessionStorage.getItem(key));
          sessionStorage.setItem(key, JSON.stringify({...attempt, expiresAt: Date.now() - 1}));
        }""",
        ATTEMPT,
    )
    page.go_forward()
    log_in_at_the_provider(page, "mallory")
    assert_refused(site, context, page, BAD_STATE)
    assert signinup == []


def test_cancelling_at_the_provider_is_explained(
    site: Site, context: BrowserContext, page: Page
) -> None:
    signinup = requests_to(context, "/auth/signinup")
    page.goto(f"{site.url}/auth?redirectToPath=%2Fauth%2Faccount%3Ffrom%3Dcancel")
    to_the_provider(site, page)
    page.get_by_role("link", name="[ Cancel ]").click()
    assert_refused(
        site, context, page, re.compile(r"^Signing in with Acme was cancelled or refused\.")
    )
    assert signinup == []
    # Back on the sign-in page, still on the way to where the user started.
    assert parse_qs(urlsplit(page.url).query)["redirectToPath"] == ["/auth/account?from=cancel"]


def test_a_refused_code_and_a_missing_email_are_explained(
    site: Site, context: BrowserContext, page: Page
) -> None:
    # A code the provider never gave: the token endpoint refuses it (GENERAL_ERROR's message).
    rewrite_the_callback(context, site, lambda query: {**query, "code": "not-a-code"})
    page.goto(f"{site.url}/auth")
    to_the_provider(site, page)
    log_in_at_the_provider(page, "alice")
    assert_refused(
        site, context, page, "The sign-in provider did not confirm who you are. Please try again."
    )

    # An account without an email at the provider.
    context.clear_cookies(domain=urlsplit(site.op.issuer).hostname)
    to_the_provider(site, page)
    log_in_at_the_provider(page, "nobody")
    assert_refused(site, context, page, re.compile(r"^Acme did not share your email address"))
