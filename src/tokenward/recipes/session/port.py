"""What the session use cases need from storage: the session row and its compare-and-swap
writes. Timestamps are milliseconds since the epoch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from tokenward.recipes.session.rules.session_row import Rotate as Rotate
from tokenward.recipes.session.rules.session_row import SessionRecord as SessionRecord
from tokenward.recipes.session.rules.session_row import SessionWrite as SessionWrite

JsonObject = dict[str, Any]
T = TypeVar("T")


class SessionStore(Protocol):
    async def create(self, session: SessionRecord) -> None: ...

    async def get(self, session_handle: str) -> SessionRecord | None: ...

    async def decide_and_write(
        self,
        session_handle: str,
        decide: Callable[[SessionRecord | None], tuple[T, SessionWrite]],
    ) -> tuple[T, bool]:
        """Read the session and apply the write ``decide`` makes of it, only if the row is
        still as ``decide`` saw it; when another writer changed it in between, ``decide`` runs
        again on the row as it now is. Returns ``decide``'s result and whether its write
        changed a row."""
        ...

    async def update_data(self, session_handle: str, data: JsonObject) -> bool: ...

    async def update_jwt_payload(self, session_handle: str, payload: JsonObject) -> bool: ...

    async def merge_jwt_payload(
        self, session_handle: str, patch: JsonObject, *, now: int
    ) -> JsonObject | None:
        """Merge ``patch`` into the stored payload in one transaction (a ``None`` value removes
        the key) and return the result; None if the session is gone or expired at ``now``.
        Concurrent merges of different keys all survive."""
        ...

    async def delete(self, session_handles: Sequence[str]) -> list[str]:
        """Delete these sessions; return the handles that existed."""
        ...

    async def delete_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]: ...

    async def handles_for_user(
        self, user_id: str, *, now: int, tenant_id: str | None = None
    ) -> list[str]:
        """Handles of the user's sessions that have not expired at ``now``."""
        ...

    async def delete_expired(self, now: int) -> int: ...
