"""ID-token verification (OIDC Core §3.1.3.7) against a real local provider serving its JWKS:
good RS256 / ES256 / EdDSA tokens, the forgeries a relying party must refuse (the OIDF RP
negative cases of OAUTH-03), and the JWKS cache's refresh and rate-limit rules."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from tests.support.idp import Answer, FakeProvider
from tests.support.smtp import closed_port
from tokenward.shared.id_tokens import (
    InvalidIdToken,
    Jwk,
    JwksCache,
    check_claims,
    parse_jwks,
    select_key,
    verify_id_token,
)
from tokenward.shared.outbound_http import ProviderUnavailable, make_client

ISSUER = "https://accounts.example.com"
CLIENT_ID = "client-123.apps.example.com"
NONCE = "n-0S6_WzA2Mj-ffe7b6c5d4e3f2a1"
NOW = 1_800_000_000

RSA_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_1 = ec.generate_private_key(ec.SECP256R1())
ED_1 = ed25519.Ed25519PrivateKey.generate()


def public_jwk(private: Any, kid: str | None, **extra: str) -> dict[str, Any]:
    public = private.public_key()
    if isinstance(private, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    if kid is not None:
        jwk["kid"] = kid
    jwk.update(extra)
    return dict(jwk)


def jwks_of(*jwks: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(jwks)}


STANDARD_JWKS = jwks_of(
    public_jwk(RSA_1, "rsa-1", use="sig", alg="RS256"),
    public_jwk(EC_1, "ec-1", use="sig"),
    public_jwk(ED_1, "ed-1"),
)


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "248289761001",
        "iat": NOW,
        "exp": NOW + 600,
        "nonce": NONCE,
        "email": "jane@example.com",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Any = RSA_1, alg: str = "RS256", kid: str | None = "rsa-1", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), key, algorithm=alg, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return (
        b64url(json.dumps(header).encode())
        + "."
        + b64url(json.dumps(payload).encode())
        + "."
        + b64url(signature)
    )


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def idp() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        provider.answer("/jwks", Answer(body=STANDARD_JWKS))
        yield provider


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout_s=2.0) as c:
        yield c


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(client: httpx.AsyncClient, clock: Clock) -> JwksCache:
    return JwksCache(client, clock=clock, retry_delay_s=0)


ALL_ALGS = ("RS256", "ES256", "EdDSA")


async def verify(
    token: str,
    idp: FakeProvider,
    cache: JwksCache,
    *,
    nonce: str | None = NONCE,
    allowed: tuple[str, ...] = ALL_ALGS,
    now: float = NOW,
) -> dict[str, Any]:
    return await verify_id_token(
        token,
        jwks=cache,
        jwks_uri=idp.url("/jwks"),
        issuer=ISSUER,
        audience=CLIENT_ID,
        allowed_algorithms=allowed,
        nonce=nonce,
        now=now,
    )


async def refused(
    token: str, idp: FakeProvider, cache: JwksCache, reason: str, **kwargs: Any
) -> InvalidIdToken:
    with pytest.raises(InvalidIdToken) as caught:
        await verify(token, idp, cache, **kwargs)
    assert caught.value.reason == reason
    # Never an echo of the token or any part of it.
    text = str(caught.value) + repr(caught.value)
    for part in token.split("."):
        if part:
            assert part not in text
    return caught.value


# -- good tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "alg", "kid"),
    [(RSA_1, "RS256", "rsa-1"), (EC_1, "ES256", "ec-1"), (ED_1, "EdDSA", "ed-1")],
    ids=["RS256", "ES256", "EdDSA"],
)
async def test_a_good_token_is_accepted(
    idp: FakeProvider, cache: JwksCache, key: Any, alg: str, kid: str
) -> None:
    got = await verify(mint(key, alg, kid), idp, cache)
    assert got["sub"] == "248289761001"
    assert got["email"] == "jane@example.com"
    assert idp.hits["/jwks"] == 1


async def test_keys_are_cached(idp: FakeProvider, cache: JwksCache, clock: Clock) -> None:
    await verify(mint(), idp, cache)
    clock.t += 3599
    await verify(mint(EC_1, "ES256", "ec-1"), idp, cache)
    assert idp.hits["/jwks"] == 1
    clock.t += 1  # the TTL (1 h) is over
    await verify(mint(), idp, cache)
    assert idp.hits["/jwks"] == 2


async def test_no_kid_and_exactly_one_fitting_key(idp: FakeProvider, cache: JwksCache) -> None:
    got = await verify(mint(EC_1, "ES256", kid=None), idp, cache)
    assert got["sub"] == "248289761001"


async def test_no_kid_and_several_fitting_keys(idp: FakeProvider, cache: JwksCache) -> None:
    idp.answer("/jwks", Answer(body=jwks_of(public_jwk(RSA_1, "a"), public_jwk(RSA_2, "b"))))
    await refused(mint(kid=None), idp, cache, "token has no kid and several keys fit")


async def test_several_audiences_with_azp(idp: FakeProvider, cache: JwksCache) -> None:
    token = mint(aud=[CLIENT_ID, "other-api"], azp=CLIENT_ID)
    assert (await verify(token, idp, cache))["azp"] == CLIENT_ID


async def test_a_skew_within_the_leeway_is_accepted(idp: FakeProvider, cache: JwksCache) -> None:
    await verify(mint(iat=NOW + 30, exp=NOW - 30), idp, cache)


async def test_no_nonce_sent_none_checked(idp: FakeProvider, cache: JwksCache) -> None:
    await verify(mint(nonce=None), idp, cache, nonce=None)


async def test_unusable_jwks_entries_are_skipped(idp: FakeProvider, cache: JwksCache) -> None:
    idp.answer(
        "/jwks",
        Answer(
            body=jwks_of(
                {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
                "not an object",  # type: ignore[arg-type]
                public_jwk(RSA_2, "enc-only", use="enc"),
                public_jwk(RSA_1, "rsa-1"),
            )
        ),
    )
    await verify(mint(), idp, cache)
    await refused(mint(RSA_2, kid="enc-only"), idp, cache, "no key of the provider fits the token")


# -- forgeries and wrong claims -----------------------------------------------------------------


async def test_alg_none_is_refused(idp: FakeProvider, cache: JwksCache) -> None:
    token = unsigned({"alg": "none", "kid": "rsa-1"}, claims())
    await refused(token, idp, cache, "algorithm not allowed")
    assert idp.hits["/jwks"] == 0


async def test_hs256_keyed_with_the_public_key_is_refused(
    idp: FakeProvider, cache: JwksCache
) -> None:
    public_pem = RSA_1.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64url(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    await refused(f"{header}.{payload}.{b64url(mac)}", idp, cache, "algorithm not allowed")


async def test_hmac_algorithms_cannot_be_allowed(idp: FakeProvider, cache: JwksCache) -> None:
    with pytest.raises(ValueError):
        await verify(mint(), idp, cache, allowed=("RS256", "HS256"))
    with pytest.raises(ValueError):
        await verify(mint(), idp, cache, allowed=())


async def test_an_algorithm_outside_the_allow_list(idp: FakeProvider, cache: JwksCache) -> None:
    await refused(
        mint(EC_1, "ES256", "ec-1"), idp, cache, "algorithm not allowed", allowed=("RS256",)
    )


async def test_alg_that_does_not_fit_the_key(idp: FakeProvider, cache: JwksCache) -> None:
    # Signed with the RSA key as PS256 while the JWKS pins it to RS256.
    token = mint(RSA_1, "PS256", "rsa-1")
    reason = "no key of the provider fits the token"
    await refused(token, idp, cache, reason, allowed=("RS256", "PS256"))


async def test_a_bad_signature_is_refused(idp: FakeProvider, cache: JwksCache) -> None:
    await refused(mint(RSA_2, "RS256", "rsa-1"), idp, cache, "signature verification failed")
    header, _, signature = mint().split(".")
    forged_payload = b64url(json.dumps(claims(sub="admin")).encode())
    token = f"{header}.{forged_payload}.{signature}"
    await refused(token, idp, cache, "signature verification failed")


async def test_crit_header_is_refused(idp: FakeProvider, cache: JwksCache) -> None:
    headers = {"kid": "rsa-1", "crit": ["exp"], "exp": 1}
    token = jwt.encode(claims(), RSA_1, algorithm="RS256", headers=headers)
    await refused(token, idp, cache, "unsupported header parameter")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://accounts.example.com/"}, "wrong issuer"),
        ({"iss": None}, "wrong issuer"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"aud": ["someone-else", "other"], "azp": "someone-else"}, "wrong audience"),
        ({"aud": None}, "missing or malformed audience"),
        ({"aud": [CLIENT_ID, "other-api"]}, "several audiences and no authorized party"),
        ({"aud": [CLIENT_ID, "other-api"], "azp": "other-api"}, "wrong authorized party"),
        ({"exp": NOW - 61}, "expired"),
        ({"exp": None}, "missing exp"),
        ({"exp": "tomorrow"}, "malformed exp"),
        ({"iat": NOW + 61}, "issued in the future"),
        ({"iat": None}, "missing iat"),
        ({"nbf": NOW + 120}, "not yet valid"),
        ({"nonce": "n-someone-elses-nonce"}, "wrong nonce"),
        ({"nonce": None}, "wrong nonce"),
        ({"sub": None}, "missing or malformed subject"),
        ({"sub": ""}, "missing or malformed subject"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_wrong_claims_are_refused(
    idp: FakeProvider, cache: JwksCache, overrides: dict[str, Any], reason: str
) -> None:
    await refused(mint(**overrides), idp, cache, reason)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "!!.e30.", "x" * 70_000, "e30.e30."],
    ids=["empty", "one-part", "two-parts", "four-parts", "bad-b64", "huge", "no-alg"],
)
async def test_malformed_tokens(idp: FakeProvider, cache: JwksCache, token: str) -> None:
    with pytest.raises(InvalidIdToken):
        await verify(token, idp, cache)


# -- the JWKS cache -----------------------------------------------------------------------------


async def test_unknown_kid_refetches_once_then_is_rate_limited(
    idp: FakeProvider, cache: JwksCache, clock: Clock
) -> None:
    await verify(mint(), idp, cache)
    assert idp.hits["/jwks"] == 1
    clock.t += 61
    await refused(mint(kid="unknown-1"), idp, cache, "no key of the provider fits the token")
    assert idp.hits["/jwks"] == 2  # one refetch, still unknown
    clock.t += 59
    await refused(mint(kid="unknown-2"), idp, cache, "no key of the provider fits the token")
    assert idp.hits["/jwks"] == 2  # within 60 s of the last fetch: not asked again
    await verify(mint(), idp, cache)  # the cached keys still serve known kids
    assert idp.hits["/jwks"] == 2


async def test_unknown_kid_right_after_a_fetch_does_not_refetch(
    idp: FakeProvider, cache: JwksCache
) -> None:
    await refused(mint(kid="nope"), idp, cache, "no key of the provider fits the token")
    assert idp.hits["/jwks"] == 1


async def test_key_rotation_is_picked_up(idp: FakeProvider, cache: JwksCache, clock: Clock) -> None:
    await verify(mint(), idp, cache)
    idp.answer(
        "/jwks", Answer(body=jwks_of(public_jwk(RSA_1, "rsa-1"), public_jwk(RSA_2, "rsa-2")))
    )
    clock.t += 61
    got = await verify(mint(RSA_2, kid="rsa-2"), idp, cache)
    assert got["sub"] == "248289761001"
    assert idp.hits["/jwks"] == 2


async def test_concurrent_misses_share_one_refetch(
    idp: FakeProvider, cache: JwksCache, clock: Clock
) -> None:
    await verify(mint(), idp, cache)
    idp.answer("/jwks", Answer(body=jwks_of(public_jwk(RSA_2, "rsa-2"))))
    clock.t += 61
    results = await asyncio.gather(
        *(verify(mint(RSA_2, kid="rsa-2"), idp, cache) for _ in range(5))
    )
    assert all(r["sub"] == "248289761001" for r in results)
    assert idp.hits["/jwks"] == 2


async def test_jwks_endpoint_down_is_unavailable(idp: FakeProvider, cache: JwksCache) -> None:
    idp.answer("/jwks", Answer(status=503))
    with pytest.raises(ProviderUnavailable) as caught:
        await verify(mint(), idp, cache)
    assert caught.value.retryable
    token = mint()
    assert token not in str(caught.value)


async def test_jwks_host_unreachable_is_unavailable(client: httpx.AsyncClient) -> None:
    cache = JwksCache(client, retry_delay_s=0)
    with closed_port() as port, pytest.raises(ProviderUnavailable) as caught:
        await verify_id_token(
            mint(),
            jwks=cache,
            jwks_uri=f"http://127.0.0.1:{port}/jwks",
            issuer=ISSUER,
            audience=CLIENT_ID,
            allowed_algorithms=("RS256",),
            now=NOW,
        )
    assert caught.value.retryable


@pytest.mark.parametrize(
    "body",
    [b"<html>nope</html>", {"keys": "all of them"}, {"keys": []}, {"no": "keys"}],
    ids=["html", "keys-not-a-list", "no-keys", "no-keys-member"],
)
async def test_jwks_garbage_is_unavailable(idp: FakeProvider, cache: JwksCache, body: Any) -> None:
    idp.answer("/jwks", Answer(body=body))
    with pytest.raises(ProviderUnavailable) as caught:
        await verify(mint(), idp, cache)
    assert caught.value.retryable


async def test_a_failed_refetch_does_not_drop_the_cached_keys(
    idp: FakeProvider, cache: JwksCache, clock: Clock
) -> None:
    await verify(mint(), idp, cache)
    idp.answer("/jwks", Answer(status=500))
    clock.t += 61
    with pytest.raises(ProviderUnavailable):
        await verify(mint(kid="new"), idp, cache)
    await verify(mint(), idp, cache)


# -- the pure rules -----------------------------------------------------------------------------


def test_parse_jwks_and_select_key() -> None:
    keys = parse_jwks(STANDARD_JWKS)
    assert [k.kid for k in keys] == ["rsa-1", "ec-1", "ed-1"]
    rsa_key = select_key(keys, "rsa-1", "RS256")
    assert isinstance(rsa_key, Jwk)
    assert rsa_key.kty == "RSA"
    assert select_key(keys, "rsa-1", "ES256") is None
    assert select_key(keys, "ec-1", "ES384") is None
    assert select_key(keys, None, "EdDSA") is not None
    with pytest.raises(ValueError):
        parse_jwks({"keys": None})


def test_small_rsa_keys_and_private_keys_are_skipped() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = RSAAlgorithm.to_jwk(RSA_1, as_dict=True)
    assert parse_jwks(jwks_of(public_jwk(small, "small"), {**private, "kid": "priv"})) == ()


def test_check_claims_is_pure() -> None:
    check_claims(claims(), issuer=ISSUER, audience=CLIENT_ID, nonce=NONCE, now=NOW)
    with pytest.raises(InvalidIdToken, match="expired"):
        check_claims(claims(), issuer=ISSUER, audience=CLIENT_ID, nonce=NONCE, now=NOW + 661)
    with pytest.raises(InvalidIdToken, match="malformed exp"):
        check_claims(claims(exp=True), issuer=ISSUER, audience=CLIENT_ID, nonce=None, now=NOW)


def test_an_authorized_party_may_be_another_client_of_ours() -> None:
    """Google's Android and iOS sign-in: the web client is the audience, the app's client the
    ``azp``; any other ``azp`` stays refused."""
    android = claims(aud=CLIENT_ID, azp="android-client")
    check = {"issuer": ISSUER, "audience": CLIENT_ID, "nonce": NONCE, "now": NOW}
    check_claims(android, **check, authorized_parties={"android-client", CLIENT_ID})
    with pytest.raises(InvalidIdToken, match="authorized party"):
        check_claims(android, **check)
    with pytest.raises(InvalidIdToken, match="authorized party"):
        check_claims(claims(azp="someone-else"), **check, authorized_parties={"android-client"})


def test_microsofts_multi_tenant_issuer_is_the_tokens_own_directory() -> None:
    """login.microsoftonline.com/common: the document's issuer is a template with
    ``{tenantid}``; the token's ``iss`` must be it with the token's own ``tid``."""
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
    own = f"https://login.microsoftonline.com/{tid}/v2.0"
    check = {"issuer": template, "audience": CLIENT_ID, "nonce": NONCE, "now": NOW}
    check_claims(claims(iss=own, tid=tid), **check)
    for bad in (
        claims(iss=own),  # no tid
        claims(iss=own, tid="72f988bf-86f1-41af-91ab-2d7cd011db47"),  # another directory's
        claims(iss=template, tid="{tenantid}"),
        claims(iss="https://evil.example/x/v2.0", tid=tid),
    ):
        with pytest.raises(InvalidIdToken, match="wrong issuer"):
            check_claims(bad, **check)
