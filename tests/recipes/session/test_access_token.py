"""SuperTokens v5 access tokens: exact wire shape, protected claims, structure checks."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules.access_token import PROTECTED_CLAIMS, AccessTokenClaims
from tokenward.shared import jwt
from tokenward.shared.token_errors import MalformedToken, ProtectedClaimError, TokenNeedsRefresh

NOW_MS = 1_700_000_000_999
NOW_S = NOW_MS // 1000
KID = "d-1699990000000"

CLAIMS = AccessTokenClaims(
    user_id="primary-1",
    recipe_user_id="recipe-1",
    tenant_id="public",
    session_handle="3f0b8c53-2a6f-4e63-9d07-4a1d1d3c4a9b",
    refresh_token_hash1="a" * 64,
    parent_refresh_token_hash1=None,
    anti_csrf_token=None,
    issued_at_s=access_token.to_seconds(NOW_MS),
    expires_at_s=access_token.to_seconds(NOW_MS + 3_600_000),
    issuer="http://localhost:3001/auth",
    user_claims={"st-ev": {"v": False, "t": NOW_MS}, "custom": [1, "two", None]},
)


def keys(key: RSAPrivateKey) -> dict[str, RSAPublicKey]:
    return {KID: key.public_key()}


def decode_segment(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def v5_payload(**overrides: Any) -> dict[str, Any]:
    payload = access_token.build_payload(CLAIMS)
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not _DROP}


_DROP = object()


def signed(key: RSAPrivateKey, payload: dict[str, Any], version: Any = "5") -> str:
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": KID}
    if version is not _DROP:
        header["version"] = version
    return jwt.sign(header, payload, key)


def test_header_is_exactly_the_v5_header(rsa_key: RSAPrivateKey) -> None:
    token = access_token.mint(CLAIMS, KID, rsa_key)
    header_b64 = token.split(".")[0]
    assert base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)) == (
        b'{"alg":"RS256","typ":"JWT","kid":"d-1699990000000","version":"5"}'
    )


def test_payload_has_every_protected_claim_and_user_claims_at_top_level(
    rsa_key: RSAPrivateKey,
) -> None:
    payload = decode_segment(access_token.mint(CLAIMS, KID, rsa_key).split(".")[1])
    assert payload == {
        "sub": "primary-1",
        "rsub": "recipe-1",
        "tId": "public",
        "exp": 1_700_003_600,
        "iat": 1_700_000_000,
        "sessionHandle": CLAIMS.session_handle,
        "refreshTokenHash1": "a" * 64,
        "parentRefreshTokenHash1": None,
        "antiCsrfToken": None,
        "iss": "http://localhost:3001/auth",
        "st-ev": {"v": False, "t": NOW_MS},
        "custom": [1, "two", None],
    }
    # Every protected name except stt (which only OAuth tokens carry) is present.
    assert PROTECTED_CLAIMS - payload.keys() == {"stt"}


def test_mint_parse_round_trip(rsa_key: RSAPrivateKey) -> None:
    for claims in (
        CLAIMS,
        CLAIMS._replace(parent_refresh_token_hash1="b" * 64, anti_csrf_token="csrf-1"),
        CLAIMS._replace(tenant_id="tenant-2", user_claims={}),
    ):
        token = access_token.mint(claims, KID, rsa_key)
        assert access_token.parse(token, keys(rsa_key), NOW_S) == claims


def test_times_are_truncated_to_whole_seconds() -> None:
    assert access_token.to_seconds(1_700_000_000_999) == 1_700_000_000
    assert access_token.to_seconds(1_700_000_000_000) == 1_700_000_000
    assert CLAIMS.expires_at_ms == 1_700_003_600_000
    assert CLAIMS.expires_at_ms % 1000 == 0


@pytest.mark.parametrize("name", sorted(PROTECTED_CLAIMS))
def test_each_protected_claim_is_refused_in_user_payload(name: str) -> None:
    with pytest.raises(ProtectedClaimError) as info:
        access_token.check_user_payload({name: "x", "fine": 1})
    assert info.value.claims == {name}
    assert name in str(info.value)
    assert isinstance(info.value, ValueError)


def test_protected_claim_error_names_all_offenders(rsa_key: RSAPrivateKey) -> None:
    claims = CLAIMS._replace(user_claims={"sub": "admin", "exp": 9_999_999_999, "ok": 1})
    with pytest.raises(ProtectedClaimError) as info:
        access_token.mint(claims, KID, rsa_key)
    assert info.value.claims == {"sub", "exp"}
    assert "exp, sub" in str(info.value)


def test_check_user_payload_accepts_ordinary_claims() -> None:
    access_token.check_user_payload({"iss": "x", "st-role": {"v": [], "t": 1}, "Sub": 1})


def test_our_issuer_wins_and_user_iss_is_kept_without_one(rsa_key: RSAPrivateKey) -> None:
    ours = CLAIMS._replace(user_claims={"iss": "https://evil.example"})
    assert access_token.build_payload(ours)["iss"] == CLAIMS.issuer
    theirs = CLAIMS._replace(issuer=None, user_claims={"iss": "https://sdk.example/auth"})
    token = access_token.mint(theirs, KID, rsa_key)
    parsed = access_token.parse(token, keys(rsa_key), NOW_S)
    assert parsed.issuer == "https://sdk.example/auth"
    assert access_token.build_payload(parsed) == access_token.build_payload(theirs)


def test_expected_issuer(rsa_key: RSAPrivateKey) -> None:
    token = access_token.mint(CLAIMS, KID, rsa_key)
    access_token.parse(token, keys(rsa_key), NOW_S, expected_issuer="http://localhost:3001/auth")
    for wrong in ("http://localhost:3001/aut", "http://localhost:3001/auth/", "x"):
        with pytest.raises(MalformedToken):
            access_token.parse(token, keys(rsa_key), NOW_S, expected_issuer=wrong)


def test_expired_token_is_try_refresh(rsa_key: RSAPrivateKey) -> None:
    token = access_token.mint(CLAIMS, KID, rsa_key)
    with pytest.raises(TokenNeedsRefresh):
        access_token.parse(token, keys(rsa_key), CLAIMS.expires_at_s)


@pytest.mark.parametrize("stt", [0])
def test_stt_zero_is_accepted(rsa_key: RSAPrivateKey, stt: int) -> None:
    access_token.parse(signed(rsa_key, v5_payload(stt=stt)), keys(rsa_key), NOW_S)


@pytest.mark.parametrize("stt", [1, 2, False, "0", None, 0.0])
def test_stt_other_than_zero_is_refused(rsa_key: RSAPrivateKey, stt: object) -> None:
    with pytest.raises(MalformedToken):
        access_token.parse(signed(rsa_key, v5_payload(stt=stt)), keys(rsa_key), NOW_S)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": _DROP},
        {"sub": 1},
        {"rsub": _DROP},
        {"rsub": None},
        {"tId": _DROP},
        {"tId": ["public"]},
        {"sessionHandle": _DROP},
        {"sessionHandle": 5},
        {"refreshTokenHash1": _DROP},
        {"refreshTokenHash1": None},
        {"parentRefreshTokenHash1": _DROP},
        {"parentRefreshTokenHash1": 1},
        {"antiCsrfToken": _DROP},
        {"antiCsrfToken": True},
        {"iat": _DROP},
        {"iat": "1700000000"},
    ],
)
def test_structure_failures_are_malformed(
    rsa_key: RSAPrivateKey, overrides: dict[str, Any]
) -> None:
    with pytest.raises(MalformedToken):
        access_token.parse(signed(rsa_key, v5_payload(**overrides)), keys(rsa_key), NOW_S)


@pytest.mark.parametrize("version", ["2", "1", "", "five", "5.0", "５", "99999", 5, None, _DROP])
def test_bad_header_versions_are_malformed(rsa_key: RSAPrivateKey, version: Any) -> None:
    with pytest.raises(MalformedToken):
        access_token.parse(signed(rsa_key, v5_payload(), version), keys(rsa_key), NOW_S)


def test_older_versions_read_like_supertokens_does(rsa_key: RSAPrivateKey) -> None:
    v4 = signed(rsa_key, v5_payload(rsub=_DROP), "4")
    parsed4 = access_token.parse(v4, keys(rsa_key), NOW_S)
    assert (parsed4.tenant_id, parsed4.recipe_user_id) == ("public", "primary-1")
    # v3 predates tenants: a tId claim there is not trusted as the tenant.
    v3 = signed(rsa_key, v5_payload(rsub=_DROP, tId="other"), "3")
    parsed3 = access_token.parse(v3, keys(rsa_key), NOW_S)
    assert (parsed3.tenant_id, parsed3.recipe_user_id) == ("public", "primary-1")
    future = signed(rsa_key, v5_payload(), "6")
    assert access_token.parse(future, keys(rsa_key), NOW_S) == CLAIMS


def test_user_claims_exclude_protected_names(rsa_key: RSAPrivateKey) -> None:
    parsed = access_token.parse(access_token.mint(CLAIMS, KID, rsa_key), keys(rsa_key), NOW_S)
    assert dict(parsed.user_claims) == dict(CLAIMS.user_claims)


def test_mint_refuses_non_json_user_claims(rsa_key: RSAPrivateKey) -> None:
    for bad in ({"x": float("nan")}, {"x": "\ud800"}, {"x": object()}):
        with pytest.raises((ValueError, TypeError)):
            access_token.mint(CLAIMS._replace(user_claims=bad), KID, rsa_key)
