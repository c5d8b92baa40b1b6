"""User metadata (SuperTokens' usermetadata recipe): one JSON object per user, updated by a
shallow merge in which a top-level ``None`` (JSON ``null``) removes the key."""

from __future__ import annotations

import math
from typing import Any

from tokenward.recipes.session.port import JsonObject
from tokenward.recipes.usermetadata.port import UserMetadataStore
from tokenward.shared.clock import Clock

MAX_USER_ID_LENGTH = 128  # the column size in shared/database/schema.py


def _user_id(user_id: object) -> str:
    if not isinstance(user_id, str):
        raise ValueError("userId must be a string")
    if "\x00" in user_id or len(user_id) > MAX_USER_ID_LENGTH:
        raise ValueError(f"userId must be at most {MAX_USER_ID_LENGTH} characters, without NUL")
    return user_id


def _check_json(value: Any, where: str) -> None:
    """Raise ValueError unless ``value`` is plain JSON: objects with string keys, lists,
    strings, finite numbers, booleans and null."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is not a finite number")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has a key that is not a string: {key!r}")
            _check_json(item, f"{where}.{key}")
        return
    raise ValueError(f"{where} is not a JSON value ({type(value).__name__})")


def _check_patch(patch: object) -> JsonObject:
    if not isinstance(patch, dict):
        raise ValueError("metadataUpdate must be a JSON object")
    _check_json(patch, "metadataUpdate")
    return patch


class UserMetadata:
    def __init__(self, store: UserMetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get(self, user_id: str) -> JsonObject:
        """The user's metadata; ``{}`` if none was stored."""
        return await self._store.get(_user_id(user_id))

    async def update(self, user_id: str, patch: JsonObject) -> JsonObject:
        """Merge ``patch`` into the user's metadata and return the result. Each top-level key
        replaces the stored value (nested objects are replaced whole); a top-level ``None``
        removes the key. Raises ValueError unless ``patch`` is a JSON object."""
        user = _user_id(user_id)
        checked = _check_patch(patch)
        return await self._store.update(user, checked, now=self._clock.now_ms())

    async def clear(self, user_id: str) -> None:
        """Remove all of the user's metadata."""
        await self._store.delete(_user_id(user_id))
