"""The user-metadata service over real stores (SQLite and PostgreSQL): SuperTokens' merge rule
and input checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.clock import FakeClock
from tokenward.app.stores import Stores
from tokenward.recipes.usermetadata.service import UserMetadata
from tokenward.recipes.usermetadata.sql import merge_metadata


@pytest.fixture
def metadata(stores: Stores) -> UserMetadata:
    return UserMetadata(stores.user_metadata, FakeClock())


async def test_get_without_metadata_is_an_empty_object(metadata: UserMetadata) -> None:
    assert await metadata.get("u1") == {}


async def test_update_follows_the_cdi_example(metadata: UserMetadata) -> None:
    await metadata.update(
        "u1",
        {"preferences": {"theme": "dark"}, "notifications": {"email": True}, "todos": ["example"]},
    )
    result = await metadata.update("u1", {"notifications": {"sms": True}, "todos": None})
    assert result == {"preferences": {"theme": "dark"}, "notifications": {"sms": True}}
    assert await metadata.get("u1") == result


async def test_null_removes_only_top_level_keys(metadata: UserMetadata) -> None:
    await metadata.update("u1", {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]})
    result = await metadata.update("u1", {"a": None, "b": {"c": None}, "e": [None], "z": None})
    assert result == {"b": {"c": None}, "e": [None]}, "nested objects are replaced, not merged"


async def test_other_keys_are_kept_and_values_replaced(metadata: UserMetadata) -> None:
    await metadata.update("u1", {"a": 1, "b": "x"})
    assert await metadata.update("u1", {"b": {"new": True}, "c": False}) == {
        "a": 1,
        "b": {"new": True},
        "c": False,
    }


async def test_clear(metadata: UserMetadata) -> None:
    await metadata.update("u1", {"a": 1})
    await metadata.update("u2", {"a": 2})
    await metadata.clear("u1")
    await metadata.clear("u1")
    assert await metadata.get("u1") == {}
    assert await metadata.get("u2") == {"a": 2}


async def test_returned_metadata_is_a_copy(metadata: UserMetadata) -> None:
    patch: dict[str, Any] = {"list": [1]}
    result = await metadata.update("u1", patch)
    result["list"].append(2)
    patch["list"].append(3)
    assert await metadata.get("u1") == {"list": [1]}


async def test_parallel_updates_of_different_keys_are_all_kept(metadata: UserMetadata) -> None:
    await asyncio.gather(*(metadata.update("u1", {f"k{i}": {"i": i}}) for i in range(8)))
    assert await metadata.get("u1") == {f"k{i}": {"i": i} for i in range(8)}


@pytest.mark.parametrize(
    "patch",
    [
        None,
        [],
        ["a"],
        "text",
        1,
        {1: "int key"},
        {"nested": {2: "int key"}},
        {"nan": float("nan")},
        {"inf": [float("inf")]},
        {"set": {1, 2}},
        {"tuple": (1, 2)},
        {"bytes": b"x"},
        {"object": object()},
    ],
)
async def test_patches_that_are_not_json_objects_are_refused(
    metadata: UserMetadata, patch: Any
) -> None:
    await metadata.update("u1", {"keep": True})
    with pytest.raises(ValueError):
        await metadata.update("u1", patch)
    assert await metadata.get("u1") == {"keep": True}


@pytest.mark.parametrize("user_id", [None, 5, "u" * 129, "a\x00b"])
async def test_bad_user_ids_are_refused(metadata: UserMetadata, user_id: Any) -> None:
    with pytest.raises(ValueError):
        await metadata.get(user_id)
    with pytest.raises(ValueError):
        await metadata.update(user_id, {"a": 1})
    with pytest.raises(ValueError):
        await metadata.clear(user_id)


async def test_longest_user_id_is_accepted(metadata: UserMetadata) -> None:
    assert await metadata.update("u" * 128, {"a": 1}) == {"a": 1}


def test_merge_rule_without_a_database() -> None:
    stored = {"a": {"x": 1}, "b": 2}
    assert merge_metadata(stored, {"a": {"y": 2}, "b": None, "c": 0}) == {"a": {"y": 2}, "c": 0}
    assert stored == {"a": {"x": 1}, "b": 2}, "the stored object is not modified"
    assert merge_metadata({}, {"gone": None}) == {}
