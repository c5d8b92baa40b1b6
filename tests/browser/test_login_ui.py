"""The prebuilt login UI in a real Chromium, against a real `tokenward serve` process that sends
its emails to a real SMTP server (aiosmtpd). The pages' clocks are Playwright's fake clock, paused:
the session helper's renewal timer fires only when a test moves time on, while the server's
short-lived access tokens expire in real time.

The tests also take the screenshots in docs/screenshots/ that docs/login-ui.md shows.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from tests.support.cli import clean_env
from tests.support.server import ServeProcess
from tests.support.smtp import ReceivedMail, SmtpSink, first_url, free_port

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# `make screenshots` sets this to docs/screenshots; other runs keep the pictures out of the
# tree (they show random user ids and times, so every run would change them).
SCREENSHOTS = Path(os.environ.get("TOKENWARD_SCREENSHOTS_DIR") or tempfile.mkdtemp())
API_KEY = "login-ui-test-api-key-0123456789"
PASSWORD = "first long passphrase 1"
NEW_PASSWORD = "second long passphrase 2"
ACCESS_TOKEN_SECONDS = 4
"""Short, so the tests can wait past an expiry; not shorter, because a token lives up to a
second less than this (its expiry is cut to a whole second) and a refreshed token must outlive
a slow browser's next request: at 2 s, the two-tabs test once saw it expire again under CI load,
and the test's route held its renewal."""
# The pages' clocks stood still while real time went on: a jump this far reaches the renewal
# timer whatever the drift (a jump fires each due timer once).
FAR_AHEAD_MS = 10 * 60 * 1000


@dataclass
class Site:
    url: str
    smtp: SmtpSink
    server: ServeProcess
    emails: Iterator[str] = field(
        default_factory=lambda: (f"user{n}@example.com" for n in range(99))
    )

    def email(self) -> str:
        return next(self.emails)

    def mail_to(self, address: str, subject: str) -> ReceivedMail:
        """The newest message to ``address`` whose subject contains ``subject`` (polled)."""
        return self.mails_to(address, subject)[-1]

    def mails_to(self, address: str, subject: str, count: int = 1) -> list[ReceivedMail]:
        """The messages to ``address`` whose subject contains ``subject``, once there are at
        least ``count`` (polled)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = [
                m
                for m in self.smtp.received
                if address in m.rcpt_tos and subject in str(m.message["subject"])
            ]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} '{subject}' emails reached {address}")


@pytest.fixture(scope="module")
def site(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module: email verification REQUIRED, 2-second access tokens."""
    directory = tmp_path_factory.mktemp("login-ui")
    database = directory / "tokenward.db"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with SmtpSink() as smtp:
        env = clean_env(
            TOKENWARD_DATABASE_URL=f"sqlite:///{database}",
            TOKENWARD_API_DOMAIN=url,
            TOKENWARD_API_KEYS=API_KEY,
            TOKENWARD_ACCESS_TOKEN_VALIDITY=str(ACCESS_TOKEN_SECONDS),
            TOKENWARD_EMAIL_VERIFICATION="REQUIRED",
            TOKENWARD_EMAIL_BACKEND="smtp",
            TOKENWARD_SMTP_HOST=smtp.host,
            TOKENWARD_SMTP_PORT=str(smtp.port),
            TOKENWARD_SMTP_SECURITY="none",
            TOKENWARD_PASSWORD_HASH_MEMORY_KIB="7168",
            TOKENWARD_PASSWORD_HASH_TIME_COST="1",
            TOKENWARD_APP_NAME="Acme",
        )
        with ServeProcess(directory, env=env, port=port) as server:
            yield Site(url, smtp, server)


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile whose pages' clocks stand still (see the module docstring)."""
    context = chromium.new_context(viewport={"width": 900, "height": 720})
    context.set_default_timeout(10_000)
    now = datetime.datetime.now(datetime.UTC)
    context.clock.install(time=now)
    context.clock.pause_at(now + datetime.timedelta(seconds=1))
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return new_page(context)


def new_page(context: BrowserContext) -> Page:
    """A tab that fails the test on any console error (a CSP violation, a script error)."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("close", lambda _: _no_errors(errors))
    return tab


def _no_errors(errors: list[str]) -> None:
    # A 401 that the helper answers with a refresh is logged by Chromium as a failed resource.
    unexpected = [e for e in errors if "status of 401" not in e]
    assert not unexpected, unexpected


def shot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png: the card and a margin around it."""
    box = page.locator("main").bounding_box()
    assert box is not None
    margin = 32
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=SCREENSHOTS / f"{name}.png",
        full_page=True,  # the card may be taller than the window
        clip={
            "x": box["x"] - margin,
            "y": box["y"] - margin,
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        },
    )


def counter(context: BrowserContext, path: str) -> list[Request]:
    seen: list[Request] = []
    context.on("request", lambda r: seen.append(r) if urlsplit(r.url).path == path else None)
    return seen


def wait_past_expiry(page: Page) -> None:
    """Wait (real time) until the newest access token of the browser has expired: the expiry
    the front-token gave, which every tab shares."""
    expires_at = int(page.evaluate("TokenwardSession.info().ate"))
    while time.time() * 1000 < expires_at + 100:
        time.sleep(0.05)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_up_verified(site: Site, page: Page, email: str) -> None:
    """Create an account through the pages and verify it with the emailed link."""
    page.goto(f"{site.url}/auth?show=signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/auth/verify-email$"))
    page.goto(first_url(site.mail_to(email, "Verify")))
    expect(page.get_by_role("status")).to_have_text("Your email address is verified.")


def test_sign_up_verify_renew_revoke_and_come_back(site: Site, page: Page) -> None:
    email = site.email()
    page.goto(f"{site.url}/auth?show=signup")
    expect(page.get_by_role("heading")).to_have_text("Create an account")
    shot(page, "sign-up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # REQUIRED verification: a new account lands on "check your inbox"; the email has the link.
    expect(page).to_have_url(re.compile(r"/auth/verify-email$"))
    expect(page.get_by_role("button", name="I have verified my email")).to_be_visible()
    shot(page, "verify-email-inbox")
    page.get_by_role("button", name="I have verified my email").click()
    expect(page.get_by_role("alert")).to_contain_text("not verified yet")

    link = first_url(site.mail_to(email, "Verify"))
    assert urlsplit(link).path == "/auth/verify-email"
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text("Your email address is verified.")
    assert "token=" not in page.url, "the token is taken out of the address bar"
    shot(page, "verify-email-done")
    page.get_by_role("link", name="Continue").click()

    # Still signed in from the sign-up: the account page shows the user and the session.
    expect(page).to_have_url(f"{site.url}/auth/account")
    expect(page.locator("#user-email")).to_have_text(email)
    expect(page.locator("#user-verified")).to_have_text("Yes")
    first_handle = page.locator("#session-handle").inner_text()

    # Sign out and in again through the sign-in page.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/auth")
    shot(page, "sign-in")
    sign_in(page, email)
    expect(page).to_have_url(f"{site.url}/auth/account")
    expect(page.locator("#details")).to_be_visible()
    handle = page.locator("#session-handle").inner_text()
    assert handle != first_handle
    shot(page, "account")

    # The access token expires; the next call gets 401, refreshes once and succeeds.
    refreshes = counter(page.context, "/auth/session/refresh")
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/ui/me") else None)
    wait_past_expiry(page)
    page.get_by_role("button", name="Refresh details").click()
    expect(page.get_by_role("status")).to_have_text("Details updated.")
    assert len(refreshes) == 1
    assert answers == [401, 200]

    # Shortly before the new token expires, the timer renews it without any call failing.
    with page.expect_response(lambda r: r.url.endswith("/auth/session/refresh")) as renewal:
        page.clock.fast_forward(FAR_AHEAD_MS)
    assert renewal.value.status == 200
    assert len(refreshes) == 2

    # Revoked on the server: the next renewal fails and the page goes to sign in, remembering
    # where it was; signing in brings the user back there.
    revoked = httpx.post(
        f"{site.url}/recipe/session/remove",
        json={"sessionHandles": [handle]},
        headers={"api-key": API_KEY},
    )
    assert revoked.json()["sessionHandlesRevoked"] == [handle]
    page.clock.fast_forward(FAR_AHEAD_MS)
    expect(page).to_have_url(f"{site.url}/auth?redirectToPath=%2Fauth%2Faccount")
    expect(page.get_by_role("status")).to_have_text("Please sign in to continue.")
    sign_in(page, email)
    expect(page).to_have_url(f"{site.url}/auth/account")
    expect(page.locator("#user-email")).to_have_text(email)
    assert page.locator("#session-handle").inner_text() not in (handle, first_handle)


def test_password_reset_through_the_emailed_link(site: Site, page: Page) -> None:
    email = site.email()
    sign_up_verified(site, page, email)
    page.context.clear_cookies()

    page.goto(f"{site.url}/auth")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading")).to_have_text("Forgot your password?")
    shot(page, "forgot-password")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Email").press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"If an account exists for {email}")

    link = first_url(site.mail_to(email, "Reset"))
    assert urlsplit(link).path == "/auth/reset-password"
    assert parse_qs(urlsplit(link).query)["token"]
    page.goto(link)
    expect(page.get_by_role("heading")).to_have_text("Choose a new password")
    assert "token=" not in page.url
    shot(page, "reset-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill("something else 3")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#confirm-error")).to_have_text("The passwords do not match")
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your password has been changed. You can now sign in with it."
    )

    # The link works once: the same token read again is refused.
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("third long passphrase 3")
    page.get_by_label("Confirm new password").fill("third long passphrase 3")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")

    page.goto(f"{site.url}/auth")
    sign_in(page, email, NEW_PASSWORD)
    expect(page).to_have_url(f"{site.url}/auth/account")


def test_wrong_password_is_announced_and_keyboard_only_sign_in_works(
    site: Site, page: Page
) -> None:
    email = site.email()
    sign_up_verified(site, page, email)
    page.context.clear_cookies()

    page.goto(f"{site.url}/auth")
    page.keyboard.press("Tab")  # the first focusable element: the sign-up link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("not the password 9")
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Incorrect email and password combination.")
    assert alert.get_attribute("aria-live") == "assertive"
    assert page.evaluate("document.activeElement.id") == "password", "focus returns to the field"
    shot(page, "sign-in-error")

    # Empty fields are flagged on the fields themselves, the first one focused.
    page.get_by_label("Email").fill("")
    page.get_by_label("Password").fill("")
    page.keyboard.press("Enter")
    expect(page.locator("#email-error")).to_have_text("Field is not optional")
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "email"

    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.url}/auth/account")


def test_two_tabs_share_one_refresh(site: Site, context: BrowserContext) -> None:
    first = new_page(context)
    email = site.email()
    sign_up_verified(site, first, email)
    first.goto(f"{site.url}/auth/account")
    second = new_page(context)
    second.goto(f"{site.url}/auth/account")
    for tab in (first, second):
        expect(tab.locator("#user-email")).to_have_text(email)

    # Hold the first refresh until the second tab has also been told to refresh: both tabs then
    # want one at the same time, and the Web Lock lets only one of them do it.
    refreshes = counter(context, "/auth/session/refresh")
    held: list[Route] = []
    context.route("**/auth/session/refresh", lambda route: held.append(route))
    wait_past_expiry(first)
    first.get_by_role("button", name="Refresh details").click()
    poll(lambda: len(held) == 1, first)
    with second.expect_response(lambda r: r.url.endswith("/ui/me") and r.status == 401):
        second.get_by_role("button", name="Refresh details").click()
    poll(
        lambda: second.evaluate("async () => (await navigator.locks.query()).pending.length"),
        second,
    )
    held[0].continue_()

    for tab in (first, second):
        expect(tab.get_by_role("status")).to_have_text("Details updated.")
    assert len(refreshes) == 1


def poll(condition: Callable[[], Any], page: Page) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(20)


def test_redirect_to_path_accepts_only_paths_on_this_site(site: Site, page: Page) -> None:
    page.goto(f"{site.url}/auth")
    hostile = [
        "//evil.example/x",
        "/\\evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "/ok\r\nLocation: x",
        "evil",
        "",
    ]
    for value in hostile:
        assert page.evaluate("v => TokenwardSession.safePath(v, '/fallback')", value) == (
            "/fallback"
        ), value
    assert page.evaluate("v => TokenwardSession.safePath(v, '/fallback')", "/app/x?y=1#z") == (
        "/app/x?y=1#z"
    )

    email = site.email()
    sign_up_verified(site, page, email)
    page.context.clear_cookies()
    page.set_viewport_size({"width": 390, "height": 640})
    page.goto(f"{site.url}/auth?redirectToPath=//evil.example/steal")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "sign-in-phone.png")
    sign_in(page, email)
    expect(page).to_have_url(f"{site.url}/auth/account")


# A page of the app that embeds the sign-in: without a session it sends the browser to sign in,
# naming itself (with its query) as the way back.
APP_PAGE = "/app/dashboard?tab=billing"


def serve_app_page(site: Site, context: BrowserContext) -> None:
    """Answer ``APP_PAGE`` as a protected page of the app: "Dashboard" with the session cookie,
    else a redirect to ``/auth?redirectToPath=…``."""

    def answer(route: Route) -> None:
        if "sAccessToken=" in (route.request.header_value("cookie") or ""):
            route.fulfill(content_type="text/html", body="<title>App</title><h1>Dashboard</h1>")
        else:
            login = f"{site.url}/auth?redirectToPath={quote(APP_PAGE, safe='')}"
            route.fulfill(status=302, headers={"location": login})

    context.route(f"{site.url}/app/**", answer)


def sign_in_code(mail: ReceivedMail) -> str:
    """The 6-digit code of a passwordless sign-in email (on a line of its own)."""
    match = re.search(r"^\s*(\d{6})\s*$", mail.text(), re.MULTILINE)
    assert match is not None, mail.text()
    return match.group(1)


def ask_for_a_code(site: Site, page: Page, email: str) -> str:
    """From a protected page of the app to the code form; returns the emailed code."""
    serve_app_page(site, page.context)
    page.goto(site.url + APP_PAGE)
    expect(page).to_have_url(f"{site.url}/auth?redirectToPath={quote(APP_PAGE, safe='')}")
    expect(page.get_by_role("status")).to_have_text("Please sign in to continue.")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    expect(page.get_by_role("heading")).to_have_text("Check your email")
    expect(page.locator("#code-sent")).to_have_text(f"We sent a code to {email}.")
    return sign_in_code(site.mail_to(email, "Sign in"))


def test_passwordless_code_signs_in_where_the_user_started(site: Site, page: Page) -> None:
    email = site.email()
    code = ask_for_a_code(site, page, email)
    field = page.get_by_label("Sign-in code")
    expect(field).to_be_focused()
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert field.get_attribute("inputmode") == "numeric"
    expect(page.get_by_role("button", name="Resend code")).to_have_text("Resend code in 30 s")
    expect(page.get_by_role("button", name="Resend code")).to_be_disabled()
    shot(page, "sign-in-code")

    # A reload keeps the attempt (and where to go afterwards): the tab's sessionStorage.
    page.reload()
    expect(page.locator("#code-sent")).to_have_text(f"We sent a code to {email}.")
    expect(field).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")

    expect(page).to_have_url(site.url + APP_PAGE)
    expect(page.get_by_role("heading")).to_have_text("Dashboard")
    page.goto(f"{site.url}/auth/account")
    expect(page.locator("#user-email")).to_have_text(email)
    expect(page.locator("#user-verified")).to_have_text("Yes")  # the code proved the address
    assert page.evaluate("sessionStorage.length") == 0


def test_passwordless_link_from_the_mail_signs_in_another_tab(
    site: Site, context: BrowserContext
) -> None:
    first = new_page(context)
    email = site.email()
    ask_for_a_code(site, first, email)
    link = first_url(site.mail_to(email, "Sign in"))
    parts = urlsplit(link)
    assert parts.path == "/auth/verify"
    assert parse_qs(parts.query)["tenantId"] == ["public"]
    assert parse_qs(parts.query)["preAuthSessionId"]
    assert parts.fragment, "the link code is in the fragment"

    second = new_page(context)
    second.goto(link)
    expect(second).to_have_url(site.url + APP_PAGE)
    expect(second.get_by_role("heading")).to_have_text("Dashboard")
    second.goto(f"{site.url}/auth/account")
    expect(second.locator("#user-email")).to_have_text(email)

    # The link works once. Opened again, this browser no longer has the attempt, as if another
    # browser (or a mail scanner) opened it: nothing happens before a click.
    consumes = counter(context, "/auth/signinup/code/consume")
    third = new_page(context)
    third.goto(link)
    expect(third).to_have_url(f"{site.url}/auth/verify?{parts.query}")  # no fragment left
    expect(third.get_by_role("button", name="Continue signing in")).to_be_focused()
    shot(third, "sign-in-link-confirm")
    assert consumes == []
    third.keyboard.press("Enter")
    expect(third.get_by_role("alert")).to_have_text(
        "This sign-in link has expired or was already used. Please start again."
    )
    expect(third.get_by_role("link", name="Back to sign in")).to_have_attribute("href", "/auth")
    assert len(consumes) == 1


def test_passwordless_wrong_code_expired_code_and_resend(site: Site, page: Page) -> None:
    email = site.email()
    page.goto(f"{site.url}/auth")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    first_code = sign_in_code(site.mail_to(email, "Sign in"))
    field = page.get_by_label("Sign-in code")

    field.fill(f"{(int(first_code) + 1) % 10**6:06d}")
    field.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Wrong code. 4 attempts left.")
    expect(field).to_be_focused()

    # Not six digits: said in the browser, no attempt spent.
    field.fill("12 3")
    field.press("Enter")
    expect(page.locator("#code-error")).to_have_text("Enter the 6-digit code from the message")
    expect(field).to_have_attribute("aria-invalid", "true")

    # An expired code (the server's answer, stubbed: codes live at least a minute).
    def expired(route: Route) -> None:
        route.fulfill(
            json={
                "status": "EXPIRED_USER_INPUT_CODE_ERROR",
                "failedCodeInputAttemptCount": 2,
                "maximumCodeInputAttempts": 5,
            }
        )

    page.route("**/auth/signinup/code/consume", expired)
    field.fill(first_code)
    field.press("Enter")
    expect(alert).to_have_text("This code has expired. Resend a new one.")
    page.unroute("**/auth/signinup/code/consume")

    # "Resend" counts down (the page's clock is Playwright's), then sends a second email.
    resend = page.get_by_role("button", name="Resend code")
    expect(resend).to_have_text("Resend code in 30 s")
    expect(resend).to_be_disabled()
    page.clock.run_for(12_000)
    expect(resend).to_have_text("Resend code in 18 s")
    page.clock.run_for(18_000)
    expect(resend).to_have_text("Resend code")
    expect(resend).to_be_enabled()
    resend.click()
    expect(page.locator("#form-status")).to_have_text(f"We sent a new code to {email}.")
    expect(resend).to_have_text("Resend code in 30 s")
    expect(resend).to_be_disabled()
    _, second_mail = site.mails_to(email, "Sign in", 2)
    second_code = sign_in_code(second_mail)

    field.fill(second_code)
    field.press("Enter")
    expect(page).to_have_url(f"{site.url}/auth/account")
    expect(page.locator("#user-email")).to_have_text(email)


def test_passwordless_restart_and_the_phone_form_by_keyboard(site: Site, page: Page) -> None:
    # Too many wrong codes end the attempt: back to the form, the email kept.
    email = site.email()
    page.goto(f"{site.url}/auth")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in code").click()
    code = sign_in_code(site.mail_to(email, "Sign in"))
    field = page.get_by_label("Sign-in code")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        field.fill(wrong)
        field.press("Enter")
        word = "attempt" if left == 1 else "attempts"
        expect(page.get_by_role("alert")).to_have_text(f"Wrong code. {left} {word} left.")
    field.fill(wrong)
    field.press("Enter")
    expect(page.get_by_role("alert")).to_have_text(
        "This code can no longer be used. Please start again."
    )
    expect(page.get_by_label("Email")).to_have_value(email)
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0

    # The phone number form (the server's SMS goes to its console here, so its answer is
    # stubbed), reached and used with the keyboard alone.
    sent: list[Any] = []

    def code_sent(route: Route) -> None:
        sent.append(route.request.post_data_json)
        route.fulfill(
            json={
                "status": "OK",
                "deviceId": "device",
                "preAuthSessionId": "attempt",
                "flowType": "USER_INPUT_CODE",
            }
        )

    page.route("**/auth/signinup/code", code_sent)
    page.get_by_role("button", name="Use a phone number").focus()
    page.keyboard.press("Enter")
    phone = page.get_by_label("Phone number")
    expect(phone).to_be_focused()
    shot(page, "sign-in-by-phone")
    page.keyboard.type("+44 20 7946 0958")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading")).to_have_text("Check your phone")
    expect(page.locator("#code-sent")).to_have_text("We sent a code to +44 20 7946 0958.")
    assert sent == [{"phoneNumber": "+44 20 7946 0958"}]
    expect(page.locator("#link-hint")).to_be_hidden()
    page.get_by_role("button", name="Use another number").focus()
    page.keyboard.press("Enter")
    expect(phone).to_be_focused()
    page.get_by_role("button", name="Use your email instead").click()
    expect(page.get_by_label("Email")).to_be_focused()


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.inline_styles = 0
        self.labels: set[str] = set()
        self.inputs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and "src" not in named:
            self.inline_scripts += 1
        if tag == "style" or "style" in named or any(a.startswith("on") for a in named):
            self.inline_styles += 1
        if tag == "label" and named.get("for"):
            self.labels.add(str(named["for"]))
        if tag == "input":
            self.inputs.add(str(named.get("id")))


@pytest.mark.parametrize(
    "path",
    [
        "/auth",
        "/auth?show=signup",
        "/auth/reset-password",
        "/auth/reset-password?token=abc",
        "/auth/verify-email",
        "/auth/verify?preAuthSessionId=abc&tenantId=public",
        "/auth/account",
        "/auth/callback/acme?code=abc&state=xyz",
        "/auth/mfa",
        "/auth/mfa/totp",
    ],
)
def test_pages_carry_the_security_headers(site: Site, path: str) -> None:
    response = httpx.get(site.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    markup = _Markup()
    markup.feed(response.text)
    assert markup.inline_scripts == 0
    assert markup.inline_styles == 0
    assert markup.inputs <= markup.labels, "every input has a <label for>"


def test_assets_are_served_with_their_types_and_nothing_else(site: Site) -> None:
    page = httpx.get(f"{site.url}/auth").text
    urls = re.findall(r'(?:src|href)="(/auth/ui/[^"]+)"', page)
    # app.css, session.js, forms.js, passwordless.js, thirdparty.js, mfa.js, pages.js
    assert len(urls) == 7
    for url in urls:
        response = httpx.get(site.url + url)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["content-type"].startswith(
            "text/css" if url.endswith(".css") or ".css?" in url else "text/javascript"
        )
    assert httpx.get(f"{site.url}/auth/ui/..%2Fconfig.py").status_code == 404
    assert httpx.get(f"{site.url}/auth/ui/layout.html").status_code == 404
    # The page routes are GET only: the API keeps POST /auth/signin and friends.
    assert httpx.post(f"{site.url}/auth/account").status_code == 405
