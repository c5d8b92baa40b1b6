"""Sealed refresh tokens: unforgeable, tamper-evident, and hashed like SuperTokens."""

from __future__ import annotations

import hashlib
import json
import string

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenward.recipes.session.rules import refresh_token
from tokenward.recipes.session.rules.refresh_token import RefreshTokenPayload
from tokenward.shared.encoding import b64url_decode, b64url_encode
from tokenward.shared.token_errors import InvalidRefreshToken

PAYLOAD = RefreshTokenPayload(
    session_handle="3f0b8c53-2a6f-4e63-9d07-4a1d1d3c4a9b",
    tenant_id="public",
    parent_hash1="c" * 64,
    anti_csrf_token="csrf-1",
)
IV = bytes(range(12))
NONCE = bytes(range(16))


def test_round_trip(refresh_key: bytes) -> None:
    for payload in (PAYLOAD, RefreshTokenPayload("h", "t2")):
        assert refresh_token.open(refresh_key, refresh_token.seal(refresh_key, payload)) == payload


def test_format_and_plaintext(refresh_key: bytes) -> None:
    token = refresh_token.seal(refresh_key, PAYLOAD, iv=IV, nonce=NONCE)
    assert token.startswith("v1.")
    assert set(token[3:]) <= set(string.ascii_letters + string.digits + "-_")
    raw = b64url_decode(token[3:])
    assert raw[:12] == IV
    plaintext = AESGCM(refresh_key).decrypt(IV, raw[12:], b"tokenward-refresh-v1")
    assert json.loads(plaintext) == {
        "sh": PAYLOAD.session_handle,
        "p": "c" * 64,
        "a": "csrf-1",
        "t": "public",
        "n": b64url_encode(NONCE),
    }
    minimal = refresh_token.seal(
        refresh_key, RefreshTokenPayload("h", "public"), iv=IV, nonce=NONCE
    )
    raw = b64url_decode(minimal[3:])
    plain = json.loads(AESGCM(refresh_key).decrypt(IV, raw[12:], b"tokenward-refresh-v1"))
    assert set(plain) == {"sh", "t", "n"}  # absent values are omitted, not null


def test_deterministic_with_explicit_iv_and_nonce(refresh_key: bytes) -> None:
    a = refresh_token.seal(refresh_key, PAYLOAD, iv=IV, nonce=NONCE)
    assert a == refresh_token.seal(refresh_key, PAYLOAD, iv=IV, nonce=NONCE)


def test_tokens_are_unique_and_carry_128_bits(refresh_key: bytes) -> None:
    tokens = {refresh_token.seal(refresh_key, PAYLOAD) for _ in range(2000)}
    assert len(tokens) == 2000
    # Same IV, different random nonce: still a different token and a different hash.
    assert refresh_token.seal(refresh_key, PAYLOAD, iv=IV) != refresh_token.seal(
        refresh_key, PAYLOAD, iv=IV
    )


def test_rejects_bad_iv_nonce_and_key(refresh_key: bytes) -> None:
    with pytest.raises(ValueError):
        refresh_token.seal(refresh_key, PAYLOAD, iv=b"short")
    with pytest.raises(ValueError):
        refresh_token.seal(refresh_key, PAYLOAD, nonce=b"x" * 15)
    with pytest.raises(ValueError):
        refresh_token.seal(b"k" * 16, PAYLOAD)
    token = refresh_token.seal(refresh_key, PAYLOAD)
    with pytest.raises(ValueError) as info:
        refresh_token.open(b"k" * 31, token)
    assert not isinstance(info.value, InvalidRefreshToken)


def test_every_byte_flip_is_rejected(refresh_key: bytes) -> None:
    token = refresh_token.seal(refresh_key, PAYLOAD)
    raw = bytearray(b64url_decode(token[3:]))
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            tampered = bytearray(raw)
            tampered[index] ^= bit
            with pytest.raises(InvalidRefreshToken):
                refresh_token.open(refresh_key, "v1." + b64url_encode(bytes(tampered)))


def test_token_sealed_with_another_key_is_rejected(refresh_key: bytes) -> None:
    other = refresh_token.new_key()
    assert other != refresh_key and len(other) == 32
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, refresh_token.seal(other, PAYLOAD))


def test_forging_a_child_from_public_hashes_is_impossible(refresh_key: bytes) -> None:
    # Everything an attacker sees in an access token, laid out in the plaintext format,
    # and "sealed" without the key: open must refuse it.
    plaintext = json.dumps({"sh": PAYLOAD.session_handle, "p": "c" * 64, "t": "public", "n": "x"})
    guessed_key = bytes(32)
    fake = AESGCM(guessed_key).encrypt(IV, plaintext.encode(), b"tokenward-refresh-v1")
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, "v1." + b64url_encode(IV + fake))
    # Plain, unencrypted JSON in the token slot.
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, "v1." + b64url_encode(IV + plaintext.encode()))


def test_wrong_purpose_aad_is_rejected(refresh_key: bytes) -> None:
    sealed = AESGCM(refresh_key).encrypt(IV, b'{"sh":"h","t":"public","n":"x"}', b"other")
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, "v1." + b64url_encode(IV + sealed))


@pytest.mark.parametrize(
    "plaintext",
    [
        b"not json",
        b"[]",
        b'{"sh":"h","t":"public"}',  # nonce missing
        b'{"sh":"h","n":"x"}',  # tenant missing
        b'{"sh":1,"t":"public","n":"x"}',
        b'{"sh":"h","t":"public","n":"x","p":null}',
        b'{"sh":"h","t":"public","n":"x","extra":"y"}',
        b'{"sh":"h","sh":"g","t":"public","n":"x"}',
        b'{"sh":"h","t":"public","n":"x","a":NaN}',
        b'{"sh":"\xff","t":"public","n":"x"}',
    ],
)
def test_authentic_but_invalid_content_is_rejected(refresh_key: bytes, plaintext: bytes) -> None:
    sealed = AESGCM(refresh_key).encrypt(IV, plaintext, b"tokenward-refresh-v1")
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, "v1." + b64url_encode(IV + sealed))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1.",
        "v1",
        "v2.AAAA",
        "V1.AAAA",
        "v1.AAAA",  # too short for iv + tag
        "v1." + "A" * 40 + "=",
        "v1." + "A" * 40 + "+",
        "v1." + "A" * 5000,
        "a.b.V2",  # SuperTokens' own format is not ours
    ],
)
def test_malformed_tokens_are_rejected(refresh_key: bytes, token: str) -> None:
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, token)


def test_non_string_token_is_rejected(refresh_key: bytes) -> None:
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, None)  # type: ignore[arg-type]


def test_non_canonical_base64_is_rejected(refresh_key: bytes) -> None:
    token = refresh_token.seal(refresh_key, PAYLOAD, iv=IV, nonce=NONCE)
    body = token[3:]
    if len(body) % 4 in (2, 3):
        alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
        last = alphabet[alphabet.index(body[-1]) | 1]
        if last != body[-1]:
            with pytest.raises(InvalidRefreshToken):
                refresh_token.open(refresh_key, "v1." + body[:-1] + last)
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(refresh_key, token + "=")


def test_hashes_match_supertokens_definitions() -> None:
    token = "v1.some-token"
    h1 = hashlib.sha256(token.encode()).hexdigest()
    assert refresh_token.hash1(token) == h1
    assert refresh_token.hash2(token) == hashlib.sha256(h1.encode()).hexdigest()
    assert refresh_token.hash2_from_hash1(h1) == refresh_token.hash2(token)


def test_error_messages_never_contain_token_material(refresh_key: bytes) -> None:
    token = refresh_token.seal(refresh_key, PAYLOAD)
    with pytest.raises(InvalidRefreshToken) as info:
        refresh_token.open(refresh_token.new_key(), token)
    assert token[3:20] not in str(info.value) + repr(info.value)


@settings(max_examples=50)
@given(st.text(max_size=200))
def test_arbitrary_strings_never_crash(text: str) -> None:
    key = bytes(32)
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(key, text)
    with pytest.raises(InvalidRefreshToken):
        refresh_token.open(key, "v1." + text)
