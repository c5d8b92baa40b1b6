"""Opaque refresh tokens, sealed with AES-256-GCM so they cannot be forged.

Why sealed and not merely random: the rotation algorithm trusts the parent hash carried
inside a refresh token (``sha256(parent) == stored hash2`` means "a not-yet-used child").
Access tokens publish ``parentRefreshTokenHash1`` in clear, so an unauthenticated format
would let anyone holding an access token mint a "child" and hijack the session. GCM makes the
whole plaintext authenticated; the associated data binds it to this purpose and version.

Format: ``"v1." + base64url(iv[12] ‖ ciphertext ‖ tag[16])``. The plaintext carries a
random nonce of at least 128 bits, so every token string (and so every stored hash) is
unique even if two are sealed for the same session in the same millisecond.

The database keeps only ``hash2 = sha256hex(sha256hex(token))``, as SuperTokens does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tokenward.shared.encoding import (
    b64url_decode,
    b64url_encode,
    json_dumps,
    json_loads_object,
    sha256_hex,
)
from tokenward.shared.token_errors import InvalidRefreshToken

PREFIX = "v1."
KEY_BYTES = 32
IV_BYTES = 12
NONCE_BYTES = 16
MAX_TOKEN_LENGTH = 4096
"""Far above any real token (about 250 characters); bounds work on hostile input."""

_AAD = b"tokenward-refresh-v1"
_TAG_BYTES = 16
_REQUIRED_FIELDS = frozenset({"sh", "t", "n"})
_ALL_FIELDS = _REQUIRED_FIELDS | {"p", "a"}


@dataclass(frozen=True, slots=True)
class RefreshTokenPayload:
    """What a refresh token lets the core recover without a lookup."""

    session_handle: str
    tenant_id: str
    parent_hash1: str | None = None
    """sha256 hex of the token this one was exchanged for; ``None`` for a session's first."""
    anti_csrf_token: str | None = None


def new_key() -> bytes:
    """A fresh 256-bit sealing key (store it; losing it ends every session)."""
    return secrets.token_bytes(KEY_BYTES)


def seal(
    key: bytes,
    payload: RefreshTokenPayload,
    *,
    iv: bytes | None = None,
    nonce: bytes | None = None,
) -> str:
    """Seal ``payload`` into a new token string.

    ``iv`` and ``nonce`` exist for deterministic tests only; production callers leave them
    out and get fresh random values (never reuse an IV with the same key).
    """
    _check_key(key)
    if iv is None:
        iv = secrets.token_bytes(IV_BYTES)
    elif len(iv) != IV_BYTES:
        raise ValueError("AES-GCM IV must be 12 bytes")
    if nonce is None:
        nonce = secrets.token_bytes(NONCE_BYTES)
    elif len(nonce) < NONCE_BYTES:
        raise ValueError("refresh-token nonce must be at least 16 bytes")

    document: dict[str, str] = {"sh": payload.session_handle}
    if payload.parent_hash1 is not None:
        document["p"] = payload.parent_hash1
    if payload.anti_csrf_token is not None:
        document["a"] = payload.anti_csrf_token
    document["t"] = payload.tenant_id
    document["n"] = b64url_encode(nonce)
    plaintext = json_dumps(document).encode("utf-8")
    sealed = AESGCM(key).encrypt(iv, plaintext, _AAD)
    return PREFIX + b64url_encode(iv + sealed)


def open(key: bytes, token: str) -> RefreshTokenPayload:
    """Authenticate and decode ``token``; any failure is ``InvalidRefreshToken``.

    A wrong key length is a configuration error and raises ``ValueError`` instead, so it
    cannot masquerade as every user presenting a bad token.
    """
    _check_key(key)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.startswith(PREFIX):
        raise InvalidRefreshToken("refresh token has an unknown format")
    try:
        raw = b64url_decode(token[len(PREFIX) :])
    except ValueError:
        raise InvalidRefreshToken("refresh token has an unknown format") from None
    if len(raw) < IV_BYTES + _TAG_BYTES:
        raise InvalidRefreshToken("refresh token has an unknown format")
    try:
        plaintext = AESGCM(key).decrypt(raw[:IV_BYTES], raw[IV_BYTES:], _AAD)
    except InvalidTag:
        raise InvalidRefreshToken("refresh token failed authentication") from None
    try:
        document = json_loads_object(plaintext)
    except ValueError:
        raise InvalidRefreshToken("refresh token content is invalid") from None
    return _payload_from(document)


def hash1(token: str) -> str:
    """``refreshTokenHash1``: what access tokens carry to name their refresh token."""
    return sha256_hex(token)


def hash2(token: str) -> str:
    """``refreshTokenHash2``: what the session row stores; sha256 hex of ``hash1``."""
    return hash2_from_hash1(hash1(token))


def hash2_from_hash1(token_hash1: str) -> str:
    """Lets rotation compare a hash1 (from a token or JWT) with the stored hash2."""
    return sha256_hex(token_hash1)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError("refresh-token key must be 32 bytes")


def _payload_from(document: dict[str, Any]) -> RefreshTokenPayload:
    # Only our own code can produce an authentic plaintext, so a surprise here means a bug
    # or a format change; either way the token must not be honoured.
    if not _REQUIRED_FIELDS <= document.keys() <= _ALL_FIELDS:
        raise InvalidRefreshToken("refresh token content is invalid")
    fields: dict[str, str] = {}
    for name, value in document.items():
        if not isinstance(value, str):
            raise InvalidRefreshToken("refresh token content is invalid")
        fields[name] = value
    return RefreshTokenPayload(
        session_handle=fields["sh"],
        tenant_id=fields["t"],
        parent_hash1=fields.get("p"),
        anti_csrf_token=fields.get("a"),
    )
