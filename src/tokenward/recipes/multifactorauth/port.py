"""What the multi-factor auth use cases need from storage: recovery codes."""

from __future__ import annotations

from typing import Protocol


class RecoveryCodeStore(Protocol):
    async def replace(self, user_id: str, code_hashes: list[str], now: int) -> None:
        """The user's codes become these (the old set is revoked), in one transaction."""
        ...

    async def use(self, user_id: str, code_hash: str, now: int) -> bool:
        """Mark the code used if it is the user's and unused: one conditional write, so a code
        is accepted once however many requests carry it."""
        ...

    async def remaining(self, user_id: str) -> int: ...
