"""The dynamic key schedule around its boundaries, and key material helpers."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tokenward.recipes.jwt.rules import (
    DEFAULT_ACCESS_TOKEN_VALIDITY_MS,
    DEFAULT_ROTATION_INTERVAL_MS,
    KEY_OVERLAP_MS,
    MAX_JWKS_MAX_AGE_S,
    KeyInfo,
    dynamic_kid,
    is_dynamic_kid,
    jwks_max_age_s,
    load_private_key_pem,
    needs_new_key,
    private_key_to_pem,
    public_jwk,
    signing_key,
    verifiable_keys,
)

HOUR = 3_600_000
INTERVAL = DEFAULT_ROTATION_INTERVAL_MS
VALIDITY = DEFAULT_ACCESS_TOKEN_VALIDITY_MS
T0 = 1_700_000_000_000
K0 = KeyInfo.dynamic(T0)


def test_dynamic_kid_format() -> None:
    assert dynamic_kid(T0) == "d-1700000000000"
    assert KeyInfo.dynamic(T0) == KeyInfo("d-1700000000000", T0)
    assert is_dynamic_kid("d-1") and not is_dynamic_kid("s-abc") and not is_dynamic_kid("1")


def test_defaults_match_supertokens() -> None:
    assert INTERVAL == 168 * HOUR
    assert VALIDITY == HOUR
    assert KEY_OVERLAP_MS == 60_000


def test_needs_new_key_when_there_is_none() -> None:
    assert needs_new_key([], T0)


def test_needs_new_key_exactly_one_overlap_before_the_interval_ends() -> None:
    due = T0 + INTERVAL - KEY_OVERLAP_MS
    assert not needs_new_key([K0], due - 1)
    assert needs_new_key([K0], due)
    assert needs_new_key([K0], due + 10 * HOUR)
    assert not needs_new_key([K0], T0, rotation_interval_ms=HOUR)
    assert needs_new_key([K0], T0 + HOUR - KEY_OVERLAP_MS, rotation_interval_ms=HOUR)


def test_needs_new_key_looks_at_the_newest_key_in_any_order() -> None:
    k1 = KeyInfo.dynamic(T0 + INTERVAL - KEY_OVERLAP_MS)
    now = T0 + INTERVAL
    assert needs_new_key([K0], now)
    assert not needs_new_key([k1, K0], now)
    assert not needs_new_key([K0, k1], now)


def test_signing_key_waits_for_the_overlap() -> None:
    created = T0 + INTERVAL - KEY_OVERLAP_MS
    k1 = KeyInfo.dynamic(created)
    # Another instance created k1 a moment ago: keep signing with k0 until it is old enough.
    assert signing_key([K0, k1], created) == K0
    assert signing_key([K0, k1], created + KEY_OVERLAP_MS - 1) == K0
    assert signing_key([k1, K0], created + KEY_OVERLAP_MS) == k1
    assert signing_key([K0, k1], created + 10 * HOUR) == k1


def test_signing_key_falls_back_to_the_newest_when_all_are_young() -> None:
    assert signing_key([K0], T0) == K0
    k_young = KeyInfo.dynamic(T0 + 1)
    assert signing_key([K0, k_young], T0 + 2) == k_young


def test_signing_key_ignores_a_key_from_a_clock_ahead_of_ours() -> None:
    future = KeyInfo.dynamic(T0 + 10 * HOUR)
    assert signing_key([K0, future], T0 + HOUR) == K0


def test_signing_key_requires_keys() -> None:
    with pytest.raises(ValueError):
        signing_key([], T0)


def test_signing_key_tie_break_is_deterministic() -> None:
    a, b = KeyInfo("d-x", T0), KeyInfo("d-y", T0)
    assert signing_key([a, b], T0 + HOUR) == signing_key([b, a], T0 + HOUR) == b


def test_verifiable_keys_newest_first_and_expire_after_interval_plus_twice_validity() -> None:
    k1 = KeyInfo.dynamic(T0 + INTERVAL - KEY_OVERLAP_MS)
    k2 = KeyInfo.dynamic(T0 + 2 * (INTERVAL - KEY_OVERLAP_MS))
    keys = [K0, k2, k1]
    end_of_k0 = T0 + INTERVAL + 2 * VALIDITY
    assert verifiable_keys(keys, end_of_k0 - 1) == [k2, k1, K0]
    assert verifiable_keys(keys, end_of_k0) == [k2, k1]


def test_verifiable_keys_cover_tokens_signed_just_before_retirement() -> None:
    k1 = KeyInfo.dynamic(T0 + INTERVAL - KEY_OVERLAP_MS)
    last_k0_signature = k1.created_at_ms + KEY_OVERLAP_MS - 1
    # A token signed then by k0 lives one validity; k0 must outlive it.
    assert K0 in verifiable_keys([K0, k1], last_k0_signature + VALIDITY)


def test_verifiable_keys_keep_a_late_rotated_key_while_its_tokens_live() -> None:
    # Nobody ran for a month: k0 signed until k1 was 60 s old, far past its interval.
    k1 = KeyInfo.dynamic(T0 + 30 * 24 * HOUR)
    retired = k1.created_at_ms + KEY_OVERLAP_MS
    assert verifiable_keys([K0, k1], retired + VALIDITY) == [k1, K0]
    assert verifiable_keys([K0, k1], retired + 2 * VALIDITY) == [k1]


def test_verifiable_keys_always_include_the_signing_key() -> None:
    ancient = KeyInfo.dynamic(T0 - 365 * 24 * HOUR)
    assert verifiable_keys([ancient], T0) == [ancient]
    young = KeyInfo.dynamic(T0 - 1)
    now = T0
    assert signing_key([ancient, young], now) == ancient
    assert ancient in verifiable_keys([ancient, young], now)


def test_verifiable_keys_respect_custom_settings() -> None:
    k1 = KeyInfo.dynamic(T0 + HOUR - KEY_OVERLAP_MS)
    now = T0 + HOUR + 2 * 60_000
    assert verifiable_keys(
        [K0, k1], now, rotation_interval_ms=HOUR, access_token_validity_ms=60_000
    ) == [k1]
    assert verifiable_keys(
        [K0, k1], now - 1, rotation_interval_ms=HOUR, access_token_validity_ms=60_000
    ) == [k1, K0]


def test_verifiable_keys_empty() -> None:
    assert verifiable_keys([], T0) == []


def test_jwks_max_age_counts_down_to_the_next_key() -> None:
    due = T0 + INTERVAL - KEY_OVERLAP_MS
    assert jwks_max_age_s([K0], due - 5_500) == 5
    assert jwks_max_age_s([K0], due - 999) == 0
    assert jwks_max_age_s([K0], due) == 0
    assert jwks_max_age_s([K0], due + HOUR) == 0
    assert jwks_max_age_s([], T0) == 0
    assert jwks_max_age_s([K0], T0, rotation_interval_ms=HOUR) == (HOUR - KEY_OVERLAP_MS) // 1000


def test_jwks_max_age_is_capped() -> None:
    assert jwks_max_age_s([K0], T0) == MAX_JWKS_MAX_AGE_S
    assert jwks_max_age_s([K0], T0 - 10 * INTERVAL) == MAX_JWKS_MAX_AGE_S


def test_generated_key_is_rsa_2048_f4(rsa_key: RSAPrivateKey) -> None:
    assert rsa_key.key_size == 2048
    assert rsa_key.public_key().public_numbers().e == 65537


def test_pem_round_trip(rsa_key: RSAPrivateKey) -> None:
    pem = private_key_to_pem(rsa_key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    loaded = load_private_key_pem(pem)
    assert loaded.private_numbers() == rsa_key.private_numbers()


def test_load_refuses_non_rsa_keys() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError):
        load_private_key_pem(ec_pem)


def test_public_jwk(rsa_key: RSAPrivateKey) -> None:
    jwk = public_jwk("d-1", rsa_key.public_key())
    assert list(jwk) == ["kty", "kid", "n", "e", "alg", "use"]
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert jwk["e"] == "AQAB"
    assert "=" not in jwk["n"]
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), "big")
    assert n == rsa_key.public_key().public_numbers().n
    assert len(base64.urlsafe_b64decode(jwk["n"] + "==")) == 256  # no leading sign byte
    assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()
