"""One-time recovery codes: a set shown once, stored as keyed hashes, each usable once; a new
set revokes the old one. A code stands in for a lost second factor (``recovery-code`` in the
``st-mfa`` claim counts as any second factor)."""

from __future__ import annotations

import secrets

from tokenward.recipes.multifactorauth.port import RecoveryCodeStore
from tokenward.recipes.multifactorauth.rules import (
    RECOVERY_CODE_CHARS,
    normalise_recovery_code,
    recovery_code,
    recovery_code_hash,
)
from tokenward.shared.clock import Clock


class RecoveryCodes:
    def __init__(self, store: RecoveryCodeStore, clock: Clock, *, count: int) -> None:
        self._store = store
        self._clock = clock
        self.count = count

    async def issue(self, user_id: str) -> list[str]:
        """A new set (the only time the codes are seen); the old set stops working."""
        codes = [recovery_code(secrets.token_bytes(RECOVERY_CODE_CHARS)) for _ in range(self.count)]
        hashes = [recovery_code_hash(code, user_id) for code in codes]
        await self._store.replace(user_id, hashes, self._clock.now_ms())
        return codes

    async def use(self, user_id: str, typed: str) -> bool:
        """Whether ``typed`` is one of the user's unused codes (it is used up if so)."""
        if normalise_recovery_code(typed) is None:
            return False
        return await self._store.use(
            user_id, recovery_code_hash(typed, user_id), self._clock.now_ms()
        )

    async def revoke(self, user_id: str) -> None:
        """The user's codes stop working (the last authenticator they stood in for is gone)."""
        await self._store.replace(user_id, [], self._clock.now_ms())

    async def remaining(self, user_id: str) -> int:
        return await self._store.remaining(user_id)
