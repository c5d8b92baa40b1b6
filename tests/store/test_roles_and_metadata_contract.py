"""The storage contract for roles and user metadata, on SQLite and on PostgreSQL (see
conftest.database_url)."""

from __future__ import annotations

import asyncio

from tokenward.app.stores import Stores

NOW = 1_700_000_000_000


# --- roles and permissions ---------------------------------------------------------------------


async def test_create_role_then_add_permissions(stores: Stores) -> None:
    roles = stores.roles
    assert await roles.create_or_add_permissions("admin", ["write", "read", "read"], now=NOW)
    assert await roles.permissions("admin") == ["read", "write"]
    assert not await roles.create_or_add_permissions("admin", ["delete", "read"], now=NOW + 1)
    assert await roles.permissions("admin") == ["delete", "read", "write"]
    assert await roles.create_or_add_permissions("viewer", [], now=NOW)
    assert await roles.permissions("viewer") == []
    assert await roles.permissions("missing") is None


async def test_all_roles_and_roles_with_a_permission_are_sorted(stores: Stores) -> None:
    roles = stores.roles
    assert await roles.all_roles() == []
    await roles.create_or_add_permissions("zeta", ["read"], now=NOW)
    await roles.create_or_add_permissions("alpha", ["read", "write"], now=NOW)
    await roles.create_or_add_permissions("mid", [], now=NOW)
    assert await roles.all_roles() == ["alpha", "mid", "zeta"]
    assert await roles.roles_with_permission("read") == ["alpha", "zeta"]
    assert await roles.roles_with_permission("write") == ["alpha"]
    assert await roles.roles_with_permission("nothing") == []


async def test_remove_permissions(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("admin", ["a", "b", "c"], now=NOW)
    assert await roles.remove_permissions("admin", ["a", "unknown"])
    assert await roles.permissions("admin") == ["b", "c"]
    assert await roles.remove_permissions("admin", [])
    assert await roles.permissions("admin") == ["b", "c"]
    assert await roles.remove_permissions("admin", None)
    assert await roles.permissions("admin") == [], "the role stays, without permissions"
    assert not await roles.remove_permissions("missing", ["a"])
    assert not await roles.remove_permissions("missing", [])
    assert not await roles.remove_permissions("missing", None)


async def test_delete_role_cascades_to_permissions_and_assignments(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("admin", ["write"], now=NOW)
    await roles.create_or_add_permissions("user", ["read"], now=NOW)
    await roles.add_user_role("public", "u1", "admin")
    await roles.add_user_role("public", "u1", "user")
    await roles.add_user_role("t2", "u2", "admin")
    assert await roles.delete_role("admin")
    assert not await roles.delete_role("admin")
    assert await roles.permissions("admin") is None
    assert await roles.roles_with_permission("write") == []
    assert await roles.user_roles("public", "u1") == ["user"]
    assert await roles.user_roles("t2", "u2") == []
    assert await roles.all_roles() == ["user"]
    # A role created again under the old name starts empty.
    assert await roles.create_or_add_permissions("admin", [], now=NOW)
    assert await roles.permissions("admin") == []
    assert await roles.users_with_role("t2", "admin") == []


async def test_parallel_creation_of_one_role_creates_it_once(stores: Stores) -> None:
    results = await asyncio.gather(
        *(
            stores.roles.create_or_add_permissions("admin", ["read", f"p{i % 3}"], now=NOW)
            for i in range(12)
        )
    )
    assert results.count(True) == 1
    assert await stores.roles.permissions("admin") == ["p0", "p1", "p2", "read"]


async def test_parallel_adds_of_the_same_permissions_do_not_fail(stores: Stores) -> None:
    await stores.roles.create_or_add_permissions("admin", [], now=NOW)
    results = await asyncio.gather(
        *(
            stores.roles.create_or_add_permissions("admin", ["write", "read"], now=NOW)
            for _ in range(12)
        )
    )
    assert results == [False] * 12
    assert await stores.roles.permissions("admin") == ["read", "write"]


async def test_role_deleted_while_permissions_are_added(stores: Stores) -> None:
    """Racing create-or-add against delete never raises: afterwards the role either exists
    with every permission that was added after its last deletion, or not at all."""
    await stores.roles.create_or_add_permissions("admin", ["read"], now=NOW)
    await asyncio.gather(
        *(
            stores.roles.create_or_add_permissions("admin", ["read", "write"], now=NOW)
            if i % 2
            else stores.roles.delete_role("admin")
            for i in range(10)
        )
    )
    permissions = await stores.roles.permissions("admin")
    assert permissions in (None, ["read", "write"])


# --- users' roles ------------------------------------------------------------------------------


async def test_add_and_list_user_roles_per_tenant(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("b-role", [], now=NOW)
    await roles.create_or_add_permissions("a-role", [], now=NOW)
    assert await roles.add_user_role("public", "u1", "b-role") == "added"
    assert await roles.add_user_role("public", "u1", "a-role") == "added"
    assert await roles.add_user_role("public", "u1", "a-role") == "already_exists"
    assert await roles.add_user_role("public", "u1", "missing") == "unknown_role"
    assert await roles.add_user_role("t2", "u1", "b-role") == "added"
    assert await roles.add_user_role("public", "external|123", "b-role") == "added", (
        "user ids need not exist in the users table"
    )
    assert await roles.user_roles("public", "u1") == ["a-role", "b-role"]
    assert await roles.user_roles("t2", "u1") == ["b-role"]
    assert await roles.user_roles("t3", "u1") == []
    assert await roles.user_roles("public", "nobody") == []


async def test_remove_user_role(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("admin", [], now=NOW)
    await roles.add_user_role("public", "u1", "admin")
    await roles.add_user_role("t2", "u1", "admin")
    assert await roles.remove_user_role("public", "u1", "admin") == "removed"
    assert await roles.remove_user_role("public", "u1", "admin") == "not_assigned"
    assert await roles.remove_user_role("public", "u1", "missing") == "unknown_role"
    assert await roles.user_roles("public", "u1") == []
    assert await roles.user_roles("t2", "u1") == ["admin"], "other tenants keep theirs"


async def test_users_with_role(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("admin", [], now=NOW)
    await roles.create_or_add_permissions("other", [], now=NOW)
    for user in ("u3", "u1", "u2"):
        await roles.add_user_role("public", user, "admin")
    await roles.add_user_role("t2", "u9", "admin")
    await roles.add_user_role("public", "u4", "other")
    assert await roles.users_with_role("public", "admin") == ["u1", "u2", "u3"]
    assert await roles.users_with_role("t2", "admin") == ["u9"]
    assert await roles.users_with_role("t3", "admin") == []
    assert await roles.users_with_role("public", "missing") is None


async def test_user_roles_and_permissions(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("editor", ["write", "read"], now=NOW)
    await roles.create_or_add_permissions("viewer", ["read"], now=NOW)
    await roles.create_or_add_permissions("empty", [], now=NOW)
    await roles.create_or_add_permissions("other", ["admin"], now=NOW)
    for role in ("viewer", "editor", "empty"):
        await roles.add_user_role("public", "u1", role)
    await roles.add_user_role("t2", "u1", "other")
    assert await roles.user_roles_and_permissions("public", "u1") == (
        ["editor", "empty", "viewer"],
        ["read", "write"],
    )
    assert await roles.user_roles_and_permissions("t2", "u1") == (["other"], ["admin"])
    assert await roles.user_roles_and_permissions("public", "nobody") == ([], [])


async def test_delete_user_drops_roles_in_all_tenants(stores: Stores) -> None:
    roles = stores.roles
    await roles.create_or_add_permissions("admin", [], now=NOW)
    await roles.create_or_add_permissions("user", [], now=NOW)
    await roles.add_user_role("public", "u1", "admin")
    await roles.add_user_role("public", "u1", "user")
    await roles.add_user_role("t2", "u1", "user")
    await roles.add_user_role("public", "u2", "user")
    assert await roles.delete_user("u1") == 3
    assert await roles.delete_user("u1") == 0
    assert await roles.user_roles("public", "u1") == []
    assert await roles.user_roles("t2", "u1") == []
    assert await roles.users_with_role("public", "user") == ["u2"]
    assert await roles.all_roles() == ["admin", "user"], "roles themselves stay"


async def test_parallel_adds_of_one_user_role_add_it_once(stores: Stores) -> None:
    await stores.roles.create_or_add_permissions("admin", [], now=NOW)
    results = await asyncio.gather(
        *(stores.roles.add_user_role("public", "u1", "admin") for _ in range(12))
    )
    assert sorted(results) == ["added"] + ["already_exists"] * 11
    assert await stores.roles.user_roles("public", "u1") == ["admin"]


async def test_user_role_added_while_the_role_is_deleted(stores: Stores) -> None:
    """Adding races deleting: no foreign-key error escapes, and no assignment outlives its
    role."""
    await stores.roles.create_or_add_permissions("admin", [], now=NOW)
    outcomes = await asyncio.gather(
        *(
            stores.roles.add_user_role("public", f"u{i}", "admin")
            if i % 3
            else stores.roles.delete_role("admin")
            for i in range(12)
        )
    )
    assert {o for o in outcomes if isinstance(o, str)} <= {"added", "unknown_role"}
    assert await stores.roles.users_with_role("public", "admin") is None
    assert await stores.roles.user_roles_and_permissions("public", "u1") == ([], [])


# --- user metadata -----------------------------------------------------------------------------


async def test_metadata_of_an_unknown_user_is_empty(stores: Stores) -> None:
    assert await stores.user_metadata.get("nobody") == {}


async def test_metadata_update_merges_at_the_top_level(stores: Stores) -> None:
    meta = stores.user_metadata
    stored = {"preferences": {"theme": "dark"}, "notifications": {"email": True}, "todos": ["x"]}
    assert await meta.update("u1", stored, now=NOW) == stored
    # The spec's example: nested objects are replaced, null removes a top-level key.
    result = await meta.update(
        "u1", {"notifications": {"sms": True}, "todos": None, "absent": None}, now=NOW + 1
    )
    expected = {"preferences": {"theme": "dark"}, "notifications": {"sms": True}}
    assert result == expected
    assert await meta.get("u1") == expected
    # Nested nulls are values like any other.
    assert await meta.update("u1", {"preferences": {"theme": None}}, now=NOW + 2) == {
        "preferences": {"theme": None},
        "notifications": {"sms": True},
    }


async def test_metadata_round_trips_json_values(stores: Stores) -> None:
    value = {"name": "Zoë \u0000 ✓", "n": 1.5, "big": 2**53, "flag": False, "list": [1, None, "a"]}
    assert await stores.user_metadata.update("u1", value, now=NOW) == value
    assert await stores.user_metadata.get("u1") == value


async def test_metadata_update_with_an_empty_patch(stores: Stores) -> None:
    meta = stores.user_metadata
    assert await meta.update("u1", {}, now=NOW) == {}
    await meta.update("u1", {"a": 1}, now=NOW)
    assert await meta.update("u1", {}, now=NOW) == {"a": 1}


async def test_metadata_is_per_user_and_deletable(stores: Stores) -> None:
    meta = stores.user_metadata
    await meta.update("u1", {"a": 1}, now=NOW)
    await meta.update("u2", {"b": 2}, now=NOW)
    await meta.delete("u1")
    await meta.delete("never-had-any")
    assert await meta.get("u1") == {}
    assert await meta.get("u2") == {"b": 2}
    assert await meta.update("u1", {"c": 3}, now=NOW) == {"c": 3}


async def test_parallel_metadata_updates_of_different_keys_are_all_kept(stores: Stores) -> None:
    # First-time updates race on creating the row...
    await asyncio.gather(
        *(stores.user_metadata.update("u1", {f"k{i}": i}, now=NOW) for i in range(10))
    )
    assert await stores.user_metadata.get("u1") == {f"k{i}": i for i in range(10)}
    # ...and later ones on the existing row, removals included.
    await asyncio.gather(
        *(
            stores.user_metadata.update("u1", {f"k{i}": None, f"n{i}": [i]}, now=NOW)
            for i in range(0, 10, 2)
        )
    )
    expected = {f"k{i}": i for i in range(1, 10, 2)} | {f"n{i}": [i] for i in range(0, 10, 2)}
    assert await stores.user_metadata.get("u1") == expected
