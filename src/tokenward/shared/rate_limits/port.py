"""Counters shared by every instance, behind the rate limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tokenward.shared.rate_limits.rules import Backoff, Counter, Window


class RateLimitStore(Protocol):
    """Counters shared by every instance; each hit is one atomic statement."""

    async def hit_window(self, key: str, window: Window, *, now: int, hits: int = 1) -> Counter:
        """Count ``hits`` hits together, if all of them fit in the window's budget."""
        ...

    async def hit_in_turn(
        self, hits: Sequence[tuple[str, Window | Backoff]], *, now: int
    ) -> list[Counter]:
        """One hit on each key in order, up to and including the first refused one."""
        ...

    async def reset(self, keys: Sequence[str]) -> None: ...

    async def reset_and_refund(self, keys: Sequence[str], key: str, *, until: int) -> None:
        """Forget ``keys``, and take back one hit on ``key`` if its window still ends at
        ``until``."""
        ...

    async def delete_expired(self, now: int) -> int: ...
