"""Building a session service over real stores, for tests."""

from __future__ import annotations

from tokenward.app.stores import Stores
from tokenward.recipes.jwt.service import KeyRing
from tokenward.recipes.session.rules import refresh_token
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.service.sessions import SessionService
from tokenward.shared.clock import Clock

ACCESS_MS = 3_600_000
REFRESH_MS = 100 * 24 * ACCESS_MS
ROTATION_MS = 168 * ACCESS_MS
ISSUER = "http://localhost:3567/auth"


def key_ring(stores: Stores, clock: Clock) -> KeyRing:
    return KeyRing(
        stores.signing_keys,
        clock,
        rotation_interval_ms=ROTATION_MS,
        access_token_validity_ms=ACCESS_MS,
    )


def session_service(
    stores: Stores, clock: Clock, *, anti_csrf_tokens: bool = False, key: bytes | None = None
) -> SessionService:
    return SessionService(
        stores.sessions,
        key_ring(stores, clock),
        key or refresh_token.new_key(),
        SessionPolicy(
            access_token_validity_ms=ACCESS_MS,
            refresh_token_validity_ms=REFRESH_MS,
            issuer=ISSUER,
            anti_csrf_tokens=anti_csrf_tokens,
        ),
        clock,
    )
