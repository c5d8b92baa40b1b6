"""Secrets encrypted at rest (TOTP device secrets): AES-256-GCM under keys from the settings.

Several keys make rotation possible: the first encrypts, every key decrypts. Each sealed value
names its key by a short fingerprint (the first 8 hex digits of SHA-256 of the key), so opening
needs no trial decryption.
The value's purpose (``aad``) is bound into the tag: a sealed TOTP secret cannot be replayed as
some other sealed field.

Format: ``v1.<fingerprint>.<base64url(nonce ‖ ciphertext ‖ tag)>``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tokenward.shared.encoding import b64url_decode, b64url_encode

KEY_BYTES = 32
_NONCE_BYTES = 12
_VERSION = "v1"


class SealedSecretError(ValueError):
    """A sealed value that no configured key opens (wrong key, unknown key or tampering)."""


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class SecretBox:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a secret box needs at least one key")
        for key in keys:
            if len(key) != KEY_BYTES:
                raise ValueError(f"an encryption key is {KEY_BYTES} bytes")
        self._current = fingerprint(keys[0])
        self._keys = {fingerprint(key): AESGCM(key) for key in reversed(keys)}

    def seal(self, plaintext: bytes, *, aad: bytes) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(nonce, plaintext, aad)
        return f"{_VERSION}.{self._current}.{b64url_encode(nonce + sealed)}"

    def open(self, sealed: str, *, aad: bytes) -> bytes:
        version, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        aead = self._keys.get(key_id)
        if version != _VERSION or aead is None:
            raise SealedSecretError("sealed with a key that is not configured")
        try:
            raw = b64url_decode(body)
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise SealedSecretError("the sealed value does not open") from None
