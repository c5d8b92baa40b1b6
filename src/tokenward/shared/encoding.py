"""Byte/text encodings shared by every token format.

Decoders here are strict on purpose: a token has exactly one accepted spelling, so two
different strings can never verify as the same token (no padding games, no ignored
characters, no non-canonical trailing bits), and JSON has exactly one meaning (no duplicate
keys whose resolution differs between parsers, no NaN/Infinity that other languages reject).
Every decoder raises ``ValueError``; callers translate that into their own token error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from typing import Any

_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNUSED_BITS = (0, 0, 0x0F, 0x03)  # by len(text) % 4
_PADDING = ("", "", "==", "=")  # by len(text) % 4
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, the only form JWS compact serialization allows."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, accepting only the canonical spelling.

    This runs three times per verified access token, so it checks canonicity directly
    (alphabet, length, unused trailing bits) rather than by a slower re-encoding.
    """
    remainder = len(text) % 4
    # Standard base64's own characters would pass the translation below unchanged.
    if remainder == 1 or "+" in text or "/" in text or "=" in text:
        raise ValueError("invalid base64url")
    # The last character of a 2- or 3-character group carries 4 or 2 unused bits; a
    # lenient decoder ignores them, so "YQ" and "YR" would both decode to b"a".
    if remainder and _B64URL_ALPHABET.index(text[-1]) & _UNUSED_BITS[remainder]:
        raise ValueError("non-canonical base64url")
    # encode() refuses non-ASCII text; strict mode refuses every other foreign character.
    padded = (text + _PADDING[remainder]).encode("ascii")
    try:
        return binascii.a2b_base64(padded.translate(_URLSAFE_TO_STANDARD), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError("invalid base64url") from exc


def b64_encode(data: bytes) -> str:
    """Standard base64 with ``+ /`` and ``=`` padding (the ``front-token`` header format)."""
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str) -> bytes:
    """Decode padded standard base64, accepting only the canonical spelling."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64") from exc
    if b64_encode(raw) != text:
        raise ValueError("non-canonical base64")
    return raw


def json_dumps(obj: Any, *, sort_keys: bool = False, ascii_only: bool = False) -> str:
    """Compact JSON; refuses NaN/Infinity so we never emit what strict parsers reject."""
    return _ENCODERS[sort_keys, ascii_only].encode(obj)


# Built once, like the decoder below: json.dumps with any option set builds an encoder per
# call, which costs a third of encoding a small object.
_ENCODERS = {
    (sort_keys, ascii_only): json.JSONEncoder(
        separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=ascii_only, allow_nan=False
    )
    for sort_keys in (False, True)
    for ascii_only in (False, True)
}


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Different JSON parsers keep the first or the last duplicate; refusing them means the
    # value we verify is the value every other consumer of the token sees.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in JSON object")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError("non-standard JSON constant")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf without hitting parse_constant
        raise ValueError("non-finite JSON number")
    return value


# One decoder for every call: building a JSONDecoder per call costs more than parsing a
# typical header. It holds no state between calls.
_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
)


def _reject_unstorable(value: Any) -> None:
    """Refuse strings no database or UTF-8 encoder takes: lone surrogates and NUL. They can
    only arrive as ``\\u`` escapes, so callers run this only when the text has one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or any("\ud800" <= c <= "\udfff" for c in item):
                raise ValueError("JSON string with a NUL or a lone surrogate")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def json_loads(data: str | bytes, *, storable: bool = False) -> Any:
    """Parse JSON strictly: UTF-8 only, no duplicate keys, only finite numbers. With
    ``storable`` (request bodies), also no string holding a NUL or a lone surrogate, which no
    database or UTF-8 encoder accepts."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = _STRICT_DECODER.decode(text)
    except RecursionError as exc:  # absurd nesting must be bad input, not a crash
        raise ValueError("JSON nested too deeply") from exc
    if storable and "\\u" in text:
        _reject_unstorable(value)
    return value


def json_loads_object(data: str | bytes, *, storable: bool = False) -> dict[str, Any]:
    """Parse strict JSON that must be an object (headers, payloads, sealed plaintexts)."""
    value = json_loads(data, storable=storable)
    if not isinstance(value, dict):
        raise ValueError("JSON value is not an object")
    return value


def sha256_hex(text: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 text: SuperTokens' ``hashSHA256``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    """Compare secrets-derived strings without leaking where they first differ.

    Encoding first keeps ``hmac.compare_digest`` from raising on non-ASCII input.
    """
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
