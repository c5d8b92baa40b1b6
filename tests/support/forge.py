"""Hand-made JWTs for attack tests: re-sign a real access token's header and payload with any
changes, with our signing key, an attacker's key, an HMAC secret, or no signature at all."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tokenward.shared.encoding import b64url_decode, b64url_encode

HMAC_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def segment(value: Any) -> str:
    """base64url of bytes, of text, or of compact JSON."""
    if isinstance(value, bytes):
        return b64url_encode(value)
    if isinstance(value, str):
        return b64url_encode(value.encode())
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and payload of a compact JWT, unverified."""
    header_b64, payload_b64, _ = token.split(".")
    return json.loads(b64url_decode(header_b64)), json.loads(b64url_decode(payload_b64))


def patched(
    token: str, header: dict[str, Any] | None = None, payload: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``token``'s header and payload with keys replaced; a value of None deletes the key."""
    old_header, old_payload = parts(token)
    return _merged(old_header, header or {}), _merged(old_payload, payload or {})


def _merged(old: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = {**old, **patch}
    return {k: v for k, v in merged.items() if k not in patch or patch[k] is not None}


def rs256(header: Any, payload: Any, key: RSAPrivateKey) -> str:
    """Header and payload as given (JSON values, text or raw bytes), signed RS256."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{segment(signature)}"


def hmac_signed(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    digest = HMAC_DIGESTS[header["alg"]]
    return f"{signing_input}.{segment(hmac.new(secret, signing_input.encode(), digest).digest())}"


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: str = "") -> str:
    return f"{segment(header)}.{segment(payload)}.{signature}"
