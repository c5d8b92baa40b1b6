"""RS256 verification, including the attacks JWT libraries have historically fallen to."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from tokenward.recipes.jwt.rules import public_jwk
from tokenward.shared import jwt
from tokenward.shared.encoding import b64url_decode, b64url_encode
from tokenward.shared.token_errors import (
    MalformedToken,
    TokenError,
    TokenNeedsRefresh,
    UnknownKeyId,
)

NOW = 1_700_000_000
KID = "d-1699990000000"
HEADER = {"alg": "RS256", "typ": "JWT", "kid": KID, "version": "5"}
PAYLOAD = {"sub": "user-1", "exp": NOW + 3600, "iat": NOW}


def keys(key: RSAPrivateKey) -> dict[str, RSAPublicKey]:
    return {KID: key.public_key()}


def seg(value: Any) -> str:
    if isinstance(value, bytes):
        return b64url_encode(value)
    if isinstance(value, str):
        return b64url_encode(value.encode())
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def raw_token(header: Any, payload: Any, key: RSAPrivateKey) -> str:
    """Sign arbitrary header/payload text, bypassing jwt.sign's own checks."""
    signing_input = f"{seg(header)}.{seg(payload)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{seg(signature)}"


def hmac_token(alg: str, secret: bytes) -> str:
    header = {**HEADER, "alg": alg}
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = f"{seg(header)}.{seg(PAYLOAD)}"
    return f"{signing_input}.{seg(hmac.new(secret, signing_input.encode(), digest).digest())}"


def test_sign_then_verify_round_trip(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, PAYLOAD, rsa_key)
    parts = jwt.verify(token, keys(rsa_key), now_s=NOW)
    assert parts.header == HEADER
    assert parts.payload == PAYLOAD


def test_sign_keeps_header_order_and_is_standard_rs256(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, PAYLOAD, rsa_key)
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert b64url_decode(header_b64) == (
        b'{"alg":"RS256","typ":"JWT","kid":"d-1699990000000","version":"5"}'
    )
    # Independently checkable with plain PKCS#1 v1.5 / SHA-256.
    rsa_key.public_key().verify(
        b64url_decode(signature_b64),
        f"{header_b64}.{payload_b64}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_sign_refuses_other_algorithms_and_small_keys(rsa_key: RSAPrivateKey) -> None:
    with pytest.raises(ValueError):
        jwt.sign({**HEADER, "alg": "HS256"}, PAYLOAD, rsa_key)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError):
        jwt.sign(HEADER, PAYLOAD, small)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
@pytest.mark.parametrize("signature", ["", "c2lnbmF0dXJl"])
def test_alg_none_is_rejected(rsa_key: RSAPrivateKey, alg: str, signature: str) -> None:
    token = f"{seg({**HEADER, 'alg': alg})}.{seg(PAYLOAD)}.{signature}"
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def _public_key_encodings(key: RSAPrivateKey) -> list[bytes]:
    public = key.public_key()
    return [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        json.dumps(public_jwk(KID, public)).encode(),
        json.dumps({"keys": [public_jwk(KID, public)]}).encode(),
    ]


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_keyed_with_public_key_is_rejected(rsa_key: RSAPrivateKey, alg: str) -> None:
    for secret in _public_key_encodings(rsa_key):
        with pytest.raises(MalformedToken):
            jwt.verify(hmac_token(alg, secret), keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256", "RS256 "])
def test_other_algorithms_are_rejected(rsa_key: RSAPrivateKey, alg: str) -> None:
    token = raw_token({**HEADER, "alg": alg}, PAYLOAD, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize(
    "kid", ["d-1", "../../dev/null", "' OR '1'='1", "x" * jwt.MAX_KID_LENGTH, "d-1699990000000 "]
)
def test_unknown_kid_is_try_refresh(rsa_key: RSAPrivateKey, kid: str) -> None:
    token = raw_token({**HEADER, "kid": kid}, PAYLOAD, rsa_key)
    with pytest.raises(UnknownKeyId) as info:
        jwt.verify(token, keys(rsa_key), now_s=NOW)
    assert isinstance(info.value, TokenNeedsRefresh)
    assert info.value.kid == kid
    assert kid not in str(info.value) and kid not in repr(info.value)


@pytest.mark.parametrize(
    "kid", [None, 1, ["d-1"], {"k": "v"}, True, "", "x" * (jwt.MAX_KID_LENGTH + 1), "y" * 10_000]
)
def test_invalid_kid_is_malformed(rsa_key: RSAPrivateKey, kid: object) -> None:
    token = raw_token({**HEADER, "kid": kid}, PAYLOAD, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_missing_kid_is_malformed(rsa_key: RSAPrivateKey) -> None:
    header = {k: v for k, v in HEADER.items() if k != "kid"}
    with pytest.raises(MalformedToken):
        jwt.verify(raw_token(header, PAYLOAD, rsa_key), keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "http://127.0.0.1:1/jwks.json"},
        {"x5u": "http://127.0.0.1:1/cert.pem"},
        {"x5c": ["MIIB"]},
        {"crit": ["exp"]},
        {"crit": []},
        {"b64": False, "crit": ["b64"]},
    ],
)
def test_key_injection_and_crit_headers_are_rejected(
    rsa_key: RSAPrivateKey, extra: dict[str, Any]
) -> None:
    # Signed with our real key: the header alone must be enough to refuse.
    token = raw_token({**HEADER, **extra}, PAYLOAD, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_embedded_jwk_from_attacker_is_rejected(
    rsa_key: RSAPrivateKey, attacker_key: RSAPrivateKey
) -> None:
    header = {**HEADER, "jwk": public_jwk(KID, attacker_key.public_key())}
    token = raw_token(header, PAYLOAD, attacker_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_attacker_signature_with_our_kid_is_try_refresh(
    rsa_key: RSAPrivateKey, attacker_key: RSAPrivateKey
) -> None:
    token = jwt.sign(HEADER, PAYLOAD, attacker_key)
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize("typ", [None, "jwt", "at+jwt", "JWS", 1])
def test_wrong_typ_is_rejected(rsa_key: RSAPrivateKey, typ: object) -> None:
    header = {**HEADER, "typ": typ} if typ is not None else {"alg": "RS256", "kid": KID}
    with pytest.raises(MalformedToken):
        jwt.verify(raw_token(header, PAYLOAD, rsa_key), keys(rsa_key), now_s=NOW)


def test_tampered_payload_is_try_refresh(rsa_key: RSAPrivateKey) -> None:
    header_b64, _, signature_b64 = jwt.sign(HEADER, PAYLOAD, rsa_key).split(".")
    forged = seg({**PAYLOAD, "sub": "admin"})
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(f"{header_b64}.{forged}.{signature_b64}", keys(rsa_key), now_s=NOW)


def test_signature_swapped_from_another_token_is_try_refresh(rsa_key: RSAPrivateKey) -> None:
    a = jwt.sign(HEADER, PAYLOAD, rsa_key).split(".")
    b = jwt.sign(HEADER, {**PAYLOAD, "sub": "user-2"}, rsa_key).split(".")
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(f"{a[0]}.{a[1]}.{b[2]}", keys(rsa_key), now_s=NOW)


def test_stripped_or_truncated_signature_is_try_refresh(rsa_key: RSAPrivateKey) -> None:
    header_b64, payload_b64, signature_b64 = jwt.sign(HEADER, PAYLOAD, rsa_key).split(".")
    truncated = seg(b64url_decode(signature_b64)[:-1])
    for signature in ("", truncated, seg(b"\x00" * 256), seg(b"\xff" * 512)):
        with pytest.raises(TokenNeedsRefresh):
            jwt.verify(f"{header_b64}.{payload_b64}.{signature}", keys(rsa_key), now_s=NOW)


def test_every_single_byte_flip_is_rejected(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, PAYLOAD, rsa_key)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index in range(0, len(token), 7):
        if token[index] == ".":
            continue
        replacement = alphabet[(alphabet.index(token[index]) + 1) % 64]
        flipped = token[:index] + replacement + token[index + 1 :]
        with pytest.raises(TokenError):
            jwt.verify(flipped, keys(rsa_key), now_s=NOW)


def test_signature_is_checked_before_the_payload_is_parsed(
    rsa_key: RSAPrivateKey, attacker_key: RSAPrivateKey
) -> None:
    # An unparseable payload under a bad signature is a signature failure, not a parse one.
    token = raw_token(HEADER, "{not json", attacker_key)
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_non_canonical_base64_is_rejected(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, PAYLOAD, rsa_key)
    header_b64, payload_b64, signature_b64 = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # A 256-byte signature leaves 4 unused bits in the last character: setting one decodes
    # to the same bytes under a lenient decoder, so only a strict one notices.
    last = alphabet[alphabet.index(signature_b64[-1]) | 1]
    variants = [
        f"{header_b64}.{payload_b64}.{signature_b64[:-1]}{last}",
        f"{header_b64}=.{payload_b64}.{signature_b64}",
        f"{header_b64}.{payload_b64}.{signature_b64}==",
        f"{header_b64}.{payload_b64}.{signature_b64.replace('-', '+').replace('_', '/')}",
        f"{header_b64}.{payload_b64} .{signature_b64}",
        f"{header_b64}.\n{payload_b64}.{signature_b64}",
    ]
    for variant in variants:
        if variant == token:
            continue
        with pytest.raises(MalformedToken):
            jwt.verify(variant, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize(
    "token",
    ["", "a", "a.b", "a.b.c.d", "...", "a..b", "é.é.é", "x" * (jwt.MAX_TOKEN_LENGTH + 1)],
)
def test_malformed_structure(rsa_key: RSAPrivateKey, token: str) -> None:
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_non_string_token_is_malformed(rsa_key: RSAPrivateKey) -> None:
    with pytest.raises(MalformedToken):
        jwt.verify(None, keys(rsa_key), now_s=NOW)  # type: ignore[arg-type]


def test_huge_valid_looking_token_is_malformed(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, {**PAYLOAD, "blob": "x" * 1_000_000}, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize(
    "header_text",
    [
        '{"alg":"RS256","typ":"JWT","kid":"d-1699990000000","kid":"d-1"}',
        '{"alg":"none","alg":"RS256","typ":"JWT","kid":"d-1699990000000"}',
        '["RS256"]',
        "null",
        "not json",
        '{"alg":"RS256","typ":"JWT","kid":"d-1699990000000","x":NaN}',
    ],
)
def test_bad_header_json_is_malformed(rsa_key: RSAPrivateKey, header_text: str) -> None:
    token = raw_token(header_text, PAYLOAD, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize(
    "payload_text",
    [
        '{"sub":"a","sub":"admin","exp":1700003600}',
        '{"sub":"a","exp":1700003600,"n":NaN}',
        '{"sub":"a","exp":1700003600,"n":Infinity}',
        '[{"exp":1700003600}]',
        '"exp"',
        "",
    ],
)
def test_bad_payload_json_is_malformed(rsa_key: RSAPrivateKey, payload_text: str) -> None:
    token = raw_token(HEADER, payload_text, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_non_utf8_payload_is_malformed(rsa_key: RSAPrivateKey) -> None:
    token = raw_token(HEADER, b'{"sub":"\xff","exp":1700003600}', rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize("delta", [-3600, -1, 0])
def test_expired_is_try_refresh(rsa_key: RSAPrivateKey, delta: int) -> None:
    token = jwt.sign(HEADER, {**PAYLOAD, "exp": NOW + delta}, rsa_key)
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_valid_until_the_last_second(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, {**PAYLOAD, "exp": NOW + 1}, rsa_key)
    assert jwt.verify(token, keys(rsa_key), now_s=NOW).payload["exp"] == NOW + 1


@pytest.mark.parametrize(
    "exp", [True, False, "1700003600", str(NOW + 3600), float(NOW + 3600), None, [NOW + 3600]]
)
def test_exp_must_be_an_integer(rsa_key: RSAPrivateKey, exp: object) -> None:
    token = raw_token(HEADER, {**PAYLOAD, "exp": exp}, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_missing_exp_is_malformed(rsa_key: RSAPrivateKey) -> None:
    token = jwt.sign(HEADER, {"sub": "user-1", "iat": NOW}, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_future_iat_and_nbf_beyond_leeway_are_try_refresh(
    rsa_key: RSAPrivateKey, claim: str
) -> None:
    ok = jwt.sign(HEADER, {**PAYLOAD, claim: NOW + jwt.TIME_LEEWAY_S}, rsa_key)
    jwt.verify(ok, keys(rsa_key), now_s=NOW)
    late = jwt.sign(HEADER, {**PAYLOAD, claim: NOW + jwt.TIME_LEEWAY_S + 1}, rsa_key)
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(late, keys(rsa_key), now_s=NOW)


@pytest.mark.parametrize("claim", ["iat", "nbf"])
@pytest.mark.parametrize("value", [True, "1700000000", 1.5, None])
def test_iat_and_nbf_must_be_integers(rsa_key: RSAPrivateKey, claim: str, value: object) -> None:
    token = raw_token(HEADER, {**PAYLOAD, claim: value}, rsa_key)
    with pytest.raises(MalformedToken):
        jwt.verify(token, keys(rsa_key), now_s=NOW)


def test_picks_the_key_named_by_kid(rsa_key: RSAPrivateKey, attacker_key: RSAPrivateKey) -> None:
    both = {KID: rsa_key.public_key(), "d-2": attacker_key.public_key()}
    token = jwt.sign({**HEADER, "kid": "d-2"}, PAYLOAD, attacker_key)
    assert jwt.verify(token, both, now_s=NOW).header["kid"] == "d-2"
    wrong = jwt.sign({**HEADER, "kid": "d-2"}, PAYLOAD, rsa_key)
    with pytest.raises(TokenNeedsRefresh):
        jwt.verify(wrong, both, now_s=NOW)


def test_error_messages_never_contain_token_material(
    rsa_key: RSAPrivateKey, attacker_key: RSAPrivateKey
) -> None:
    token = jwt.sign(HEADER, {**PAYLOAD, "exp": NOW - 1}, rsa_key)
    forged = jwt.sign(HEADER, PAYLOAD, attacker_key)
    for bad in (token, forged, token + "x", token.replace(".", "", 1)):
        with pytest.raises(TokenError) as info:
            jwt.verify(bad, keys(rsa_key), now_s=NOW)
        text = str(info.value) + repr(info.value)
        for part in bad.split("."):
            assert not part or part not in text
