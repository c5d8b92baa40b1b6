"""The recovery-code store's contract, on SQLite and PostgreSQL: a new set revokes the old, a
code is used once, also under parallel requests (MFA-03)."""

from __future__ import annotations

import asyncio

from tokenward.app.stores import Stores

NOW = 1_700_000_000_000
HASHES = [f"{i:064x}" for i in range(10)]


async def new_user(stores: Stores, user_id: str = "u1") -> str:
    await stores.users.create_email_password_user(
        user_id=user_id,
        tenant_id="public",
        email=f"{user_id}@example.com",
        password_hash="$argon2id$x",
        now=NOW,
    )
    return user_id


async def test_a_code_is_used_once(stores: Stores) -> None:
    await new_user(stores)
    await stores.recovery_codes.replace("u1", HASHES, NOW)
    assert await stores.recovery_codes.remaining("u1") == 10
    assert await stores.recovery_codes.use("u1", HASHES[3], NOW + 1)
    assert await stores.recovery_codes.remaining("u1") == 9
    assert not await stores.recovery_codes.use("u1", HASHES[3], NOW + 2), "reuse"
    assert not await stores.recovery_codes.use("u1", "f" * 64, NOW + 2), "not one of the set"
    assert await stores.recovery_codes.remaining("u1") == 9


async def test_codes_are_per_user(stores: Stores) -> None:
    await new_user(stores, "u1")
    await new_user(stores, "u2")
    await stores.recovery_codes.replace("u1", HASHES, NOW)
    assert not await stores.recovery_codes.use("u2", HASHES[0], NOW)
    assert await stores.recovery_codes.remaining("u2") == 0
    assert await stores.recovery_codes.remaining("u1") == 10


async def test_a_new_set_revokes_the_old(stores: Stores) -> None:
    await new_user(stores)
    await stores.recovery_codes.replace("u1", HASHES[:5], NOW)
    assert await stores.recovery_codes.use("u1", HASHES[0], NOW)
    await stores.recovery_codes.replace("u1", HASHES[5:], NOW + 1)
    assert await stores.recovery_codes.remaining("u1") == 5
    assert not await stores.recovery_codes.use("u1", HASHES[1], NOW + 2), "old set revoked"
    assert await stores.recovery_codes.use("u1", HASHES[5], NOW + 2)


async def test_a_reissued_hash_is_usable_again(stores: Stores) -> None:
    """Replacing with a set that contains a used hash starts it fresh (the old row is gone)."""
    await new_user(stores)
    await stores.recovery_codes.replace("u1", HASHES[:1], NOW)
    assert await stores.recovery_codes.use("u1", HASHES[0], NOW)
    await stores.recovery_codes.replace("u1", HASHES[:1], NOW + 1)
    assert await stores.recovery_codes.remaining("u1") == 1


async def test_an_empty_set_revokes_all(stores: Stores) -> None:
    await new_user(stores)
    await stores.recovery_codes.replace("u1", HASHES, NOW)
    await stores.recovery_codes.replace("u1", [], NOW + 1)
    assert await stores.recovery_codes.remaining("u1") == 0


async def test_parallel_uses_of_one_code_succeed_once(stores: Stores) -> None:
    await new_user(stores)
    await stores.recovery_codes.replace("u1", HASHES, NOW)
    results = await asyncio.gather(
        *(stores.recovery_codes.use("u1", HASHES[7], NOW + i) for i in range(20))
    )
    assert results.count(True) == 1
    assert await stores.recovery_codes.remaining("u1") == 9


async def test_parallel_uses_from_two_instances_succeed_once(
    stores: Stores, database_url: str
) -> None:
    other = Stores.open(database_url)
    try:
        await new_user(stores)
        await stores.recovery_codes.replace("u1", HASHES, NOW)
        results = await asyncio.gather(
            *(
                (stores if i % 2 else other).recovery_codes.use("u1", HASHES[2], NOW)
                for i in range(20)
            )
        )
    finally:
        await other.close()
    assert results.count(True) == 1
