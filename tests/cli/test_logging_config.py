"""The access log of `tokenward serve` keeps one-time tokens out (RST-04, LOG-02); the browser
tests check a real server's log too (tests/support/log_scan.py scans it)."""

from __future__ import annotations

import logging

import pytest

from tokenward.cli.logging_config import RedactTokens, log_config, redact


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (
            "/auth/reset-password?token=abc-_12&tenantId=public",
            "/auth/reset-password?token=[redacted]&tenantId=public",
        ),
        (
            "/auth/verify-email?tenantId=t1&token=abc",
            "/auth/verify-email?tenantId=t1&token=[redacted]",
        ),
        (
            "/auth/verify?preAuthSessionId=x&linkCode=abc",
            "/auth/verify?preAuthSessionId=[redacted]&linkCode=[redacted]",
        ),
        (
            "/public/recipe/signinup/codes?deviceId=TTSN%2FnUa%3D",
            "/public/recipe/signinup/codes?deviceId=[redacted]",
        ),
        (
            "/recipe/signinup/codes?preAuthSessionId=LSWa-_x&tenantId=public",
            "/recipe/signinup/codes?preAuthSessionId=[redacted]&tenantId=public",
        ),
        (
            "/auth/callback/acme?code=abc-_1&state=eyJ9&iss=http%3A%2F%2Fop",
            "/auth/callback/acme?code=[redacted]&state=eyJ9&iss=http%3A%2F%2Fop",
        ),
        ("/auth/account?mytoken=keep", "/auth/account?mytoken=keep"),
        (
            "/auth/callback/acme?error=access_denied&mycode=1",
            "/auth/callback/acme?error=access_denied&mycode=1",
        ),
        ("/auth/token=not-a-query", "/auth/token=not-a-query"),
    ],
)
def test_redact_replaces_token_values_only(path: str, logged: str) -> None:
    assert redact(path) == logged


def test_the_access_handler_redacts() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/auth/reset-password?token=secret-value", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5000 - "GET /auth/reset-password?token=[redacted] HTTP/1.1" 200'
    )
    config = log_config()
    assert config["filters"]["redact_tokens"] == {"()": RedactTokens}
    assert config["handlers"]["access"]["filters"] == ["redact_tokens"]
