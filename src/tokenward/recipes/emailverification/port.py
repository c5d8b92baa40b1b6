"""Which (user, email) pairs are verified, and the token consumption that verifies one."""

from __future__ import annotations

from typing import Protocol

from tokenward.shared.email_links.port import OneTimeTokenRecord


class EmailVerificationStore(Protocol):
    async def mark_verified(self, user_id: str, email: str, *, now: int) -> None: ...

    async def verify_with_token(self, token_hash: str, *, now: int) -> OneTimeTokenRecord | None:
        """In one transaction: consume an email-verification token, mark its (user, email)
        verified and drop that pair's other verification tokens. None if the token is unknown,
        expired or already used."""
        ...

    async def unmark_verified(self, user_id: str, email: str) -> None: ...

    async def is_verified(self, user_id: str, email: str) -> bool: ...
