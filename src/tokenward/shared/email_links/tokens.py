"""Single-use tokens for links sent by email: random, stored only as a hash, scoped to a tenant
and a purpose, and expiring."""

from __future__ import annotations

import secrets

from tokenward.shared.clock import Clock
from tokenward.shared.email_links.port import OneTimeTokenRecord, OneTimeTokenStore
from tokenward.shared.encoding import sha256_hex


class InvalidToken(Exception):
    """A reset or verification token that is unknown, expired, used, or for another tenant."""


TOKEN_BYTES = 32  # 256 bits


def new_link_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


token_hash = sha256_hex


class LinkTokens:
    """The tokens of one purpose (password reset, email verification)."""

    def __init__(
        self, store: OneTimeTokenStore, purpose: str, validity_ms: int, clock: Clock
    ) -> None:
        self._store = store
        self.purpose = purpose
        self.validity_ms = validity_ms
        self._clock = clock

    async def issue(self, tenant_id: str, user_id: str, email: str) -> str:
        """A new token for (user, email); only its hash is stored."""
        token = new_link_token()
        now = self._clock.now_ms()
        await self._store.add(
            OneTimeTokenRecord(
                token_hash=token_hash(token),
                purpose=self.purpose,
                tenant_id=tenant_id,
                user_id=user_id,
                email=email,
                created_at=now,
                expires_at=now + self.validity_ms,
            )
        )
        return token

    async def find(self, tenant_id: str, token: str) -> tuple[str, OneTimeTokenRecord]:
        """The token's hash and record, without using it up. Raises InvalidToken when it is
        unknown, expired, used, or belongs to another tenant."""
        hashed = token_hash(token)
        found = await self._store.peek(hashed, purpose=self.purpose, now=self._clock.now_ms())
        if found is None or found.tenant_id != tenant_id:
            raise InvalidToken
        return hashed, found

    async def consume(self, tenant_id: str, token: str) -> OneTimeTokenRecord:
        """Use the token up (at most one caller succeeds). Raises InvalidToken."""
        hashed, _ = await self.find(tenant_id, token)
        used = await self._store.consume(hashed, purpose=self.purpose, now=self._clock.now_ms())
        if used is None:
            raise InvalidToken
        return used
