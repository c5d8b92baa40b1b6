"""The app built on the official supertokens-python SDK (sdk_app.py), with a real `tokenward
serve` as its core, a real SMTP server for its passwordless emails and a file for its SMS."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import clean_env
from tests.support.server import ServeProcess
from tests.support.smtp import SmtpSink

HERE = Path(__file__).resolve().parent
SDK_API_KEY = "sdk-compat-test-api-key-0123456789"
# Not shorter: one access token carries sign-up through the verification check (about 1 s of
# SDK round trips under load), and exp is whole seconds, so a token can live as little as V-1 s.
SDK_ACCESS_TOKEN_VALIDITY_S = 3


@dataclass(frozen=True)
class SdkStack:
    url: str
    """The SDK app's origin (its FDI routes are under /auth, its own routes under /api)."""
    core: ServeProcess
    """tokenward, the SDK's core (its log is ``core.output()``)."""
    mail_log: Path
    """Email-verification and password-reset emails, as JSON lines ``{to, link}``."""
    smtp: SmtpSink
    """Where the SDK's SMTP service delivers passwordless emails."""
    sms_log: Path
    """Passwordless SMS, as JSON lines ``{phone, code, link}``."""


@contextmanager
def running_sdk_stack(
    tmp_path: Path,
    database_url: str,
    *,
    access_token_validity_s: int = SDK_ACCESS_TOKEN_VALIDITY_S,
    mfa: bool = False,
    **core_settings: str,
) -> Iterator[SdkStack]:
    """The core (with ``core_settings``: TOKENWARD_* variables) and the SDK app; ``mfa`` adds
    the SDK's totp and multifactorauth recipes."""
    core_env = clean_env(
        TOKENWARD_DATABASE_URL=database_url,
        TOKENWARD_API_KEYS=SDK_API_KEY,
        TOKENWARD_ACCESS_TOKEN_VALIDITY=str(access_token_validity_s),
        TOKENWARD_PASSWORD_HASH_MEMORY_KIB="7168",
        TOKENWARD_PASSWORD_HASH_TIME_COST="1",
        **core_settings,
    )
    mail_log, sms_log = tmp_path / "mail.jsonl", tmp_path / "sms.jsonl"
    with SmtpSink(security="none") as smtp, ServeProcess(tmp_path, env=core_env) as core:
        app_env = clean_env(
            TOKENWARD_CORE_URL=core.url,
            TOKENWARD_CORE_API_KEY=SDK_API_KEY,
            MAIL_LOG=str(mail_log),
            SMTP_PORT=str(smtp.port),
            SMS_LOG=str(sms_log),
            TLDEXTRACT_CACHE=str(tmp_path / "tld-cache"),
            SDK_MFA="1" if mfa else "",
        )
        command = [sys.executable, str(HERE / "sdk_app.py")]
        with ServeProcess(tmp_path, env=app_env, command=command) as app:
            yield SdkStack(app.url, core, mail_log, smtp, sms_log)


@pytest.fixture
def sdk_stack(tmp_path: Path, database_url: str) -> Iterator[SdkStack]:
    with running_sdk_stack(tmp_path, database_url) as stack:
        yield stack


@pytest.fixture
def sdk_mfa_stack(tmp_path: Path, database_url: str) -> Iterator[SdkStack]:
    """The SDK app with TOTP and MFA; access tokens live long enough for a whole MFA flow."""
    with running_sdk_stack(tmp_path, database_url, access_token_validity_s=3600, mfa=True) as stack:
        yield stack
