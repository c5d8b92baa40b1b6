"""Password hashing: Argon2id format, verification of SuperTokens' formats, no truncation,
rehash decisions, the unknown-user dummy path, and hashing off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import argon2
import bcrypt
import pytest

from tokenward.shared.password_hashing import HashingBusy, PasswordHasher

FAST = {"memory_kib": 256, "time_cost": 1, "parallelism": 1}
"""Cheap Argon2id parameters where the cost is not the point."""


@pytest.fixture
async def hasher() -> AsyncIterator[PasswordHasher]:
    hasher = PasswordHasher(**FAST, pool_size=2)
    yield hasher
    hasher.close()


def argon2_hash(password: str, *, kind: argon2.Type, memory_kib: int, time_cost: int) -> str:
    """An Argon2 hash as another system (SuperTokens core) may have stored it."""
    other = argon2.PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=kind
    )
    return other.hash(password)


def bcrypt_hash(password: str, prefix: bytes = b"2b", rounds: int = 10) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds, prefix)).decode()


async def test_default_hash_format_is_owasp_argon2id() -> None:
    hasher = PasswordHasher()
    try:
        stored = await hasher.hash("correct horse battery staple")
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert await hasher.verify(stored, "correct horse battery staple")
        assert not hasher.needs_rehash(stored)
    finally:
        hasher.close()


async def test_same_password_hashes_differently(hasher: PasswordHasher) -> None:
    first = await hasher.hash("same password")
    second = await hasher.hash("same password")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]  # the salts differ
    assert await hasher.verify(first, "same password")
    assert await hasher.verify(second, "same password")


@pytest.mark.parametrize(
    "wrong",
    ["Tr0ub4dor&3 ", " Tr0ub4dor&3", "TR0UB4DOR&3", "tr0ub4dor&3", "Tr0ub4dor&", "", "\x00"],
)
async def test_verify_rejects_other_passwords(hasher: PasswordHasher, wrong: str) -> None:
    stored = await hasher.hash("Tr0ub4dor&3")
    assert await hasher.verify(stored, "Tr0ub4dor&3")
    assert not await hasher.verify(stored, wrong)


async def test_unicode_is_hashed_as_given_without_normalisation(hasher: PasswordHasher) -> None:
    composed, decomposed = "caf\u00e9-passw0rd", "cafe\u0301-passw0rd"
    stored = await hasher.hash(composed)
    assert await hasher.verify(stored, composed)
    assert not await hasher.verify(stored, decomposed)
    assert not await hasher.verify(stored, composed.upper())


@pytest.mark.parametrize("kind", [argon2.Type.ID, argon2.Type.I, argon2.Type.D])
async def test_verifies_every_argon2_variant(hasher: PasswordHasher, kind: argon2.Type) -> None:
    stored = argon2_hash("imported pw", kind=kind, memory_kib=512, time_cost=2)
    assert await hasher.verify(stored, "imported pw")
    assert not await hasher.verify(stored, "Imported pw")
    assert hasher.needs_rehash(stored)


@pytest.mark.parametrize("prefix", [b"2a", b"2b"])
async def test_verifies_bcrypt_and_wants_a_rehash(hasher: PasswordHasher, prefix: bytes) -> None:
    stored = bcrypt_hash("legacy password", prefix, rounds=10)
    assert stored.startswith(f"${prefix.decode()}$10$")
    assert await hasher.verify(stored, "legacy password")
    assert not await hasher.verify(stored, "LEGACY PASSWORD")
    assert hasher.needs_rehash(stored)


async def test_verifies_2y_bcrypt_hashes(hasher: PasswordHasher) -> None:
    """PHP and SuperTokens imports write ``$2y$``; it is the same algorithm as ``$2b$``."""
    stored = "$2y$" + bcrypt_hash("from php", rounds=4)[4:]
    assert await hasher.verify(stored, "from php")
    assert not await hasher.verify(stored, "from PHP")
    assert hasher.needs_rehash(stored)


async def test_bcrypt_72_byte_trap(hasher: PasswordHasher) -> None:
    """An 80-byte password must not verify against a hash of its first 72 bytes (PWD-05)."""
    long_password = "a1b2c3d4e5" * 8
    assert len(long_password.encode()) == 80
    prefix_hash = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    assert await hasher.verify(prefix_hash, long_password[:72])
    assert not await hasher.verify(prefix_hash, long_password)
    # Multi-byte characters: 37 x "é" is 74 bytes, the first 36 are 72.
    accented_hash = bcrypt.hashpw(("é" * 36).encode(), bcrypt.gensalt(4)).decode()
    assert await hasher.verify(accented_hash, "é" * 36)
    assert not await hasher.verify(accented_hash, "é" * 37)


async def test_long_passwords_work_with_argon2(hasher: PasswordHasher) -> None:
    long_password = "a1b2c3d4e5" * 8
    stored = await hasher.hash(long_password)
    assert await hasher.verify(stored, long_password)
    assert not await hasher.verify(stored, long_password[:72])


@pytest.mark.parametrize(
    "corrupt",
    [
        "",
        "plaintext-password",
        "$argon2id$",
        "$argon2id$v=19$m=256,t=1,p=1$",
        "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ$!!!notbase64!!!",
        "$argon2x$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA\u00e9",
        "$2b$10$short",
        "$2b$10$" + "!" * 53,
        "$2b$99$" + "a" * 53,
        "$2c$10$" + "a" * 53,
        "$2b$10$" + "a" * 53 + "\n",
        "$1$md5crypt$hash",
        "pbkdf2_sha256$600000$salt$hash",
        "\x00\x00\x00",
    ],
)
async def test_corrupt_or_unknown_hashes_fail_without_raising(
    hasher: PasswordHasher, corrupt: str
) -> None:
    assert await hasher.verify(corrupt, "password") is False
    assert hasher.needs_rehash(corrupt) is False


@pytest.mark.parametrize(
    "impossible",
    [
        "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=256,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",  # salt too short
        "$argon2id$v=99$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",  # wrong digest
    ],
)
async def test_well_formed_argon2_with_impossible_values_fails_without_raising(
    hasher: PasswordHasher, impossible: str
) -> None:
    assert await hasher.verify(impossible, "password") is False


async def test_unencodable_password_fails_without_raising(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("password")
    assert await hasher.verify(stored, "pass\ud800word") is False
    assert await hasher.verify(bcrypt_hash("password", rounds=4), "pass\ud800word") is False


async def test_needs_rehash_for_weaker_or_other_argon2_params(hasher: PasswordHasher) -> None:
    current = await hasher.hash("pw")
    assert not hasher.needs_rehash(current)
    weaker_memory = argon2_hash("pw", kind=argon2.Type.ID, memory_kib=128, time_cost=1)
    stronger_time = argon2_hash("pw", kind=argon2.Type.ID, memory_kib=256, time_cost=3)
    other_variant = argon2_hash("pw", kind=argon2.Type.I, memory_kib=256, time_cost=1)
    assert hasher.needs_rehash(weaker_memory)
    assert hasher.needs_rehash(stronger_time)
    assert hasher.needs_rehash(other_variant)


async def test_stronger_configuration_wants_old_hashes_rehashed() -> None:
    old, new = PasswordHasher(**FAST), PasswordHasher(memory_kib=512, time_cost=2)
    try:
        stored = await old.hash("pw")
        assert new.needs_rehash(stored)
        assert await new.verify(stored, "pw")  # still verifies with its own parameters
        assert not new.needs_rehash(await new.hash("pw"))
    finally:
        old.close()
        new.close()


async def test_verify_dummy_runs_a_real_argon2_verification(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = hasher._verify_argon2

    def spy(stored_hash: str, password: str) -> bool:
        verified.append(stored_hash)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(hasher, "_verify_argon2", spy)
    assert hasher._dummy_hash is None
    await hasher.verify_dummy("guess")
    dummy = hasher._dummy_hash
    assert dummy is not None and dummy.startswith("$argon2id$v=19$m=256,t=1,p=1$")
    assert not hasher.needs_rehash(dummy)  # same cost as verifying a current hash
    assert verified == [dummy]
    await hasher.verify_dummy("another guess")
    assert hasher._dummy_hash == dummy  # made once
    assert verified == [dummy, dummy]


async def test_hashing_does_not_block_the_event_loop() -> None:
    """A ticker keeps running while 8 real-cost hashes are in flight (PWD-09)."""
    hasher = PasswordHasher(pool_size=2)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def hash_all() -> list[str]:
        try:
            return await asyncio.gather(*(hasher.hash(f"password {i}") for i in range(8)))
        finally:
            done.set()

    try:
        hashes, _ = await asyncio.gather(hash_all(), ticker())
    finally:
        hasher.close()
    assert len(set(hashes)) == 8
    # Run on the loop, the hashes would leave the ticker at most one turn between each.
    assert ticks > 100


async def test_pool_bounds_concurrent_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(**FAST, pool_size=2)
    lock = threading.Lock()
    running = peak = 0

    class CountingArgon2(argon2.PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            try:
                time.sleep(0.01)  # hold the worker so other calls queue up
                return super().hash(password, salt=salt)
            finally:
                with lock:
                    running -= 1

    monkeypatch.setattr(hasher, "_argon2", CountingArgon2(memory_cost=256, time_cost=1))
    try:
        await asyncio.gather(*(hasher.hash("pw") for _ in range(10)))
    finally:
        hasher.close()
    assert peak == 2


def test_pool_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="pool_size"):
        PasswordHasher(pool_size=0)


async def test_pwd_09_waiting_queue_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(**FAST, pool_size=1, queue_limit=2)
    release = threading.Event()

    class Blocked(argon2.PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            release.wait(timeout=10)
            return super().hash(password, salt=salt)

    monkeypatch.setattr(hasher, "_argon2", Blocked(memory_cost=256, time_cost=1))
    try:
        admitted = [asyncio.create_task(hasher.hash(f"pw {i}")) for i in range(3)]
        await asyncio.sleep(0)
        assert hasher.pending == 3  # one running, two waiting: the limit
        with pytest.raises(HashingBusy):
            await hasher.hash("one too many")
        with pytest.raises(HashingBusy):
            await hasher.verify_dummy("one too many")
        release.set()
        assert len(set(await asyncio.gather(*admitted))) == 3
        assert hasher.pending == 0
        assert await hasher.hash("room again")
    finally:
        release.set()
        hasher.close()
    with pytest.raises(ValueError, match="queue_limit"):
        PasswordHasher(queue_limit=0)
