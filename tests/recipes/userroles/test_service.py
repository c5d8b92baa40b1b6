"""The roles service over real stores (SQLite and PostgreSQL): names, outcomes and the
``st-role`` / ``st-perm`` claims."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.clock import FakeClock
from tokenward.app.stores import Stores
from tokenward.recipes.userroles.service import PERMISSIONS_CLAIM, ROLES_CLAIM, Roles
from tokenward.shared.claims import validate_all


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def roles(stores: Stores, clock: FakeClock) -> Roles:
    return Roles(stores.roles, clock)


async def test_claims_payload_carries_sorted_roles_and_unique_permissions(
    roles: Roles, clock: FakeClock
) -> None:
    await roles.create_or_add_permissions("editor", ["write", "read"])
    await roles.create_or_add_permissions("viewer", ["read"])
    await roles.create_or_add_permissions("empty")
    for role in ("viewer", "editor", "empty"):
        assert await roles.add_user_role("public", "u1", role) == "added"
    now = clock.now_ms() + 5
    payload = await roles.claims_payload("public", "u1", now)
    assert payload == {
        "st-role": {"v": ["editor", "empty", "viewer"], "t": now},
        "st-perm": {"v": ["read", "write"], "t": now},
    }
    assert ROLES_CLAIM.value(payload) == ["editor", "empty", "viewer"]
    assert PERMISSIONS_CLAIM.value(payload) == ["read", "write"]
    validators = [ROLES_CLAIM.includes("editor"), PERMISSIONS_CLAIM.includes_all(["read", "write"])]
    assert validate_all(payload, validators, now) == []


async def test_claims_payload_is_per_tenant_and_empty_without_roles(roles: Roles) -> None:
    await roles.create_or_add_permissions("admin", ["all"])
    await roles.add_user_role("t2", "u1", "admin")
    assert await roles.claims_payload("public", "u1", 7) == {
        "st-role": {"v": [], "t": 7},
        "st-perm": {"v": [], "t": 7},
    }
    assert await roles.claims_payload("t2", "u1", 7) == {
        "st-role": {"v": ["admin"], "t": 7},
        "st-perm": {"v": ["all"], "t": 7},
    }


async def test_claims_follow_role_and_permission_changes(roles: Roles) -> None:
    await roles.create_or_add_permissions("admin", ["read"])
    await roles.add_user_role("public", "u1", "admin")
    await roles.create_or_add_permissions("admin", ["write"])
    payload = await roles.claims_payload("public", "u1", 1)
    assert PERMISSIONS_CLAIM.value(payload) == ["read", "write"]
    await roles.remove_permissions("admin", ["read"])
    payload = await roles.claims_payload("public", "u1", 2)
    assert PERMISSIONS_CLAIM.value(payload) == ["write"]
    assert await roles.delete_role("admin")
    assert await roles.claims_payload("public", "u1", 3) == {
        "st-role": {"v": [], "t": 3},
        "st-perm": {"v": [], "t": 3},
    }


async def test_role_operations_pass_through(roles: Roles) -> None:
    assert await roles.create_or_add_permissions("admin", ["read"])
    assert not await roles.create_or_add_permissions("admin", ["write"])
    assert await roles.permissions("admin") == ["read", "write"]
    assert await roles.permissions("missing") is None
    assert await roles.all_roles() == ["admin"]
    assert await roles.roles_with_permission("write") == ["admin"]
    assert await roles.add_user_role("public", "u1", "admin") == "added"
    assert await roles.add_user_role("public", "u1", "admin") == "already_exists"
    assert await roles.add_user_role("public", "u1", "missing") == "unknown_role"
    assert await roles.user_roles("public", "u1") == ["admin"]
    assert await roles.users_with_role("public", "admin") == ["u1"]
    assert await roles.users_with_role("public", "missing") is None
    assert await roles.remove_user_role("public", "u1", "admin") == "removed"
    assert await roles.remove_user_role("public", "u1", "admin") == "not_assigned"
    assert await roles.remove_user_role("public", "u1", "missing") == "unknown_role"
    await roles.add_user_role("t2", "u1", "admin")
    assert await roles.delete_user("u1") == 1
    assert await roles.remove_permissions("admin")
    assert await roles.permissions("admin") == []
    assert not await roles.remove_permissions("missing")


async def test_role_and_permission_names_are_trimmed(roles: Roles) -> None:
    assert await roles.create_or_add_permissions("  admin ", [" read", "write  "])
    assert await roles.all_roles() == ["admin"]
    assert await roles.permissions(" admin") == ["read", "write"]
    assert await roles.add_user_role("public", "u1", "admin  ") == "added"
    assert await roles.user_roles("public", "u1") == ["admin"]
    assert await roles.roles_with_permission(" read ") == ["admin"]


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.create_or_add_permissions("   "),
        lambda r: r.create_or_add_permissions("admin", ["ok", " "]),
        lambda r: r.create_or_add_permissions("admin", "read"),
        lambda r: r.create_or_add_permissions("admin", [1]),
        lambda r: r.create_or_add_permissions("x" * 256),
        lambda r: r.create_or_add_permissions("a\x00b"),
        lambda r: r.permissions(""),
        lambda r: r.remove_permissions("admin", [""]),
        lambda r: r.delete_role(" "),
        lambda r: r.roles_with_permission(""),
        lambda r: r.add_user_role("public", "u1", ""),
        lambda r: r.add_user_role("public", "u" * 129, "admin"),
        lambda r: r.add_user_role("t" * 65, "u1", "admin"),
        lambda r: r.remove_user_role("public", 5, "admin"),
        lambda r: r.users_with_role("public", " "),
        lambda r: r.user_roles("public", "u\x00"),
        lambda r: r.claims_payload("public", "u" * 129, 1),
    ],
)
async def test_bad_names_are_value_errors_not_database_errors(roles: Roles, call: Any) -> None:
    with pytest.raises(ValueError):
        await call(roles)
    assert await roles.all_roles() == []


async def test_longest_allowed_names_are_stored(roles: Roles) -> None:
    role, permission, user = "r" * 255, "p" * 255, "u" * 128
    assert await roles.create_or_add_permissions(role, [permission])
    assert await roles.add_user_role("t" * 64, user, role) == "added"
    assert await roles.claims_payload("t" * 64, user, 1) == {
        "st-role": {"v": [role], "t": 1},
        "st-perm": {"v": [permission], "t": 1},
    }
