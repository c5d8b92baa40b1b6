"""TOTP (RFC 6238) decisions: secrets, codes, device names, the authenticator-app URI and the
failed-attempt budget. Pure: time and randomness come in as arguments.

Facts from SuperTokens (reference §4.3): 20-byte secrets in Base32 (32 characters), SHA-1,
6 digits, a 30 s period and a skew of one period either side; unnamed devices are
``TOTP Device <n>``; 5 wrong codes in a row lock verification for 900 s.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from urllib.parse import quote

import pyotp

RECIPE_ID = "totp"
SECRET_BYTES = 20
MAX_DEVICE_NAME = 256


@dataclass(frozen=True, slots=True)
class CodeShape:
    """How a device's codes are made: seconds per code, digits, and periods of slack."""

    period: int = 30
    digits: int = 6
    skew: int = 1


def secret_from(random_bytes: bytes) -> str:
    """The Base32 secret for ``SECRET_BYTES`` random bytes (no padding is needed for 20)."""
    if len(random_bytes) != SECRET_BYTES:
        raise ValueError(f"a TOTP secret is {SECRET_BYTES} random bytes")
    return base64.b32encode(random_bytes).decode("ascii")


def valid_secret(secret: str) -> bool:
    """Whether an imported secret is Base32 that decodes to at least 10 bytes (RFC 4226's
    minimum of 128 bits is advice; authenticator apps accept 80)."""
    text = secret.strip().replace(" ", "").upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except ValueError:
        return False
    return len(raw) >= 10


class _Totp(pyotp.TOTP):
    # pyotp >= 2.10 refuses secrets under 112 bits; imported secrets of 80 bits (10 bytes, the
    # minimum ``valid_secret`` accepts, common in authenticator apps) must still work.
    min_secret_length_bits = 80


def matching_step(secret: str, code: str, now_s: int, shape: CodeShape) -> int | None:
    """The time step (``now // period`` ± skew) whose code is ``code``, or None.

    Every candidate is compared in constant time, and all of them are computed, so the time
    taken does not tell which step matched.
    """
    if len(code) != shape.digits or not code.isascii() or not code.isdigit():
        return None
    otp = _Totp(secret, digits=shape.digits, interval=shape.period)
    current = now_s // shape.period
    found: int | None = None
    for step in range(current - shape.skew, current + shape.skew + 1):
        if hmac.compare_digest(otp.generate_otp(step), code) and found is None:
            found = step
    return found


def code_at(secret: str, now_s: int, shape: CodeShape) -> str:
    """The code an authenticator app shows at ``now_s`` (for tests and the CLI)."""
    return _Totp(secret, digits=shape.digits, interval=shape.period).generate_otp(
        now_s // shape.period
    )


def default_device_name(taken: set[str], verified_count: int) -> str:
    """SuperTokens' name for an unnamed device: ``TOTP Device <n>``, n from the number of
    verified devices up to the first free one."""
    n = verified_count
    while f"TOTP Device {n}" in taken:
        n += 1
    return f"TOTP Device {n}"


def otpauth_uri(secret: str, *, issuer: str, account: str | None, shape: CodeShape) -> str:
    """The ``otpauth://`` URI authenticator apps scan (the FDI's ``qrCodeString``), as
    supertokens-python builds it: the label is ``issuer[:account]``, both URL-quoted."""
    label = quote(issuer, safe="")
    if account:
        label += ":" + quote(account, safe="")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"
        f"&digits={shape.digits}&period={shape.period}"
    )


@dataclass(frozen=True, slots=True)
class AttemptBudget:
    """Wrong codes allowed in a row, and the lock that follows (per user)."""

    max_attempts: int = 5
    cooldown_ms: int = 900_000


def retry_after_ms(last_failure_at: int, now_ms: int, budget: AttemptBudget) -> int:
    return max(0, last_failure_at + budget.cooldown_ms - now_ms)
