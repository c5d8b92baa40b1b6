"""A session as stored (one row per session), and the writes a refresh can make to it.
Timestamps are milliseconds since the epoch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_handle: str
    tenant_id: str
    user_id: str
    recipe_user_id: str
    refresh_token_hash2: str
    session_data: JsonObject
    jwt_payload: JsonObject
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Rotate:
    """Set a session's refresh hash and expiry, if its hash is still ``expected_hash2``."""

    expected_hash2: str
    new_hash2: str
    expires_at: int


SessionWrite = Rotate | Literal["revoke"] | None
"""What a refresh does to the session row it read: rotate it, delete it, or nothing."""
