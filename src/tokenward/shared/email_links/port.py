"""Storage of single-use link tokens (password reset, email verification), by hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OneTimeTokenRecord:
    token_hash: str
    purpose: str
    tenant_id: str
    user_id: str
    email: str
    created_at: int
    expires_at: int


class OneTimeTokenStore(Protocol):
    async def add(self, token: OneTimeTokenRecord) -> None: ...

    async def consume(
        self, token_hash: str, *, purpose: str, now: int
    ) -> OneTimeTokenRecord | None:
        """Delete and return the token if it exists, has this purpose and has not expired. Of
        two concurrent calls with one token, at most one gets it."""
        ...

    async def peek(self, token_hash: str, *, purpose: str, now: int) -> OneTimeTokenRecord | None:
        """The token if it exists, has this purpose and has not expired (nothing consumed)."""
        ...

    async def delete_for_user(self, purpose: str, user_id: str) -> int: ...

    async def delete_expired(self, now: int) -> int: ...
