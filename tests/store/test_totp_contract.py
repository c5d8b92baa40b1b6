"""The TOTP store's contract, on SQLite and PostgreSQL: devices (put, rename, remove), a code's
time step spent once and only forward, and the failed-attempt counter with its lock, also under
parallel requests (MFA-01, MFA-02)."""

from __future__ import annotations

import asyncio

import pytest

from tokenward.app.stores import Stores
from tokenward.recipes.totp.errors import DeviceAlreadyExists, UnknownDevice, UnknownUser
from tokenward.recipes.totp.port import Charged, DeviceRecord, Locked
from tokenward.recipes.totp.rules import AttemptBudget

NOW = 1_700_000_000_000
BUDGET = AttemptBudget(max_attempts=5, cooldown_ms=900_000)


async def new_user(stores: Stores, user_id: str = "u1") -> str:
    await stores.users.create_email_password_user(
        user_id=user_id,
        tenant_id="public",
        email=f"{user_id}@example.com",
        password_hash="$argon2id$x",
        now=NOW,
    )
    return user_id


def device(
    name: str = "phone",
    *,
    user_id: str = "u1",
    verified: bool = False,
    secret: str = "v1.sealed.one",
    created_at: int = NOW,
) -> DeviceRecord:
    return DeviceRecord(
        user_id=user_id,
        name=name,
        sealed_secret=secret,
        period=30,
        digits=6,
        skew=1,
        verified=verified,
        created_at=created_at,
        last_step=None,
    )


async def test_put_device_round_trips_and_lists_oldest_first(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device("b", created_at=NOW + 1))
    await stores.totp.put_device(device("a", created_at=NOW + 2))
    listed = await stores.totp.devices("u1")
    assert [d.name for d in listed] == ["b", "a"]
    assert listed[0] == device("b", created_at=NOW + 1)
    assert await stores.totp.devices("nobody") == []


async def test_put_device_replaces_an_unverified_device_of_the_same_name(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device(secret="v1.sealed.old"))
    await stores.totp.put_device(device(secret="v1.sealed.new", created_at=NOW + 5))
    [only] = await stores.totp.devices("u1")
    assert (only.sealed_secret, only.created_at, only.verified) == ("v1.sealed.new", NOW + 5, False)


async def test_put_device_refuses_the_name_of_a_verified_device(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device(secret="v1.sealed.kept"))
    assert await stores.totp.accept("u1", "phone", 10, verify=True) is False
    with pytest.raises(DeviceAlreadyExists):
        await stores.totp.put_device(device(secret="v1.sealed.intruder"))
    [only] = await stores.totp.devices("u1")
    assert (only.sealed_secret, only.verified, only.last_step) == ("v1.sealed.kept", True, 10)


async def test_put_device_for_an_unknown_user_raises(stores: Stores) -> None:
    with pytest.raises(UnknownUser):
        await stores.totp.put_device(device(user_id="ghost"))
    assert await stores.totp.devices("ghost") == []


async def test_devices_are_per_user(stores: Stores) -> None:
    await new_user(stores, "u1")
    await new_user(stores, "u2")
    await stores.totp.put_device(device(user_id="u1"))
    await stores.totp.accept("u1", "phone", 1, verify=True)
    await stores.totp.put_device(device(user_id="u2"))  # same name, other user: fine
    assert [d.verified for d in await stores.totp.devices("u2")] == [False]


async def test_rename_device(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device("a"))
    await stores.totp.put_device(device("b", created_at=NOW + 1))
    await stores.totp.rename_device("u1", "a", "c")
    assert [d.name for d in await stores.totp.devices("u1")] == ["c", "b"]
    with pytest.raises(DeviceAlreadyExists):
        await stores.totp.rename_device("u1", "c", "b")
    with pytest.raises(UnknownDevice):
        await stores.totp.rename_device("u1", "missing", "d")
    assert sorted(d.name for d in await stores.totp.devices("u1")) == ["b", "c"]


async def test_remove_device_returns_the_record(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device())
    removed = await stores.totp.remove_device("u1", "phone")
    assert removed == device()
    assert await stores.totp.remove_device("u1", "phone") is None
    assert await stores.totp.devices("u1") == []


async def test_accept_spends_a_step_once_and_only_forward(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device())
    assert await stores.totp.accept("u1", "phone", 100, verify=True) is False, "was unverified"
    assert await stores.totp.accept("u1", "phone", 100, verify=False) is None, "replay"
    assert await stores.totp.accept("u1", "phone", 99, verify=False) is None, "backwards"
    assert await stores.totp.accept("u1", "phone", 101, verify=False) is True, "now verified"
    [d] = await stores.totp.devices("u1")
    assert (d.verified, d.last_step) == (True, 101)
    assert await stores.totp.accept("u1", "missing", 500, verify=False) is None


async def test_accept_without_verify_leaves_the_device_unverified(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device())
    assert await stores.totp.accept("u1", "phone", 7, verify=False) is False
    [d] = await stores.totp.devices("u1")
    assert (d.verified, d.last_step) == (False, 7)


async def test_charge_counts_then_locks_then_restarts_after_the_cooldown(stores: Stores) -> None:
    await new_user(stores)
    counted = [await stores.totp.charge("u1", NOW + i, BUDGET) for i in range(5)]
    assert counted == [Charged(1), Charged(2), Charged(3), Charged(4), Charged(5)]
    locked = await stores.totp.charge("u1", NOW + 10, BUDGET)
    assert locked == Locked(retry_after_ms=BUDGET.cooldown_ms - 6), "from the last failure"
    # Still locked just before the cooldown ends; a refused charge does not extend it.
    assert await stores.totp.charge("u1", NOW + 4 + BUDGET.cooldown_ms - 1, BUDGET) == Locked(1)
    assert await stores.totp.charge("u1", NOW + 4 + BUDGET.cooldown_ms, BUDGET) == Charged(1)
    assert await stores.totp.charge("u1", NOW + 5 + BUDGET.cooldown_ms, BUDGET) == Charged(2)


async def test_an_accepted_code_clears_the_count(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device())
    for i in range(4):
        await stores.totp.charge("u1", NOW + i, BUDGET)
    assert await stores.totp.accept("u1", "phone", 1, verify=True) is False
    assert await stores.totp.charge("u1", NOW + 10, BUDGET) == Charged(1)


async def test_charge_for_an_unknown_user_raises(stores: Stores) -> None:
    with pytest.raises(UnknownUser):
        await stores.totp.charge("ghost", NOW, BUDGET)


async def test_charges_are_per_user(stores: Stores) -> None:
    await new_user(stores, "u1")
    await new_user(stores, "u2")
    for i in range(5):
        await stores.totp.charge("u1", NOW + i, BUDGET)
    assert isinstance(await stores.totp.charge("u1", NOW + 9, BUDGET), Locked)
    assert await stores.totp.charge("u2", NOW + 9, BUDGET) == Charged(1)


# --- parallel ------------------------------------------------------------------------------------


async def test_parallel_accepts_of_one_step_succeed_once(stores: Stores) -> None:
    await new_user(stores)
    await stores.totp.put_device(device())
    results = await asyncio.gather(
        *(stores.totp.accept("u1", "phone", 42, verify=True) for _ in range(20))
    )
    assert sum(r is not None for r in results) == 1
    assert [r for r in results if r is not None] == [False]
    [d] = await stores.totp.devices("u1")
    assert (d.verified, d.last_step) == (True, 42)


async def test_parallel_accepts_from_two_instances_succeed_once(
    stores: Stores, database_url: str
) -> None:
    other = Stores.open(database_url)
    try:
        await new_user(stores)
        await stores.totp.put_device(device())
        results = await asyncio.gather(
            *(
                (stores if i % 2 else other).totp.accept("u1", "phone", 42, verify=False)
                for i in range(20)
            )
        )
    finally:
        await other.close()
    assert sum(r is not None for r in results) == 1


async def test_parallel_charges_never_exceed_the_budget(stores: Stores) -> None:
    await new_user(stores)
    results = await asyncio.gather(*(stores.totp.charge("u1", NOW, BUDGET) for _ in range(20)))
    charged = sorted(r.failures for r in results if isinstance(r, Charged))
    assert charged == [1, 2, 3, 4, 5]
    assert sum(isinstance(r, Locked) for r in results) == 15
    assert all(r.retry_after_ms == BUDGET.cooldown_ms for r in results if isinstance(r, Locked))


async def test_parallel_charges_from_two_instances_never_exceed_the_budget(
    stores: Stores, database_url: str
) -> None:
    other = Stores.open(database_url)
    try:
        await new_user(stores)
        results = await asyncio.gather(
            *((stores if i % 2 else other).totp.charge("u1", NOW, BUDGET) for i in range(20))
        )
    finally:
        await other.close()
    assert sum(isinstance(r, Charged) for r in results) == 5
    assert sum(isinstance(r, Locked) for r in results) == 15
