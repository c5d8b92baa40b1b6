"""The ``front-token`` response header: how frontends learn the session without the JWT.

In cookie mode the access token is HttpOnly, so SuperTokens' frontends read the user id,
the access-token expiry and the payload from this header instead. They decode it with
``JSON.parse(decodeURIComponent(escape(atob(v))))``, which dictates standard (not URL-safe)
padded base64 of UTF-8 JSON. We write it byte for byte as the python SDK does: sorted keys,
compact separators, ASCII-escaped JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.shared.encoding import b64_decode, b64_encode, json_dumps, json_loads_object

REMOVE = "remove"
"""The header value that tells the frontend the session is gone and to drop its state."""


@dataclass(frozen=True, slots=True)
class FrontToken:
    """A decoded front-token."""

    user_id: str
    """``uid``: the primary user id."""
    access_token_expiry_ms: int
    """``ate``: a whole second, in milliseconds."""
    payload: dict[str, Any]
    """``up``: the full access-token payload, protected claims included."""


def encode(user_id: str, access_token_expiry_ms: int, payload: Mapping[str, Any]) -> str:
    """Build the header value; ``payload`` is the complete JWT payload."""
    document = {"uid": user_id, "ate": access_token_expiry_ms, "up": dict(payload)}
    return b64_encode(json_dumps(document, sort_keys=True, ascii_only=True).encode("ascii"))


def decode(value: str) -> FrontToken:
    """Parse a header value (for tests and our Python client); raises ``ValueError``."""
    document = json_loads_object(b64_decode(value))
    user_id = document.get("uid")
    expiry = document.get("ate")
    payload = document.get("up")
    if (
        not isinstance(user_id, str)
        or type(expiry) is not int
        or not isinstance(payload, dict)
        or set(document) != {"uid", "ate", "up"}
    ):
        raise ValueError("not a front-token")
    return FrontToken(user_id=user_id, access_token_expiry_ms=expiry, payload=payload)
