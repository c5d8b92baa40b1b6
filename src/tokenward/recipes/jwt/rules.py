"""The dynamic signing-key schedule, and RSA key material helpers.

SuperTokens rotates access-token keys on a fixed interval and names them ``d-<createdAtMs>``.
The SDKs depend on that prefix (a ``d-`` kid means "dynamic key"; anything else sends every
request through refresh), so ours follow it. Several instances share the keys through the
database, which shapes the schedule:

* a new key is created ``KEY_OVERLAP_MS`` before the current one's interval ends, but is
  not used for signing until it is ``KEY_OVERLAP_MS`` old, so every instance (and every
  JWKS cache that refetches on an unknown kid) can see it before tokens carry its kid;
* a retired key stays verifiable until the tokens it signed have expired, with the same
  2x margin the SuperTokens core uses.

The schedule functions take ``KeyInfo`` records in any order and never look at the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tokenward.shared.encoding import b64url_decode, b64url_encode

DYNAMIC_KID_PREFIX = "d-"
STATIC_KID_PREFIX = "s-"

DEFAULT_ROTATION_INTERVAL_MS = 168 * 3_600_000
"""``access_token_dynamic_signing_key_update_interval``: one week."""
DEFAULT_ACCESS_TOKEN_VALIDITY_MS = 3_600_000
"""``access_token_validity``: one hour."""
KEY_OVERLAP_MS = 60_000
"""SuperTokens' ``dynamicSigningKeyOverlapMS``."""
VALIDITY_MARGIN = 2
"""SuperTokens' ``SIGNING_KEY_VALIDITY_OVERLAP``: keep keys for twice the token lifetime."""
MAX_JWKS_MAX_AGE_S = 86_400
"""Never let a JWKS response be cached for more than a day, whatever the interval."""

RSA_KEY_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A signing key as the schedule sees it: a name and a creation time."""

    kid: str
    created_at_ms: int

    @classmethod
    def dynamic(cls, created_at_ms: int) -> KeyInfo:
        return cls(dynamic_kid(created_at_ms), created_at_ms)


def dynamic_kid(created_at_ms: int) -> str:
    return f"{DYNAMIC_KID_PREFIX}{created_at_ms}"


def is_dynamic_kid(kid: str) -> bool:
    """The SDKs' key-mode test: they refuse ``d-`` tokens when set to a static key."""
    return kid.startswith(DYNAMIC_KID_PREFIX)


def _newest_first(keys: Iterable[KeyInfo]) -> list[KeyInfo]:
    # Ties on created_at_ms (two instances racing) are broken by kid so every instance
    # picks the same key.
    return sorted(keys, key=lambda k: (k.created_at_ms, k.kid), reverse=True)


def needs_new_key(
    keys: Iterable[KeyInfo],
    now_ms: int,
    *,
    rotation_interval_ms: int = DEFAULT_ROTATION_INTERVAL_MS,
) -> bool:
    """True when no key exists or the newest one's signing period ends within the overlap."""
    ordered = _newest_first(keys)
    if not ordered:
        return True
    return ordered[0].created_at_ms <= now_ms - rotation_interval_ms + KEY_OVERLAP_MS


def signing_key(keys: Iterable[KeyInfo], now_ms: int) -> KeyInfo:
    """The key to sign with now: the newest one at least ``KEY_OVERLAP_MS`` old.

    Falls back to the newest key when none is that old (a brand-new deployment), since
    signing with a fresh key beats not signing. Raises ``ValueError`` with no keys at all.
    """
    ordered = _newest_first(keys)
    if not ordered:
        raise ValueError("no signing keys")
    for key in ordered:
        if key.created_at_ms <= now_ms - KEY_OVERLAP_MS:
            return key
    return ordered[0]


def verifiable_keys(
    keys: Iterable[KeyInfo],
    now_ms: int,
    *,
    rotation_interval_ms: int = DEFAULT_ROTATION_INTERVAL_MS,
    access_token_validity_ms: int = DEFAULT_ACCESS_TOKEN_VALIDITY_MS,
) -> list[KeyInfo]:
    """Keys whose tokens may still be live, newest first (the JWKS and the verify set).

    A key is kept while ``created + interval + 2 * validity > now`` (SuperTokens' rule).
    We also keep it while it signed recently enough by the actual schedule, which
    matters when rotation ran late (no instance was up when the next key was due): a key
    signs until its successor is ``KEY_OVERLAP_MS`` old, or until now if it has none. That
    second rule also guarantees the signing key is always included.
    """
    ordered = _newest_first(keys)
    margin_ms = VALIDITY_MARGIN * access_token_validity_ms
    result: list[KeyInfo] = []
    successor: KeyInfo | None = None
    for key in ordered:
        signed_until_ms = now_ms if successor is None else successor.created_at_ms + KEY_OVERLAP_MS
        by_interval = key.created_at_ms + rotation_interval_ms + margin_ms > now_ms
        by_schedule = signed_until_ms + margin_ms > now_ms
        if by_interval or by_schedule:
            result.append(key)
        successor = key
    return result


def jwks_max_age_s(
    keys: Iterable[KeyInfo],
    now_ms: int,
    *,
    rotation_interval_ms: int = DEFAULT_ROTATION_INTERVAL_MS,
) -> int:
    """``Cache-Control: max-age`` for the JWKS: whole seconds until the next key is due.

    Rounded down so caches refetch no later than the new key appears; 0 when a key is
    already due (or none exists) so nobody caches a set that is about to change.
    """
    ordered = _newest_first(keys)
    if not ordered:
        return 0
    due_ms = ordered[0].created_at_ms + rotation_interval_ms - KEY_OVERLAP_MS
    return max(0, min((due_ms - now_ms) // 1000, MAX_JWKS_MAX_AGE_S))


def generate_rsa_private_key() -> rsa.RSAPrivateKey:
    """A new RSA-2048 key (e = 65537), the size SuperTokens uses for dynamic keys."""
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)


def private_key_to_pem(key: rsa.RSAPrivateKey) -> str:
    """PKCS#8 PEM, unencrypted: the store's column is the protection boundary."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def load_private_key_pem(pem: str) -> rsa.RSAPrivateKey:
    """Load a key written by ``private_key_to_pem``; refuses non-RSA and small keys."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("signing key is not an RSA key")
    if key.key_size < RSA_KEY_BITS:
        raise ValueError("RSA signing key is too small")
    return key


def public_jwk(kid: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """The JWKS entry SuperTokens publishes; public parts only, by construction."""
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "n": b64url_encode(_uint_bytes(numbers.n)),
        "e": b64url_encode(_uint_bytes(numbers.e)),
        "alg": "RS256",
        "use": "sig",
    }


def _uint_bytes(value: int) -> bytes:
    # RFC 7518 §6.3.1: big-endian, minimal length, no sign byte.
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def public_key_from_jwk(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    """The RSA public key of a JWKS entry we would accept: RS256 signing keys only."""
    if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256":
        raise ValueError("not an RS256 RSA key")
    if jwk.get("use", "sig") != "sig":
        raise ValueError("not a signing key")
    n, e = jwk.get("n"), jwk.get("e")
    if not isinstance(n, str) or not isinstance(e, str):
        raise ValueError("RSA key without n or e")
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(e), "big"), int.from_bytes(b64url_decode(n), "big")
    )
    key = numbers.public_key()
    if key.key_size < RSA_KEY_BITS:
        raise ValueError("RSA key too small")
    return key
