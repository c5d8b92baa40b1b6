"""LOG-02 / SES-08: the log scanner that fails the test run finds real secrets and only those."""

from __future__ import annotations

import uuid
from pathlib import Path

import argon2
import bcrypt

from tests.support.log_scan import Scanner, console_emails_removed, suite_passwords
from tokenward.recipes.jwt.rules import generate_rsa_private_key
from tokenward.recipes.session.rules import refresh_token
from tokenward.recipes.session.rules.refresh_token import RefreshTokenPayload
from tokenward.shared import jwt
from tokenward.shared.email_links.tokens import new_link_token

PLANTED_PASSWORD = "planted passphrase 42"
scanner = Scanner([PLANTED_PASSWORD])


def kinds(line: str) -> list[str]:
    return [hit.kind for hit in scanner.scan("test", [line])]


def test_log_02_catches_a_jwt() -> None:
    header = {"alg": "RS256", "typ": "JWT", "kid": "d-1", "version": "5"}
    token = jwt.sign(header, {"sub": "user-1", "exp": 2}, generate_rsa_private_key())
    assert kinds(f"verified session token={token} ok") == ["JWT"]


def test_log_02_catches_a_refresh_token() -> None:
    token = refresh_token.seal(
        refresh_token.new_key(), RefreshTokenPayload(str(uuid.uuid4()), "public")
    )
    assert kinds(f"refresh with {token!r}") == ["refresh token"]


def test_log_02_catches_password_hashes() -> None:
    argon2_hash = argon2.PasswordHasher(time_cost=1, memory_cost=1024).hash("whatever it is")
    legacy = bcrypt.hashpw(b"legacy", bcrypt.gensalt(4)).decode()
    assert kinds(f"stored hash {argon2_hash}") == ["password hash"]
    assert kinds(f"(('{legacy}',),)") == ["password hash"]


def test_log_02_catches_link_tokens_and_anti_csrf_tokens() -> None:
    token = new_link_token()
    assert kinds(f"POST /auth/user/password/reset token={token}") == ["link token"]
    assert kinds(f"headers anti-csrf: {uuid.uuid4()}") == ["anti-CSRF token"]


def test_log_02_catches_a_test_password_and_masks_every_secret() -> None:
    [hit] = scanner.scan("logger tokenward.x", [f"sign-in with {PLANTED_PASSWORD} failed"])
    assert hit.kind == "test password" and hit.source == "logger tokenward.x"
    assert PLANTED_PASSWORD not in hit.line and hit.line.startswith("sign-in with plan…[masked")


def test_log_02_passes_harmless_lines() -> None:
    harmless = [
        f"event='sign_in.success' user_id='{uuid.uuid4()}' session_handle='{uuid.uuid4()}'",
        "event='sign_in.failure' tenant_id='public' email='alice@example.com' ip='127.0.0.1'",
        '127.0.0.1:51234 - "POST /auth/session/refresh HTTP/1.1" 200',
        "cleanup removed 3 expired sessions; sha256 " + "ab" * 32,
        "test_log_02_passes_harmless_lines_and_identifiers_of_any_length",
        "kid d-1764198137000 version v1.2.3 anti-csrf: none",
    ]
    assert scanner.scan("test", harmless) == []


def test_log_02_finds_the_suites_passwords() -> None:
    passwords = suite_passwords()
    assert {"correct horse battery", "sdkpassword123", "first long passphrase"} <= passwords
    assert PLANTED_PASSWORD not in passwords, "this file's planted values are not logged"


def test_log_02_skips_console_emails_in_serve_output(tmp_path: Path) -> None:
    token = new_link_token()
    output = [
        "INFO:     Started server process",
        "=" * 72,
        "tokenward email (console backend: not sent)",
        "To: alice@example.com",
        "-" * 72,
        f"Reset: http://localhost:3000/auth/reset-password?token={token}",
        "=" * 72,
        f"leaked afterwards token={token}",
    ]
    hits = scanner.scan("serve.log", console_emails_removed(output))
    assert [hit.kind for hit in hits] == ["link token"]
    assert hits[0].line.startswith("leaked afterwards")
