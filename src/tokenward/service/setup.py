"""Wiring the services from settings and open stores (used by the server and by embedding)."""

from __future__ import annotations

from dataclasses import dataclass

from tokenward.config import Settings
from tokenward.core import refresh_token
from tokenward.core.cookie_policy import AntiCsrfMode
from tokenward.core.encoding import b64url_decode, b64url_encode
from tokenward.service.clock import Clock
from tokenward.service.session_types import SessionPolicy
from tokenward.service.sessions import SessionService
from tokenward.service.signing_keys import KeyRing
from tokenward.store import Stores

REFRESH_KEY_SECRET = "refresh_token_key"  # noqa: S105 - the name of a stored secret


@dataclass(frozen=True, slots=True)
class Services:
    sessions: SessionService
    keys: KeyRing


def key_ring(settings: Settings, stores: Stores, clock: Clock) -> KeyRing:
    return KeyRing(
        stores.signing_keys,
        clock,
        rotation_interval_ms=settings.signing_key_rotation_interval * 3_600_000,
        access_token_validity_ms=settings.access_token_validity * 1000,
    )


async def open_services(settings: Settings, stores: Stores, clock: Clock) -> Services:
    """Load the keys (making the first signing key if there is none) and the refresh-token
    sealing key (made once per deployment, shared by every instance)."""
    keys = key_ring(settings, stores, clock)
    await keys.reload()
    await keys.signing_key()
    stored = await stores.secrets.get_or_create(
        REFRESH_KEY_SECRET, b64url_encode(refresh_token.new_key()), now=clock.now_ms()
    )
    policy = SessionPolicy(
        access_token_validity_ms=settings.access_token_validity * 1000,
        refresh_token_validity_ms=settings.refresh_token_validity * 1000,
        issuer=settings.api_domain + settings.api_base_path,
        anti_csrf_tokens=settings.effective_anti_csrf is AntiCsrfMode.VIA_TOKEN,
    )
    sessions = SessionService(stores.sessions, keys, b64url_decode(stored), policy, clock)
    return Services(sessions=sessions, keys=keys)
