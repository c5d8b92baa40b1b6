"""Two-step verification on the login pages, in a real Chromium: set up an authenticator app
from the page (its QR code drawn by tokenward as SVG, its key shown as text), then sign in
with a code from it, or with a recovery code; the account page's devices and codes.

tokenward runs in this process (``create_app`` with an injected clock, as in
test_official_web_sdk_passwordless.py) so that the test computes each code with pyotp at the
server's own time, and moves that time on by a period when a code must not be a replay (a
code's time step is spent once). The pages' clocks are Playwright's, paused, as in
test_login_ui.py.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from starlette.types import ASGIApp

from tests.browser.conftest import new_email
from tests.browser.test_login_ui import shot
from tests.support.clock import FakeClock
from tests.support.server import serve_in_thread
from tokenward.app.server import create_app
from tokenward.config import load_settings

PASSWORD = "first long passphrase 1"
PERIOD_S = 30
STEP_UP_S = 300  # mfa_step_up_max_age's default


@dataclass(frozen=True)
class Backend:
    url: str
    clock: FakeClock

    def code(self, secret: str) -> str:
        """The code an authenticator app with ``secret`` shows at the server's time."""
        return pyotp.TOTP(secret).at(self.clock.now_ms() // 1000)

    def wrong_code(self, secret: str) -> str:
        """A code the app does not show now, nor a period before or after (the skew)."""
        now = self.clock.now_ms() // 1000
        near = {pyotp.TOTP(secret).at(now + d * PERIOD_S) for d in (-1, 0, 1)}
        return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)

    def next_period(self) -> None:
        """On to the next time step: the last code accepted is spent."""
        self.clock.advance(seconds=PERIOD_S)


def make_backend(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, **overrides: object
) -> Iterator[Backend]:
    database = tmp_path_factory.mktemp("login-ui-mfa") / "tokenward.db"
    database.write_bytes(sqlite_template.read_bytes())
    # Frozen at the real time: cookies expire by the browser's clock, which the server's must
    # not be behind. The tests only move it forward.
    clock = FakeClock(int(time.time() * 1000))

    def make_app(port: int) -> ASGIApp:
        settings = load_settings(
            overrides={
                "database_url": f"sqlite:///{database}",
                "api_domain": f"http://127.0.0.1:{port}",
                "email_verification": "OFF",
                "app_name": "Acme",
                "password_hash_memory_kib": 7168,
                "password_hash_time_cost": 1,
                # The frozen clock never ends a rate limit's window; limits are not tested here.
                "rate_limiting": False,
                "mfa_factor_change_emails": False,
                **overrides,
            }
        )
        return create_app(settings, clock=clock)

    with serve_in_thread(make_app) as port:
        yield Backend(f"http://127.0.0.1:{port}", clock)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Backend]:
    yield from make_backend(tmp_path_factory, sqlite_template)


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh profile whose pages' clocks stand still (see test_login_ui.py)."""
    context = chromium.new_context(viewport={"width": 900, "height": 900})
    context.set_default_timeout(10_000)
    now = datetime.datetime.now(datetime.UTC)
    context.clock.install(time=now)
    context.clock.pause_at(now + datetime.timedelta(seconds=1))
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails the test on any console error (a CSP violation, a script error) but
    the failed resources the pages expect: a 401 the helper answers with a refresh, a 403 that
    asks for a second factor first."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    unexpected = [e for e in errors if not re.search(r"status of 40[13] ", e)]
    assert not unexpected, unexpected


def sign_up(backend: Backend, page: Page, email: str) -> None:
    page.goto(f"{backend.url}/auth?show=signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/auth/account$"))


def sign_in(backend: Backend, page: Page, email: str) -> None:
    page.goto(f"{backend.url}/auth")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def set_up_totp(backend: Backend, page: Page) -> tuple[str, list[str]]:
    """On the set-up page: check the QR code, verify the app with a code computed from the
    key the page shows, make recovery codes. The key and the codes."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up an authenticator app")
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml;base64,"))
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    # The image is the SVG the server sent (a QR code drawn by segno), not a third party's.
    svg = qr.evaluate("img => atob(img.src.split(',')[1])")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and 'class="segno"' in svg
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    shot(page, "mfa-set-up")

    page.get_by_label("Code from the app").fill(backend.wrong_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#totp-error")).to_have_text(
        "That code is not right. You have 4 more tries."
    )
    page.get_by_label("Code from the app").fill(backend.code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_have_text("Your authenticator app is set up.")

    page.get_by_role("button", name="Make recovery codes").click()
    codes_list = page.get_by_role("list", name="Recovery codes")
    expect(codes_list.get_by_role("listitem")).to_have_count(10)
    codes = codes_list.get_by_role("listitem").all_inner_texts()
    shot(page, "mfa-recovery-codes")
    expect(page.get_by_role("button", name="Make recovery codes")).to_be_hidden()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/auth/account$"))
    return secret, codes


def test_set_up_totp_then_sign_in_with_a_code_or_a_recovery_code(
    backend: Backend, page: Page
) -> None:
    email = new_email()
    sign_up(backend, page, email)
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    expect(page.get_by_text("No authenticator app is set up.")).to_be_visible()

    # The QR code is an image tokenward draws: an SVG answer from this origin, never cached.
    with page.expect_response(lambda r: r.url.endswith("/auth/ui/totp/qr")) as drawn:
        page.get_by_role("link", name="Add an authenticator app").click()
    qr = drawn.value
    assert qr.status == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.headers["cache-control"] == "no-store"
    secret, codes = set_up_totp(backend, page)

    devices = page.get_by_role("list", name="Authenticator apps")
    expect(devices.get_by_role("listitem")).to_have_count(1)
    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()
    sign_out(page)

    # The password is not enough any more: the MFA page asks for the app's code.
    sign_in(backend, page, email)
    expect(page).to_have_url(re.compile(r"/auth/mfa$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step verification")
    assert page.evaluate("TokenwardSession.info().up['st-mfa'].v") is False
    expect(page.get_by_label("Authenticator code")).to_be_focused()
    shot(page, "mfa")
    # The account route refuses the half-signed-in session, the account page sends it back.
    page.goto(f"{backend.url}/auth/account")
    expect(page).to_have_url(re.compile(r"/auth/mfa$"))
    backend.next_period()  # the set-up's code is spent
    page.get_by_label("Authenticator code").fill(backend.code(secret))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/auth/account$"))
    expect(page.locator("#user-email")).to_have_text(email)
    assert page.evaluate("TokenwardSession.info().up['st-mfa'].v") is True
    sign_out(page)

    # A recovery code gets through too, once.
    sign_in(backend, page, email)
    expect(page).to_have_url(re.compile(r"/auth/mfa$"))
    page.get_by_role("button", name="Use a recovery code").click()
    page.get_by_label("Recovery code").fill("not-a-code")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#recovery-error")).to_have_text(
        "This recovery code is not valid, or it was used already."
    )
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/auth/account$"))
    expect(page.locator("#user-email")).to_have_text(email)
    expect(page.get_by_text("9 recovery codes left.")).to_be_visible()
    shot(page, "account-mfa")

    # New codes and removing the app ask for a second factor completed recently: once the
    # recovery code is too old, the page asks for a code, then does what was asked.
    backend.clock.advance(seconds=STEP_UP_S + 1)
    page.get_by_role("button", name="Make new codes").click()
    confirm = page.get_by_label("Confirm with a code from your authenticator app")
    expect(confirm).to_be_visible()
    confirm.fill(backend.code(secret))
    page.get_by_role("button", name="Confirm").click()
    fresh = page.get_by_role("list", name="New recovery codes").get_by_role("listitem")
    expect(fresh).to_have_count(10)
    assert codes[1] not in fresh.all_inner_texts()
    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()

    backend.clock.advance(seconds=STEP_UP_S + 1)  # the last code is no longer recent
    page.get_by_role("button", name=re.compile("^Remove ")).click()
    expect(confirm).to_be_visible()
    confirm.fill(backend.code(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"was removed\.$"))
    expect(page.get_by_text("No authenticator app is set up.")).to_be_visible()
    sign_out(page)

    # Without the app, the password alone signs in again.
    sign_in(backend, page, email)
    expect(page).to_have_url(re.compile(r"/auth/account$"))


@pytest.fixture(scope="module")
def totp_required(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Backend]:
    """A second server whose app requires an authenticator app of every user."""
    yield from make_backend(
        tmp_path_factory, sqlite_template, mfa_required_secondary_factors="totp"
    )


def test_an_app_that_requires_totp_has_a_new_user_set_it_up_first(
    totp_required: Backend, page: Page
) -> None:
    email = new_email()
    page.goto(f"{totp_required.url}/auth?show=signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # PUT /mfa/info: next is ["totp"], none set up: the MFA page hands over to the set-up.
    expect(page).to_have_url(re.compile(r"/auth/mfa/totp$"))
    page.goto(f"{totp_required.url}/auth/account")
    expect(page).to_have_url(re.compile(r"/auth/mfa/totp$"))
    set_up_totp(totp_required, page)
    expect(page.locator("#user-email")).to_have_text(email)
    assert page.evaluate("TokenwardSession.info().up['st-mfa'].v") is True
