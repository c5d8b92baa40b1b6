"""Minimal RS256 JWS (compact serialization) for access tokens.

This is the per-request hot path, so it calls ``cryptography`` directly instead of a JWT
library, and therefore has to make every check such a library makes itself, plus a few
more: one algorithm only (no ``none``, no HMAC that could be keyed with a public key), keys
selected by ``kid`` from a fixed set only (never from ``jku``/``x5u``/``jwk``/``x5c``), no
``crit`` extensions, strict encodings, and the signature checked before the payload is even
parsed. Each segment is decoded exactly once.

Failures split by what a refresh could fix: structure problems raise ``MalformedToken``;
signature, unknown key and time problems raise ``TokenNeedsRefresh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from tokenward.shared.encoding import b64url_decode, b64url_encode, json_dumps, json_loads_object
from tokenward.shared.token_errors import MalformedToken, TokenNeedsRefresh, UnknownKeyId

ALGORITHM = "RS256"
JWT_TYPE = "JWT"
MIN_RSA_KEY_BITS = 2048

MAX_TOKEN_LENGTH = 65_536
"""Upper bound on what we even try to parse.

Cookie-mode tokens must fit in 4 KiB, but header mode has no such limit and user claims can
be large; 64 KiB leaves room for those while bounding the work an attacker can ask for.
"""

TIME_LEEWAY_S = 60
"""Clock-skew allowance for ``iat``/``nbf`` in the future (instances' clocks may differ).

``exp`` gets no leeway, matching SuperTokens' SDKs: a token is valid iff ``now < exp``.
"""

MAX_KID_LENGTH = 128
"""Our kids are ``d-<ms>`` or ``s-<uuid>``; a longer one cannot name any key we hold, and
refusing it outright keeps callers from reloading keys (or logging kilobytes) for it."""

_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
# Stateless parameter objects, built once rather than per signature.
_PADDING = padding.PKCS1v15()
_HASH = hashes.SHA256()

_HEADER_MEMO_SIZE = 64
"""Header segments remembered after a verified signature. Every token a key signs carries the
same header segment, so a handful of entries (one per key in use) serve all traffic."""
_verified_headers: dict[str, tuple[dict[str, Any], str]] = {}


class JwtParts(NamedTuple):
    """The verified header and payload of a token (a named tuple: this is built on every
    verification, and a tuple is the cheapest immutable record to build)."""

    header: dict[str, Any]
    payload: dict[str, Any]


def sign(header: Mapping[str, Any], payload: Mapping[str, Any], key: RSAPrivateKey) -> str:
    """Serialize and sign; the header is written in the caller's key order.

    Refuses anything but RS256 headers and sub-2048-bit keys, so a misconfigured caller
    cannot mint a token our own verifier (or a SuperTokens SDK) would mistrust.
    """
    if header.get("alg") != ALGORITHM:
        raise ValueError("only RS256 is supported")
    if key.key_size < MIN_RSA_KEY_BITS:
        raise ValueError("RSA signing key is too small")
    signing_input = (
        b64url_encode(json_dumps(header).encode("utf-8"))
        + "."
        + b64url_encode(json_dumps(payload).encode("utf-8"))
    )
    signature = key.sign(signing_input.encode("ascii"), _PADDING, _HASH)
    return signing_input + "." + b64url_encode(signature)


def verify(token: str, public_keys: Mapping[str, RSAPublicKey], *, now_s: int) -> JwtParts:
    """Verify ``token`` against the key named by its ``kid`` and check its times.

    ``now_s`` is Unix time in whole seconds (``now_ms // 1000``); with integer ``exp`` the
    test ``now_s < exp`` equals PyJWT's float comparison, so we accept exactly what the
    SuperTokens python SDK accepts.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken("token is not a JWT")
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedToken("token is not a JWT")
    header_b64, payload_b64, signature_b64 = segments
    # A header segment seen in a verified token already passed every check below; the same
    # string decodes to the same header, so its checks are not repeated (the signature is).
    known = _verified_headers.get(header_b64)
    try:
        header = json_loads_object(b64url_decode(header_b64)) if known is None else known[0]
        payload_bytes = b64url_decode(payload_b64)
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise MalformedToken("token is not a JWT") from None

    kid = _checked_kid(header) if known is None else known[1]
    key = public_keys.get(kid)
    if key is None:
        raise UnknownKeyId(kid)
    # All three segments decoded as base64url, so the signing input is pure ASCII.
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    try:
        key.verify(signature, signing_input, _PADDING, _HASH)
    except InvalidSignature:
        raise TokenNeedsRefresh("signature verification failed") from None

    if known is None:
        if len(_verified_headers) >= _HEADER_MEMO_SIZE:
            _verified_headers.clear()
        _verified_headers[header_b64] = (header, kid)

    try:
        payload = json_loads_object(payload_bytes)
    except ValueError:
        raise MalformedToken("token payload is not a JSON object") from None
    _check_times(payload, now_s)
    # A copy: callers own what they get, and the remembered header must stay as checked.
    return JwtParts(dict(header), payload)


def _checked_kid(header: dict[str, Any]) -> str:
    """Validate the header against the one shape we issue and return its ``kid``."""
    if header.get("alg") != ALGORITHM:
        raise MalformedToken("unsupported JWT algorithm")
    if header.get("typ") != JWT_TYPE:
        raise MalformedToken("unsupported JWT type")
    if not _FORBIDDEN_HEADERS.isdisjoint(header):
        raise MalformedToken("JWT header carries a forbidden parameter")
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise MalformedToken("JWT header has no valid key id")
    return kid


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass in Python; JSON true must not pass as a timestamp.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_times(payload: dict[str, Any], now_s: int) -> None:
    exp = payload.get("exp")
    if not _is_int(exp):
        raise MalformedToken("JWT exp is missing or not an integer")
    for name in ("iat", "nbf"):
        if name in payload and not _is_int(payload[name]):
            raise MalformedToken("JWT time claim is not an integer")
    if not now_s < exp:
        raise TokenNeedsRefresh("access token expired")
    latest_start = now_s + TIME_LEEWAY_S
    if payload.get("iat", 0) > latest_start or payload.get("nbf", 0) > latest_start:
        raise TokenNeedsRefresh("access token not yet valid")
