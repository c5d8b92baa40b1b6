"""User metadata in SQL: one JSON object per user (SuperTokens' usermetadata recipe)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update

from tokenward.recipes.session.port import JsonObject
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import user_metadata
from tokenward.shared.database.sql import dump_json, insert_ignoring_conflicts, load_json

_METADATA = user_metadata.c["metadata"]


def merge_metadata(stored: Mapping[str, Any], patch: Mapping[str, Any]) -> JsonObject:
    """SuperTokens' update rule: a shallow merge where each top-level key of ``patch`` replaces
    the stored value (nested objects are replaced whole, not merged) and a top-level ``None``
    removes the key."""
    merged = dict(stored)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class SqlUserMetadataStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: str) -> JsonObject:
        async with self._db.read() as conn:
            result = await conn.execute(select(_METADATA).where(user_metadata.c.user_id == user_id))
            stored = result.scalar_one_or_none()
        return {} if stored is None else load_json(stored)

    async def update(self, user_id: str, patch: JsonObject, *, now: int) -> JsonObject:
        async with self._db.write() as conn:
            # Make sure the row exists, then lock it: concurrent updates of one user queue on
            # the row lock (on SQLite on the write lock) and each merges into the last result.
            await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, user_metadata).values(
                    user_id=user_id, metadata="{}", updated_at=now
                )
            )
            result = await conn.execute(
                select(_METADATA).where(user_metadata.c.user_id == user_id).with_for_update()
            )
            text = dump_json(merge_metadata(load_json(result.scalar_one()), patch))
            await conn.execute(
                update(user_metadata)
                .where(user_metadata.c.user_id == user_id)
                .values({_METADATA: text, user_metadata.c.updated_at: now})
            )
        return load_json(text)

    async def delete(self, user_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(user_metadata).where(user_metadata.c.user_id == user_id))
