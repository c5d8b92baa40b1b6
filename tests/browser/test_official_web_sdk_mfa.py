"""Multi-factor auth with the official SuperTokens frontend SDK (supertokens-web-js 0.16's
``recipe/totp`` and ``recipe/multifactorauth``, unmodified) in a real headless Chromium, in
cookie and in header mode.

tokenward runs in this process (``create_app`` with an injected clock) behind uvicorn on
localhost, cross-origin from the test page, with one protected app route (/api/me, which
enforces ``st-mfa`` as every protected route does by default). The tests play the
authenticator app: they compute TOTP codes with pyotp from the secret the SDK got, at the
server's (injected) time, and move that time on by a period rather than wait for a new code.
Emails (a code as a second factor) go over SMTP to a real server (aiosmtpd).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.browser.conftest import SdkBrowser, Site, Tab, new_email, page_server
from tests.support.clock import FakeClock
from tests.support.server import serve_in_thread
from tests.support.smtp import ReceivedMail, SmtpSink, smtp_settings
from tokenward.app.server import create_app
from tokenward.config import load_settings
from tokenward.integrations.starlette import Session, requires_session

PASSWORD = "a browser passphrase 42"
PERIOD_S = 30  # the default TOTP period
MAX_ATTEMPTS = 5  # the default totp_max_attempts
MAIL_TIMEOUT_S = 15.0
API_KEY = "web-sdk-mfa-test-key-0123456789"
CORE = {"api-key": API_KEY, "cdi-version": "5.4", "rid": "emailverification"}
CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
MFA_PENDING = {
    "message": "invalid claim",
    "claimValidationErrors": [
        {"id": "st-mfa", "reason": {"message": "MFA requirement for auth is not satisfied"}}
    ],
}


@requires_session()
async def me(request: Request, session: Session) -> Response:
    """The app's protected route: st-mfa is enforced (the integrations' default)."""
    return JSONResponse({"userId": session.user_id, "sessionHandle": session.session_handle})


@dataclass(frozen=True)
class Backend:
    """The in-process tokenward, its clock and the mail server its emails go to."""

    site: Site
    clock: FakeClock
    sink: SmtpSink

    def totp(self, secret: str) -> str:
        """The code an authenticator app shows now, by the server's clock."""
        return pyotp.TOTP(secret).at(self.clock.now_ms() // 1000)

    def mail_to(self, email: str, nth: int = 1) -> ReceivedMail:
        return self.sink.mail_to(email, nth)

    def code(self, email: str, nth: int = 1) -> str:
        match = CODE.search(self.mail_to(email, nth).text())
        assert match is not None, "no 6-digit code in the mail"
        return match.group(1)

    def verify_email(self, user_id: str, email: str) -> None:
        """Mark ``email`` verified through the core API (as an app's backend SDK would)."""
        token = httpx.post(
            f"{self.site.api}/recipe/user/email/verify/token",
            json={"userId": user_id, "email": email},
            headers=CORE,
        )
        assert token.json()["status"] == "OK", token.text
        verified = httpx.post(
            f"{self.site.api}/recipe/user/email/verify",
            json={"method": "token", "token": token.json()["token"]},
            headers=CORE,
        )
        assert verified.json() == {"status": "OK", "userId": user_id, "email": email}


@contextmanager
def running_backend(database: Path, template: Path, **overrides: Any) -> Iterator[Backend]:
    database.write_bytes(template.read_bytes())
    # Frozen at the real time: cookies expire by the browser's clock, which the server's must
    # not be behind. The tests move it forward only to reach the next TOTP period.
    clock = FakeClock(int(time.time() * 1000))
    with SmtpSink(security="none") as sink, page_server() as page_origin:

        def make_app(port: int) -> ASGIApp:
            settings = load_settings(
                overrides={
                    "database_url": f"sqlite:///{database}",
                    "api_domain": f"http://localhost:{port}",
                    "website_domain": page_origin,
                    "password_hash_memory_kib": 7168,
                    "password_hash_time_cost": 1,
                    # The frozen clock never ends a rate limit's window; limits are not tested here.
                    "rate_limiting": False,
                    "api_keys": API_KEY,
                    **smtp_settings(sink),
                    **overrides,
                }
            )
            app = create_app(settings, clock=clock)
            app.router.routes.append(Route("/api/me", me, methods=["GET"]))
            return app

        with serve_in_thread(make_app) as port:
            yield Backend(Site(api=f"http://localhost:{port}", page=page_origin), clock, sink)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Backend]:
    """TOTP for the users who set it up (nothing required of the others)."""
    database = tmp_path_factory.mktemp("web-sdk-mfa") / "tokenward.db"
    with running_backend(database, sqlite_template) as running:
        yield running


@pytest.fixture(scope="module")
def otp_email_backend(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Backend]:
    """Every user must complete a code by email as their second factor."""
    database = tmp_path_factory.mktemp("web-sdk-mfa-otp-email") / "tokenward.db"
    overrides = {
        "mfa_required_secondary_factors": "otp-email",
        "passwordless_contact_method": "EMAIL",
        "passwordless_flow_type": "USER_INPUT_CODE",
    }
    with running_backend(database, sqlite_template, **overrides) as running:
        yield running


@pytest.fixture(scope="module")
def site(backend: Backend) -> Site:
    return backend.site


def handle(tab: Tab) -> str:
    return str(tab("payload")["sessionHandle"])


def signed_up(browser: SdkBrowser) -> tuple[Tab, str, str]:
    """A new email/password user signed up through the SDK: (tab, email, user id)."""
    tab = browser.open_tab()
    email = new_email()
    answer = tab("signUp", email, PASSWORD)
    assert answer["status"] == "OK", answer
    return tab, email, str(answer["userId"])


def with_totp(browser: SdkBrowser, backend: Backend) -> tuple[Tab, str, str, str]:
    """A new user with a verified TOTP device, set up through the SDK: (tab, email, user id,
    secret). The session that set it up has completed totp."""
    tab, email, user_id = signed_up(browser)
    # Nothing is required of a user without a second factor: MFA is complete at sign-up.
    claim = tab("mfaClaim")
    assert claim["v"] is True
    assert list(claim["c"]) == ["emailpassword"]
    assert tab("me") == {
        "status": 200,
        "body": {"userId": user_id, "sessionHandle": handle(tab)},
    }

    created = tab("totpCreateDevice", "phone")
    assert created["httpStatus"] == 200
    assert created["status"] == "OK", created
    assert created["deviceName"] == "phone"
    secret = created["secret"]
    assert created["qrCodeString"].startswith("otpauth://totp/")
    assert f"secret={secret}" in created["qrCodeString"]
    assert tab("totpListDevices")["devices"] == [
        {"name": "phone", "period": PERIOD_S, "skew": 1, "verified": False}
    ]

    verified = tab("totpVerifyDevice", "phone", backend.totp(secret))
    assert verified == {"httpStatus": 200, "status": "OK", "wasAlreadyVerified": False}
    assert tab("totpListDevices")["devices"] == [
        {"name": "phone", "period": PERIOD_S, "skew": 1, "verified": True}
    ]
    claim = tab("mfaClaim")
    assert claim["v"] is True
    assert set(claim["c"]) == {"emailpassword", "totp"}
    return tab, email, user_id, secret


def test_totp_set_up_then_asked_for_at_the_next_sign_in(
    browser: SdkBrowser, backend: Backend
) -> None:
    tab, email, user_id, secret = with_totp(browser, backend)
    set_up_code = backend.totp(secret)
    tab("signOut")
    assert tab("doesSessionExist") is False

    # The password alone gives a session whose MFA is pending.
    assert tab("signIn", email, PASSWORD) == {"status": "OK", "userId": user_id}
    session_handle = handle(tab)
    claim = tab("mfaClaim")
    assert claim["v"] is False
    assert list(claim["c"]) == ["emailpassword"]
    assert tab("me") == {"status": 403, "body": MFA_PENDING}
    # The SDK's own validator (added by recipe/multifactorauth) sees the same.
    errors = tab("mfaValidationErrors")
    assert [e["id"] for e in errors] == ["st-mfa"], errors

    info = tab("mfaInfo")
    assert info["httpStatus"] == 200
    assert info["status"] == "OK", info
    assert info["factors"]["next"] == ["totp"]
    assert info["factors"]["alreadySetup"] == ["emailpassword", "totp"]
    assert tab("mfaClaim")["v"] is False  # the resync changes nothing while totp is missing
    # The devices can be listed while MFA is pending (the frontend shows them), but no
    # factor can be added before the one the user has is used (the SDK throws the 403).
    assert [d["name"] for d in tab("totpListDevices")["devices"]] == ["phone"]
    assert tab("totpCreateDevice", "laptop") == {
        "thrown": 403,
        "body": {
            "message": "invalid claim",
            "claimValidationErrors": [
                {
                    "id": "st-mfa",
                    "reason": {
                        "message": "Completed factors in the session does not satisfy the MFA "
                        "requirements for auth"
                    },
                }
            ],
        },
    }

    # The code used to set the device up is spent: replaying it fails, as a wrong code does.
    replayed = tab("totpVerifyCode", set_up_code)
    assert replayed == {
        "httpStatus": 200,
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": 1,
        "maxNumberOfFailedAttempts": MAX_ATTEMPTS,
    }
    backend.clock.advance(seconds=PERIOD_S)
    code = backend.totp(secret)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert tab("totpVerifyCode", wrong) == {
        "httpStatus": 200,
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": 2,
        "maxNumberOfFailedAttempts": MAX_ATTEMPTS,
    }
    assert tab("mfaClaim")["v"] is False
    assert tab("me")["status"] == 403

    # The next period's code completes MFA in the same session.
    assert tab("totpVerifyCode", code) == {"httpStatus": 200, "status": "OK"}
    claim = tab("mfaClaim")
    assert claim["v"] is True
    assert set(claim["c"]) == {"emailpassword", "totp"}
    assert tab("mfaValidationErrors") == []
    assert tab("me") == {
        "status": 200,
        "body": {"userId": user_id, "sessionHandle": session_handle},
    }
    assert handle(tab) == session_handle
    assert tab("mfaInfo")["factors"]["next"] == []
    # A code is spent once, also when it was right.
    assert tab("totpVerifyCode", code)["status"] == "INVALID_TOTP_ERROR"
    assert browser.session_tokens() == browser.expected_session_tokens()


def test_a_wrong_code_does_not_verify_a_device(browser: SdkBrowser, backend: Backend) -> None:
    tab, _, _ = signed_up(browser)
    created = tab("totpCreateDevice", "phone")
    assert created["status"] == "OK", created
    code = backend.totp(created["secret"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert tab("totpVerifyDevice", "phone", wrong) == {
        "httpStatus": 200,
        "status": "INVALID_TOTP_ERROR",
        "currentNumberOfFailedAttempts": 1,
        "maxNumberOfFailedAttempts": MAX_ATTEMPTS,
    }
    assert tab("totpListDevices")["devices"][0]["verified"] is False
    assert tab("totpVerifyDevice", "phone", code)["status"] == "OK"
    assert tab("totpRemoveDevice", "phone") == {
        "httpStatus": 200,
        "status": "OK",
        "didDeviceExist": True,
    }
    assert tab("totpListDevices")["devices"] == []


def test_a_code_by_email_as_the_second_factor(
    browser: SdkBrowser, otp_email_backend: Backend
) -> None:
    browser = SdkBrowser(browser.context, otp_email_backend.site, browser.mode)
    tab, email, user_id = signed_up(browser)
    session_handle = handle(tab)
    claim = tab("mfaClaim")
    assert claim["v"] is False
    assert list(claim["c"]) == ["emailpassword"]
    assert tab("me") == {"status": 403, "body": MFA_PENDING}
    # A code goes only to a verified email of the user's: the app has it verified.
    otp_email_backend.verify_email(user_id, email)
    info = tab("mfaInfo")
    assert info["factors"]["next"] == ["otp-email"], info
    assert info["emails"]["otp-email"] == [email]

    created = tab("createSecondFactorCode", email)
    assert created["status"] == "OK", created
    assert created["flowType"] == "USER_INPUT_CODE"
    answer = tab("consumeSecondFactorCode", otp_email_backend.code(email))
    assert answer["status"] == "OK", answer
    assert answer["user"]["id"] == user_id

    claim = tab("mfaClaim")
    assert claim["v"] is True
    assert set(claim["c"]) == {"emailpassword", "otp-email"}
    assert tab("me") == {
        "status": 200,
        "body": {"userId": user_id, "sessionHandle": session_handle},
    }
    assert handle(tab) == session_handle
    assert tab("userId") == user_id
