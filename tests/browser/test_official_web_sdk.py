"""The official SuperTokens frontend SDK (supertokens-web-js 0.16, unmodified, bundled by
scripts/browser-deps.sh) in a real headless Chromium against examples/fastapi_app.py.

The page is served from another origin than the API (http://localhost:<port> each: same site,
cross-origin, so CORS with credentials), in cookie mode and in header mode. Access tokens live
3 s; tests wait for expiry by polling the front token's expiry in the page, never longer. Refresh
calls are counted from the browser's own network events.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import SdkBrowser, Site, Tab, new_email, page_server
from tests.support.cli import clean_env
from tests.support.server import ServeProcess

ROOT = Path(__file__).resolve().parents[2]
VALIDITY_S = 3  # whole seconds in the JWT: a fresh token has 2-3 s left
PASSWORD = "a browser passphrase 42"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web-sdk")
    database = tmp / "example.db"
    database.write_bytes(sqlite_template.read_bytes())
    command = [sys.executable, "examples/fastapi_app.py"]
    with page_server() as page_origin:
        env = clean_env(
            TOKENWARD_DATABASE_URL=f"sqlite:///{database}",
            TOKENWARD_WEBSITE_DOMAIN=page_origin,
            TOKENWARD_ACCESS_TOKEN_VALIDITY=str(VALIDITY_S),
            TOKENWARD_PASSWORD_HASH_MEMORY_KIB="7168",
            TOKENWARD_PASSWORD_HASH_TIME_COST="1",
        )
        with ServeProcess(ROOT, env=env, command=command, log_dir=tmp) as app:
            yield Site(api=f"http://localhost:{app.port}", page=page_origin)


def sign_up_outside_the_browser(site: Site) -> tuple[str, str]:
    email = new_email()
    form = {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}
    answer = httpx.post(site.api + "/auth/signup", json=form, headers={"rid": "emailpassword"})
    assert answer.json()["status"] == "OK", answer.text
    return email, str(answer.json()["user"]["id"])


def signed_in(browser: SdkBrowser) -> tuple[Tab, str]:
    email, user_id = sign_up_outside_the_browser(browser.site)
    tab = browser.open_tab()
    assert tab("signIn", email, PASSWORD) == {"status": "OK", "userId": user_id}
    browser.refreshes.clear()  # the probe of a fresh profile, see test_sign_in
    return tab, user_id


def test_sign_up_creates_a_session_in_the_chosen_mode(browser: SdkBrowser) -> None:
    tab = browser.open_tab()
    assert tab("doesSessionExist") is False
    email = new_email()
    answer = tab("signUp", email, PASSWORD)
    assert answer["status"] == "OK"
    assert tab("doesSessionExist") is True
    assert tab("userId") == answer["userId"]
    assert tab("payload")["sub"] == answer["userId"]
    if browser.mode == "cookie":
        assert browser.cookies("sAccessToken", "sRefreshToken").keys() == {
            "sAccessToken",
            "sRefreshToken",
        }
        assert not browser.cookies("st-access-token", "st-refresh-token")
    else:
        assert not browser.cookies("sAccessToken", "sRefreshToken")
        assert browser.cookies("st-access-token", "st-refresh-token").keys() == {
            "st-access-token",
            "st-refresh-token",
        }
    assert tab("signUp", email, PASSWORD)["status"] == "FIELD_ERROR"  # the email is taken


def test_sign_in(browser: SdkBrowser) -> None:
    email, user_id = sign_up_outside_the_browser(browser.site)
    tab = browser.open_tab()
    assert tab("signIn", email, "not " + PASSWORD)["status"] == "WRONG_CREDENTIALS_ERROR"
    # A fresh profile does not know whether it has a session: the SDK's first call to the API
    # is preceded by one refresh, which must fail cleanly (401, front-token: remove).
    assert len(browser.refreshes) == 1
    assert tab("doesSessionExist") is False
    assert tab("signIn", email, PASSWORD) == {"status": "OK", "userId": user_id}
    assert len(browser.refreshes) == 1
    assert tab("doesSessionExist") is True
    assert tab("userId") == user_id
    assert "SESSION_CREATED" in tab.page.evaluate("window.tw.events")


def test_protected_route(browser: SdkBrowser) -> None:
    anonymous = browser.open_tab()
    assert anonymous("me") == {"status": 401, "body": {"message": "unauthorised"}}
    tab, user_id = signed_in(browser)
    answer = tab("me")
    assert answer["status"] == 200
    assert answer["body"] == {"userId": user_id, "sessionHandle": tab("payload")["sessionHandle"]}


def test_an_expired_access_token_is_refreshed_transparently(browser: SdkBrowser) -> None:
    tab, user_id = signed_in(browser)
    handle = tab("payload")["sessionHandle"]
    first_expiry = tab("accessTokenExpiry")
    assert tab("me")["status"] == 200
    if not tab("expired"):  # still valid after the call (unless the machine is very slow)
        assert browser.refreshes == []  # a valid access token is accepted as it is

    browser.wait_for_expiry(tab)
    assert tab("me") == {"status": 200, "body": {"userId": user_id, "sessionHandle": handle}}
    assert len(browser.refreshes) == 1
    assert tab("accessTokenExpiry") > first_expiry
    assert "REFRESH_SESSION" in tab.page.evaluate("window.tw.events")


def test_parallel_calls_after_expiry_share_one_refresh(browser: SdkBrowser) -> None:
    tab, user_id = signed_in(browser)
    browser.wait_for_expiry(tab)
    answers = tab("parallelMe", 6)
    assert [a["status"] for a in answers] == [200] * 6
    assert {a["body"]["userId"] for a in answers} == {user_id}
    assert len(browser.refreshes) == 1


def test_a_second_tab_sees_the_refreshed_session(browser: SdkBrowser) -> None:
    first, user_id = signed_in(browser)
    second = browser.open_tab()
    assert second("doesSessionExist") is True and second("userId") == user_id

    browser.wait_for_expiry(first)
    assert first("me")["status"] == 200
    assert len(browser.refreshes) == 1
    assert second("me")["status"] == 200
    assert second("accessTokenExpiry") == first("accessTokenExpiry")
    assert len(browser.refreshes) == 1


def test_sign_out_ends_the_session_everywhere(browser: SdkBrowser) -> None:
    first, _ = signed_in(browser)
    second = browser.open_tab()
    refresh_token = browser.refresh_token()

    first("signOut")
    browser.refreshes.clear()  # sign-out may renew an expired token first; not after it
    assert first("doesSessionExist") is False
    assert second("doesSessionExist") is False
    assert second("me")["status"] == 401
    assert first("me")["status"] == 401
    assert browser.refreshes == []
    assert not browser.cookies(
        "sAccessToken", "sRefreshToken", "st-access-token", "st-refresh-token", "sFrontToken"
    )
    # Revoked on the server too, not only forgotten by the browser.
    assert browser.refresh_outside_the_browser(refresh_token).status_code == 401


def test_a_replayed_old_refresh_token_signs_the_user_out(browser: SdkBrowser) -> None:
    tab, _ = signed_in(browser)
    token_names = {"sAccessToken", "sRefreshToken", "st-access-token", "st-refresh-token"}
    old_tokens = [c for c in browser.context.cookies() if c["name"] in token_names]

    browser.wait_for_expiry(tab)
    assert tab("me")["status"] == 200  # refreshed; the new refresh token is now in use
    assert len(browser.refreshes) == 1
    current_refresh_token = browser.refresh_token()

    # The jar's Cookie dicts are valid SetCookieParam ones; the TypedDicts differ only in name.
    browser.context.add_cookies(old_tokens)  # type: ignore[arg-type]
    answer = tab("me")
    assert answer["status"] == 401
    assert len(browser.refreshes) == 2
    assert tab("doesSessionExist") is False
    assert "UNAUTHORISED" in tab.page.evaluate("window.tw.events")
    # The server revoked the whole session: the legitimate current token is dead as well.
    assert browser.refresh_outside_the_browser(current_refresh_token).status_code == 401
