"""One JSON object per user."""

from __future__ import annotations

from typing import Any, Protocol

JsonObject = dict[str, Any]


class UserMetadataStore(Protocol):
    """One JSON object per user."""

    async def get(self, user_id: str) -> JsonObject:
        """The user's metadata; an empty object if none is stored."""
        ...

    async def update(self, user_id: str, patch: JsonObject, *, now: int) -> JsonObject:
        """Merge ``patch`` into the stored object and return the result, in one transaction:
        top-level keys of the patch replace stored ones (nested objects are replaced, not
        merged) and a top-level ``None`` removes the key. Concurrent updates of different keys
        are all kept."""
        ...

    async def delete(self, user_id: str) -> None: ...
