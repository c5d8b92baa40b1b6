"""The key ring: access-token signing keys shared by every instance through the database.

Verification reads an in-memory map (no I/O). Signing checks the schedule and, when a key is
due, reloads from the database (another instance may have made it) before generating one. A
token naming an unknown kid triggers a reload at most every ``UNKNOWN_KID_RELOAD_MS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from tokenward.recipes.jwt import rules as schedule
from tokenward.recipes.jwt.port import SigningKeyRecord, SigningKeyStore
from tokenward.recipes.jwt.rules import KeyInfo
from tokenward.shared.clock import Clock

UNKNOWN_KID_RELOAD_MS = 500
JWKS_RELOAD_MS = 1000
"""How stale the published JWKS may be: it is public and unauthenticated, so it must not cost a
database query per request, yet a key made by another instance should appear within a second."""


@dataclass(frozen=True, slots=True)
class _Key:
    info: KeyInfo
    private: RSAPrivateKey
    public: RSAPublicKey


class KeyRing:
    def __init__(
        self,
        store: SigningKeyStore,
        clock: Clock,
        *,
        rotation_interval_ms: int,
        access_token_validity_ms: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rotation_interval_ms = rotation_interval_ms
        self._validity_ms = access_token_validity_ms
        self._keys: dict[str, _Key] = {}
        self._public: dict[str, RSAPublicKey] = {}
        self._last_reload_ms = -UNKNOWN_KID_RELOAD_MS
        self._lock = asyncio.Lock()

    @property
    def public_keys(self) -> Mapping[str, RSAPublicKey]:
        """Every loaded key that may still verify a live token, by kid."""
        return self._public

    async def reload(self) -> None:
        records = await self._store.all()
        known = dict(self._keys)
        fresh: dict[str, _Key] = {}
        for record in records:
            fresh[record.kid] = known.get(record.kid) or _parse(record)
        self._keys = fresh
        now = self._clock.now_ms()
        self._last_reload_ms = now
        live = {k.kid for k in self._verifiable(now)}
        self._public = {kid: key.public for kid, key in fresh.items() if kid in live}

    async def reload_for_unknown_kid(self) -> bool:
        """Reload unless that happened very recently; True if a reload ran."""
        if self._clock.now_ms() - self._last_reload_ms < UNKNOWN_KID_RELOAD_MS:
            return False
        await self.reload()
        return True

    async def signing_key(self) -> tuple[str, RSAPrivateKey]:
        """The key to sign with now, creating the next key first when one is due."""
        now = self._clock.now_ms()
        if self._due(now):
            async with self._lock:
                if self._due(now):
                    await self.reload()
                if self._due(now):
                    await self._create(now)
                    await self.reload()
        info = schedule.signing_key(self._infos(), now)
        return info.kid, self._keys[info.kid].private

    async def rotate(self) -> str:
        """Create a new key now (the CLI's `keys rotate`); it signs once the overlap passed."""
        async with self._lock:
            kid = await self._create(self._clock.now_ms())
            await self.reload()
        return kid

    async def jwks(self) -> tuple[dict[str, Any], int]:
        """The JWKS document from the current keys (reloaded at most every JWKS_RELOAD_MS), and
        its max-age in seconds."""
        if self._clock.now_ms() - self._last_reload_ms >= JWKS_RELOAD_MS:
            await self.reload()
        now = self._clock.now_ms()
        keys = [
            schedule.public_jwk(info.kid, self._keys[info.kid].public)
            for info in self._verifiable(now)
        ]
        max_age = schedule.jwks_max_age_s(
            self._infos(), now, rotation_interval_ms=self._rotation_interval_ms
        )
        return {"keys": keys}, max_age

    async def _create(self, now: int) -> str:
        private = await asyncio.to_thread(schedule.generate_rsa_private_key)
        info = KeyInfo.dynamic(now)
        await self._store.add(
            SigningKeyRecord(
                kid=info.kid,
                algorithm="RS256",
                private_key=schedule.private_key_to_pem(private),
                created_at=now,
            )
        )
        return info.kid

    def _due(self, now: int) -> bool:
        return schedule.needs_new_key(
            self._infos(), now, rotation_interval_ms=self._rotation_interval_ms
        )

    def _infos(self) -> list[KeyInfo]:
        return [key.info for key in self._keys.values()]

    def _verifiable(self, now: int) -> list[KeyInfo]:
        return schedule.verifiable_keys(
            self._infos(),
            now,
            rotation_interval_ms=self._rotation_interval_ms,
            access_token_validity_ms=self._validity_ms,
        )

    def retired_before(self) -> int | None:
        """Creation time before which stored keys can no longer verify anything."""
        now = self._clock.now_ms()
        live = self._verifiable(now)
        if not live:
            return None
        return min(k.created_at_ms for k in live)


def _parse(record: SigningKeyRecord) -> _Key:
    private = schedule.load_private_key_pem(record.private_key)
    return _Key(KeyInfo(record.kid, record.created_at), private, private.public_key())
