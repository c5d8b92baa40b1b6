"""Passwordless with the official SuperTokens frontend SDK (supertokens-web-js 0.16's
``recipe/passwordless``, unmodified) in a real headless Chromium, in cookie and in header mode.

tokenward runs in this process (``create_app`` with an injected clock, so a code expires
without waiting) and is served by uvicorn over real HTTP on localhost, cross-origin from the
test page. Its sign-in emails go over SMTP to a real server (aiosmtpd) and the tests read the
6-digit code and the magic link from them, as a user would. The SDK keeps the sign-in attempt
(deviceId, preAuthSessionId) in its own storage; a magic link opens the page at
``{website_domain}/auth/verify?preAuthSessionId=…&tenantId=public#<linkCode>``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp

from tests.browser.conftest import SdkBrowser, Site, Tab, new_email, page_server
from tests.support.clock import FakeClock
from tests.support.server import serve_in_thread
from tests.support.smtp import ReceivedMail, SmtpSink, first_url, smtp_settings
from tokenward.app.server import create_app
from tokenward.config import load_settings

LIFETIME_S = 60  # the shortest code lifetime tokenward takes
MAX_ATTEMPTS = 5  # the default
MAIL_TIMEOUT_S = 15.0
CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Backend:
    """The in-process tokenward, its clock and the mail server its emails go to."""

    site: Site
    clock: FakeClock
    sink: SmtpSink

    def mail_to(self, email: str, nth: int = 1) -> ReceivedMail:
        return self.sink.mail_to(email, nth)

    def code(self, email: str, nth: int = 1) -> str:
        match = CODE.search(self.mail_to(email, nth).text())
        assert match is not None, "no 6-digit code in the mail"
        return match.group(1)

    def link(self, email: str, nth: int = 1) -> str:
        return first_url(self.mail_to(email, nth))


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Backend]:
    database = tmp_path_factory.mktemp("web-sdk-passwordless") / "tokenward.db"
    database.write_bytes(sqlite_template.read_bytes())
    # Frozen at the real time: cookies expire by the browser's clock, which the server's must
    # not be behind. The tests move it forward only to expire a code.
    clock = FakeClock(int(time.time() * 1000))
    with SmtpSink(security="none") as sink, page_server() as page_origin:

        def make_app(port: int) -> ASGIApp:
            settings = load_settings(
                overrides={
                    "database_url": f"sqlite:///{database}",
                    "api_domain": f"http://localhost:{port}",
                    "website_domain": page_origin,
                    "passwordless_contact_method": "EMAIL",
                    "passwordless_flow_type": "USER_INPUT_CODE_AND_MAGIC_LINK",
                    "passwordless_code_lifetime": LIFETIME_S,
                    # The frozen clock never ends a rate limit's window; limits are not tested here.
                    "rate_limiting": False,
                    **smtp_settings(sink),
                }
            )
            return create_app(settings, clock=clock)

        with serve_in_thread(make_app) as port:
            yield Backend(Site(api=f"http://localhost:{port}", page=page_origin), clock, sink)


@pytest.fixture(scope="module")
def site(backend: Backend) -> Site:
    return backend.site


def assert_signed_in(browser: SdkBrowser, tab: Tab, user_id: str) -> None:
    assert tab("doesSessionExist") is True
    assert tab("userId") == user_id
    assert tab("payload")["sub"] == user_id
    assert browser.session_tokens() == browser.expected_session_tokens()


def code_sent(backend: Backend, tab: Tab, email: str, nth: int = 1) -> str:
    """Ask for a code in the page (the ``nth`` mail to ``email``); the code the mail carries."""
    created = tab("createCode", email)
    assert created["status"] == "OK", created
    assert created["flowType"] == "USER_INPUT_CODE_AND_MAGIC_LINK"
    attempt = tab("loginAttemptInfo")
    assert (attempt["deviceId"], attempt["preAuthSessionId"]) == (
        created["deviceId"],
        created["preAuthSessionId"],
    )
    return backend.code(email, nth)


def signed_up(browser: SdkBrowser, backend: Backend) -> tuple[Tab, str, dict[str, Any]]:
    """A new user signed up in a tab with the code from the mail: (tab, email, answer)."""
    tab = browser.open_tab()
    email = new_email()
    answer = tab("consumeCode", code_sent(backend, tab, email))
    assert answer["status"] == "OK", answer
    return tab, email, answer


def test_sign_up_with_the_emailed_code(browser: SdkBrowser, backend: Backend) -> None:
    tab, email, answer = signed_up(browser, backend)
    assert answer["createdNewRecipeUser"] is True
    user = answer["user"]
    assert user["emails"] == [email]
    assert [m["recipeId"] for m in user["loginMethods"]] == ["passwordless"]
    assert_signed_in(browser, tab, user["id"])
    assert "SESSION_CREATED" in tab.page.evaluate("window.tw.events")
    mail = backend.mail_to(email)
    assert mail.message["Subject"] == "Sign in to tokenward"
    assert backend.link(email).startswith(f"{browser.site.page}/auth/verify?preAuthSessionId=")


def test_sign_in_with_the_magic_link(browser: SdkBrowser, backend: Backend) -> None:
    tab, email, signed_up_answer = signed_up(browser, backend)
    user_id = signed_up_answer["user"]["id"]
    tab("signOut")
    tab("clearLoginAttemptInfo")
    assert tab("doesSessionExist") is False
    assert browser.session_tokens() == set()

    created = tab("createCode", email)
    link = backend.link(email, 2)
    assert link == (
        f"{browser.site.page}/auth/verify?preAuthSessionId={created['preAuthSessionId']}"
        f"&tenantId=public#{link.rsplit('#', 1)[1]}"
    )
    # The user clicks the link in their mail: a new tab on the website's /auth/verify page,
    # where the SDK takes preAuthSessionId and the link code from the URL.
    clicked = browser.open_tab(link)
    answer = clicked("consumeCode")
    assert answer["status"] == "OK", answer
    assert answer["createdNewRecipeUser"] is False
    assert answer["user"]["id"] == user_id
    assert_signed_in(browser, clicked, user_id)
    assert tab("userId") == user_id  # the first tab shares the session
    # A link is used once.
    assert clicked("consumeCode") == {"status": "RESTART_FLOW_ERROR"}


def test_a_wrong_code_is_counted_then_the_right_one_works(
    browser: SdkBrowser, backend: Backend
) -> None:
    tab = browser.open_tab()
    email = new_email()
    code = code_sent(backend, tab, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert tab("consumeCode", wrong) == {
        "status": "INCORRECT_USER_INPUT_CODE_ERROR",
        "failedCodeInputAttemptCount": 1,
        "maximumCodeInputAttempts": MAX_ATTEMPTS,
    }
    assert tab("doesSessionExist") is False
    assert browser.session_tokens() == set()

    answer = tab("consumeCode", code)
    assert answer["status"] == "OK", answer
    assert answer["createdNewRecipeUser"] is True
    assert_signed_in(browser, tab, answer["user"]["id"])


def test_an_expired_code_is_refused(browser: SdkBrowser, backend: Backend) -> None:
    tab = browser.open_tab()
    email = new_email()
    code = code_sent(backend, tab, email)
    link = backend.link(email)
    backend.clock.advance(seconds=LIFETIME_S + 1)

    assert tab("consumeCode", code) == {
        "status": "EXPIRED_USER_INPUT_CODE_ERROR",
        "failedCodeInputAttemptCount": 1,
        "maximumCodeInputAttempts": MAX_ATTEMPTS,
    }
    # An expired link cannot be retried: the user must start again.
    assert browser.open_tab(link)("consumeCode") == {"status": "RESTART_FLOW_ERROR"}
    assert tab("doesSessionExist") is False
    assert browser.session_tokens() == set()


def test_a_resent_code_is_new_and_works(browser: SdkBrowser, backend: Backend) -> None:
    tab = browser.open_tab()
    email = new_email()
    first = code_sent(backend, tab, email)
    attempt = tab("loginAttemptInfo")

    assert tab("resendCode") == {"status": "OK"}
    second = backend.code(email, 2)
    assert second != first  # codes of one device never repeat
    assert backend.link(email, 2) != backend.link(email, 1)
    assert tab("loginAttemptInfo") == attempt  # the same sign-in attempt

    answer = tab("consumeCode", second)
    assert answer["status"] == "OK", answer
    assert answer["createdNewRecipeUser"] is True
    assert_signed_in(browser, tab, answer["user"]["id"])
