"""Secrets sealed at rest: AES-256-GCM, key rotation, purpose binding and tampering."""

from __future__ import annotations

import pytest

from tokenward.shared.encoding import b64url_decode, b64url_encode
from tokenward.shared.secret_box import (
    KEY_BYTES,
    SealedSecretError,
    SecretBox,
    fingerprint,
    new_key,
)

OLD = b"o" * KEY_BYTES
NEW = b"n" * KEY_BYTES
AAD = b"totp:u1"


def test_round_trip() -> None:
    box = SecretBox([new_key()])
    sealed = box.seal(b"JBSWY3DPEHPK3PXP", aad=AAD)
    assert b"JBSWY3DPEHPK3PXP" not in sealed.encode()
    assert box.open(sealed, aad=AAD) == b"JBSWY3DPEHPK3PXP"


def test_the_format_names_the_key() -> None:
    sealed = SecretBox([OLD]).seal(b"x", aad=AAD)
    version, key_id, body = sealed.split(".")
    assert (version, key_id) == ("v1", fingerprint(OLD))
    assert len(b64url_decode(body)) == 12 + 1 + 16


def test_each_seal_uses_a_fresh_nonce() -> None:
    box = SecretBox([OLD])
    assert box.seal(b"x", aad=AAD) != box.seal(b"x", aad=AAD)


def test_rotation_old_key_opens_new_key_seals() -> None:
    sealed_old = SecretBox([OLD]).seal(b"secret", aad=AAD)
    rotated = SecretBox([NEW, OLD])
    assert rotated.open(sealed_old, aad=AAD) == b"secret"
    sealed_new = rotated.seal(b"secret", aad=AAD)
    assert sealed_new.split(".")[1] == fingerprint(NEW)
    assert SecretBox([NEW]).open(sealed_new, aad=AAD) == b"secret"
    with pytest.raises(SealedSecretError):
        SecretBox([OLD]).open(sealed_new, aad=AAD)


def test_a_key_removed_after_rotation_no_longer_opens() -> None:
    sealed_old = SecretBox([OLD]).seal(b"secret", aad=AAD)
    with pytest.raises(SealedSecretError):
        SecretBox([NEW]).open(sealed_old, aad=AAD)


def test_a_wrong_aad_does_not_open() -> None:
    box = SecretBox([OLD])
    sealed = box.seal(b"secret", aad=AAD)
    with pytest.raises(SealedSecretError):
        box.open(sealed, aad=b"totp:u2")


def test_tampering_does_not_open() -> None:
    box = SecretBox([OLD])
    sealed = box.seal(b"secret", aad=AAD)
    version, key_id, body = sealed.split(".")
    raw = bytearray(b64url_decode(body))
    for i in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[i] ^= 1
        with pytest.raises(SealedSecretError):
            box.open(f"{version}.{key_id}.{b64url_encode(bytes(flipped))}", aad=AAD)
    for broken in (f"{version}.{key_id}.", f"{version}.{key_id}.!!!", f"{version}.{key_id}"):
        with pytest.raises(SealedSecretError):
            box.open(broken, aad=AAD)


def test_an_unknown_key_id_or_version_does_not_open() -> None:
    box = SecretBox([OLD])
    _, key_id, body = box.seal(b"secret", aad=AAD).split(".")
    with pytest.raises(SealedSecretError, match="not configured"):
        box.open(f"v1.deadbeef.{body}", aad=AAD)
    with pytest.raises(SealedSecretError):
        box.open(f"v2.{key_id}.{body}", aad=AAD)
    with pytest.raises(SealedSecretError):
        box.open("garbage", aad=AAD)


def test_keys_must_be_32_bytes_and_at_least_one() -> None:
    with pytest.raises(ValueError):
        SecretBox([])
    with pytest.raises(ValueError):
        SecretBox([b"short"])
    assert len(new_key()) == KEY_BYTES
