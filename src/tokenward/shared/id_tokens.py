"""Verifying OpenID Connect ID tokens (OIDC Core §3.1.3.7) from social / OIDC providers.

    jwks = JwksCache(client)                     # one per process, shared by every provider
    claims = await verify_id_token(
        token, jwks=jwks, jwks_uri=..., issuer=..., audience=client_id,
        allowed_algorithms=("RS256",), nonce=nonce_sent, now=time.time(),
    )

Signatures are checked with PyJWT (asymmetric algorithms only: RS*, PS*, ES*, EdDSA); every
other rule is ours and pure (``check_algorithm``, ``select_key``, ``parse_jwks``,
``check_claims``), so each is testable without a network or a clock:

- ``alg`` in the caller's allow-list, which may hold asymmetric algorithms only: never ``none``,
  never HS* (an HMAC "keyed" with a provider's public key is forgeable by anyone);
- the key is the JWKS entry named by ``kid`` and fit for ``alg`` (kty, curve, the key's own
  ``alg``); without a ``kid``, only when exactly one key fits. ``jku``/``x5u``/``jwk``/``x5c``
  are never used, and ``crit``/``b64`` are refused (RFC 8725 §3.10);
- ``iss`` equals the issuer exactly, ``aud`` holds the client id, ``azp`` (required when there
  are several audiences) equals it, ``exp``/``iat``/``nbf`` hold with ``leeway_s``, ``nonce``
  equals the one sent, ``sub`` is present.

``InvalidIdToken.reason`` is short and never quotes the token or a value taken from it.
A JWKS that cannot be fetched raises ``ProviderUnavailable`` (retryable) from outbound_http.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tokenward.shared.encoding import b64url_decode, constant_time_equal, json_loads_object
from tokenward.shared.outbound_http import (
    DEFAULT_RETRY_DELAY_S,
    ProviderUnavailable,
    get_json,
    host_of,
)

ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512",
        "EdDSA",
    }
)  # fmt: skip
"""What ``allowed_algorithms`` may hold."""

DEFAULT_JWKS_TTL_S = 3600.0
DEFAULT_MIN_REFRESH_INTERVAL_S = 60.0
DEFAULT_LEEWAY_S = 60
MAX_TOKEN_LENGTH = 65_536
MAX_KID_LENGTH = 256
MIN_RSA_KEY_BITS = 2048
MAX_SUB_LENGTH = 255  # OIDC Core §2: "MUST NOT exceed 255 ASCII characters"

_KTY = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    **dict.fromkeys(("ES256", "ES384", "ES512"), "EC"),
    "EdDSA": "OKP",
}
_CURVES: dict[str, frozenset[str]] = {
    "ES256": frozenset({"P-256"}),
    "ES384": frozenset({"P-384"}),
    "ES512": frozenset({"P-521"}),
    "EdDSA": frozenset({"Ed25519", "Ed448"}),
}
_REFUSED_HEADERS = frozenset({"crit", "b64"})
_JWS = jwt.PyJWS()


class InvalidIdToken(Exception):
    """The ID token must not be trusted. ``reason`` is short and safe to log or show."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid id token: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Jwk:
    """One usable verification key of a provider's JWKS."""

    kid: str | None
    kty: str
    crv: str | None
    alg: str | None
    key: Any  # a cryptography public key object

    def fits(self, alg: str) -> bool:
        """Whether a token signed with ``alg`` may be verified with this key."""
        if self.kty != _KTY.get(alg):
            return False
        curves = _CURVES.get(alg)
        if curves is not None and self.crv not in curves:
            return False
        return self.alg is None or self.alg == alg


# -- pure rules ---------------------------------------------------------------------------------


def parse_jwks(document: Mapping[str, Any]) -> tuple[Jwk, ...]:
    """The signature keys of a JWKS document. Entries that are not usable public signature
    keys (unknown kty or alg, ``use`` other than ``sig``, private parts, RSA under 2048 bits,
    malformed) are skipped. Raises ValueError when no ``keys`` list is there."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("JWKS has no keys list")
    keys: list[Jwk] = []
    for entry in entries:
        jwk = _parse_jwk(entry)
        if jwk is not None:
            keys.append(jwk)
    return tuple(keys)


def _parse_jwk(entry: Any) -> Jwk | None:
    if not isinstance(entry, dict):
        return None
    kty, kid, alg, crv = (entry.get(name) for name in ("kty", "kid", "alg", "crv"))
    if kty not in ("RSA", "EC", "OKP") or "d" in entry:
        return None
    if entry.get("use", "sig") != "sig":
        return None
    if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_LENGTH):
        return None
    if alg is not None and alg not in ASYMMETRIC_ALGORITHMS:
        return None
    if crv is not None and not isinstance(crv, str):
        return None
    try:
        key = jwt.PyJWK(entry).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    if isinstance(key, RSAPublicKey) and key.key_size < MIN_RSA_KEY_BITS:
        return None
    if not hasattr(key, "verify") or hasattr(key, "private_bytes"):
        return None
    return Jwk(kid=kid, kty=kty, crv=crv, alg=alg, key=key)


def check_algorithm(header: Mapping[str, Any], allowed_algorithms: Collection[str]) -> str:
    """The token's ``alg``, if allowed; raises InvalidIdToken otherwise."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGORITHMS:
        raise InvalidIdToken("algorithm not allowed")
    if alg not in allowed_algorithms:
        raise InvalidIdToken("algorithm not allowed")
    if _REFUSED_HEADERS.intersection(header):
        raise InvalidIdToken("unsupported header parameter")
    return alg


def select_key(keys: Sequence[Jwk], kid: str | None, alg: str) -> Jwk | None:
    """The key that verifies a token with ``kid`` and ``alg``, or None when no key fits.

    Without a kid, a key is chosen only when exactly one fits; several raise InvalidIdToken
    (trying each would let a token pick its key)."""
    if kid is not None:
        for key in keys:
            if key.kid == kid:
                return key if key.fits(alg) else None
        return None
    fitting = [key for key in keys if key.fits(alg)]
    if len(fitting) > 1:
        raise InvalidIdToken("token has no kid and several keys fit")
    return fitting[0] if fitting else None


_TENANT_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _expected_issuer(issuer: str, claims: Mapping[str, Any]) -> str | None:
    if "{tenantid}" not in issuer:
        return issuer
    tid = claims.get("tid")
    if not isinstance(tid, str) or not _TENANT_ID.fullmatch(tid):
        return None
    return issuer.replace("{tenantid}", tid)


def check_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    audience: str,
    nonce: str | None,
    now: float,
    leeway_s: float = DEFAULT_LEEWAY_S,
    authorized_parties: Collection[str] = (),
) -> None:
    """OIDC Core §3.1.3.7 steps 2-3, 9-11 on verified claims; raises InvalidIdToken.
    ``authorized_parties``: other client ids of ours that may be the ``azp`` (Google's
    Android and iOS sign-in gives the web client's audience and the app client's ``azp``).
    An issuer with ``{tenantid}`` (Microsoft's multi-tenant endpoints) is the token's own
    directory (``tid``) put in its place, as Microsoft has issuers validated."""
    if claims.get("iss") != _expected_issuer(issuer, claims):
        raise InvalidIdToken("wrong issuer")
    aud = claims.get("aud")
    if isinstance(aud, str):
        audiences = [aud]
    elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        audiences = aud
    else:
        raise InvalidIdToken("missing or malformed audience")
    if audience not in audiences:
        raise InvalidIdToken("wrong audience")
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise InvalidIdToken("several audiences and no authorized party")
    if azp is not None and azp != audience and azp not in authorized_parties:
        raise InvalidIdToken("wrong authorized party")
    exp = _time_claim(claims, "exp", required=True)
    if exp is None or now >= exp + leeway_s:
        raise InvalidIdToken("expired")
    iat = _time_claim(claims, "iat", required=True)
    if iat is None or iat > now + leeway_s:
        raise InvalidIdToken("issued in the future")
    nbf = _time_claim(claims, "nbf", required=False)
    if nbf is not None and nbf > now + leeway_s:
        raise InvalidIdToken("not yet valid")
    if nonce is not None:
        got = claims.get("nonce")
        if not isinstance(got, str) or not constant_time_equal(got, nonce):
            raise InvalidIdToken("wrong nonce")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUB_LENGTH:
        raise InvalidIdToken("missing or malformed subject")


def _time_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidIdToken(f"missing {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidIdToken(f"malformed {name}")
    return float(value)


def parse_header(token: str) -> dict[str, Any]:
    """The (unverified) header of a compact JWS; raises InvalidIdToken when malformed."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidIdToken("malformed token")
    segments = token.split(".")
    if len(segments) != 3:
        raise InvalidIdToken("malformed token")
    try:
        header = json_loads_object(b64url_decode(segments[0]))
    except ValueError:
        raise InvalidIdToken("malformed token") from None
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or len(kid) > MAX_KID_LENGTH):
        raise InvalidIdToken("malformed kid")
    return header


# -- the JWKS cache -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    keys: tuple[Jwk, ...]
    fetched_at: float


class JwksCache:
    """Providers' signing keys, fetched through outbound_http and kept ``ttl_s`` seconds.

    A token whose key is not in the cached set triggers one refetch at once (the provider
    rotated its keys), but a URI is fetched at most once per ``min_refresh_interval_s``: an
    attacker sending random kids cannot make us hammer the provider. ``clock`` returns seconds
    (monotonic by default). Fetches of one URI are serialised, so concurrent misses cause one.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        ttl_s: float = DEFAULT_JWKS_TTL_S,
        min_refresh_interval_s: float = DEFAULT_MIN_REFRESH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
    ) -> None:
        if ttl_s <= 0 or min_refresh_interval_s < 0:
            raise ValueError("ttl_s must be positive and min_refresh_interval_s not negative")
        self._client = client
        self.ttl_s = ttl_s
        self.min_refresh_interval_s = min_refresh_interval_s
        self._clock = clock
        self._retry_delay_s = retry_delay_s
        self._entries: dict[str, _Entry] = {}
        self._last_fetch: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def keys(self, jwks_uri: str) -> tuple[Jwk, ...]:
        """The cached keys of ``jwks_uri``, fetched first when absent or older than ``ttl_s``."""
        entry = self._fresh(jwks_uri)
        if entry is not None:
            return entry.keys
        async with self._lock(jwks_uri):
            entry = self._fresh(jwks_uri)  # another task may have fetched while we waited
            if entry is not None:
                return entry.keys
            return await self._fetch(jwks_uri)

    async def refresh_for_unknown_key(self, jwks_uri: str) -> tuple[Jwk, ...]:
        """The keys after a key was not found: refetched, unless the URI was fetched less than
        ``min_refresh_interval_s`` ago (then the cached ones, which a concurrent miss may just
        have refreshed)."""
        async with self._lock(jwks_uri):
            last = self._last_fetch.get(jwks_uri)
            if last is not None and self._clock() - last < self.min_refresh_interval_s:
                entry = self._entries.get(jwks_uri)
                return entry.keys if entry is not None else ()
            return await self._fetch(jwks_uri)

    def _fresh(self, jwks_uri: str) -> _Entry | None:
        entry = self._entries.get(jwks_uri)
        if entry is None or self._clock() - entry.fetched_at >= self.ttl_s:
            return None
        return entry

    def _lock(self, jwks_uri: str) -> asyncio.Lock:
        lock = self._locks.get(jwks_uri)
        if lock is None:
            lock = self._locks[jwks_uri] = asyncio.Lock()
        return lock

    async def _fetch(self, jwks_uri: str) -> tuple[Jwk, ...]:
        # Counted before the request: a failing provider is not asked again sooner either.
        self._last_fetch[jwks_uri] = self._clock()
        document = await get_json(self._client, jwks_uri, retry_delay_s=self._retry_delay_s)
        try:
            keys = parse_jwks(document)
        except ValueError:
            keys = ()
        if not keys:
            host = host_of(jwks_uri)
            raise ProviderUnavailable(
                f"identity provider {host} unavailable: its JWKS holds no usable signature key",
                host=host,
            )
        self._entries[jwks_uri] = _Entry(keys=keys, fetched_at=self._clock())
        return keys


# -- verification -------------------------------------------------------------------------------


async def verify_id_token(
    token: str,
    *,
    jwks: JwksCache,
    jwks_uri: str,
    issuer: str,
    audience: str,
    allowed_algorithms: Collection[str],
    nonce: str | None = None,
    leeway_s: float = DEFAULT_LEEWAY_S,
    now: float,
    authorized_parties: Collection[str] = (),
) -> dict[str, Any]:
    """The claims of ``token`` once every check of the module docstring holds.

    ``audience`` is our client id at the provider; ``now`` is Unix time in seconds. Raises
    InvalidIdToken, or ProviderUnavailable when the provider's JWKS cannot be had.
    """
    not_asymmetric = set(allowed_algorithms) - ASYMMETRIC_ALGORITHMS
    if not_asymmetric or not allowed_algorithms:
        raise ValueError(
            "allowed_algorithms must be a non-empty subset of " + ", ".join(sorted(_KTY))
        )
    header = parse_header(token)
    alg = check_algorithm(header, allowed_algorithms)
    kid = header.get("kid")

    key = select_key(await jwks.keys(jwks_uri), kid, alg)
    if key is None:
        key = select_key(await jwks.refresh_for_unknown_key(jwks_uri), kid, alg)
    if key is None:
        raise InvalidIdToken("no key of the provider fits the token")

    try:
        payload = _JWS.decode_complete(token, key.key, algorithms=[alg])["payload"]
    except jwt.InvalidSignatureError:
        raise InvalidIdToken("signature verification failed") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidIdToken("malformed token") from None
    try:
        claims = json_loads_object(payload)
    except ValueError:
        raise InvalidIdToken("malformed claims") from None
    check_claims(claims, issuer=issuer, audience=audience, nonce=nonce, now=now,
                 leeway_s=leeway_s, authorized_parties=authorized_parties)  # fmt: skip
    return claims
