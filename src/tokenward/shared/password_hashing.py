"""Password hashing (Argon2id) and verification of the hash formats SuperTokens stores.

Hashing is deliberately slow and memory-hard, so it must never run on the event loop: one
sign-in would stall every other request for tens of milliseconds. All work runs in a bounded
thread pool instead (argon2-cffi and bcrypt release the GIL, so threads really run in
parallel), which also caps the memory a flood of sign-ins can claim at
``pool_size x memory_kib`` (PWD-09). The work *waiting* for a thread is bounded too
(``queue_limit``): beyond it a call raises ``HashingBusy`` at once (503 with Retry-After), so a
flood cannot build a backlog that keeps every later sign-in waiting for minutes.

New hashes are Argon2id with OWASP's parameters (PWD-06). Verification also accepts what
SuperTokens may have stored or imported: Argon2id/i/d and bcrypt (``$2a$``, ``$2b$``,
``$2y$``). Verification never raises for bad input: a corrupt or unknown hash is simply a
failed sign-in, never a 500. Passwords are UTF-8 encoded exactly as given; in particular a
password bcrypt cannot take whole (over 72 bytes) fails instead of being truncated (PWD-05).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import argon2
import bcrypt

T = TypeVar("T")

BCRYPT_MAX_PASSWORD_BYTES = 72
"""bcrypt only reads this many bytes; older bcrypt versions silently drop the rest."""

_ARGON2_PATTERN = re.compile(
    r"\$argon2(?:id|i|d)\$(?:v=[0-9]+\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+"
    r"\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}"
)
"""The PHC string format Argon2 implementations write (``v=`` is absent in version 1.0)."""
_BCRYPT_PATTERN = re.compile(r"\$2[aby]\$(?:0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
"""Modular crypt format: variant, cost 04-31, 22 characters of salt and 31 of hash."""

DEFAULT_QUEUE_LIMIT = 256


class HashingBusy(Exception):
    """Too many password hashes are already waiting for a thread; retry shortly."""


class PasswordHasher:
    """Hashes new passwords with Argon2id and verifies stored hashes, off the event loop.

    The defaults are OWASP's Argon2id minimum (19 MiB, 2 passes, 1 lane). ``pool_size``
    bounds how many hashes run at once; it defaults to the number of CPUs, beyond which more
    threads only add memory use and latency. ``queue_limit`` bounds how many more may wait.
    """

    def __init__(
        self,
        *,
        memory_kib: int = 19456,
        time_cost: int = 2,
        parallelism: int = 1,
        pool_size: int | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> None:
        if pool_size is not None and pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        if queue_limit < 1:
            raise ValueError("queue_limit must be at least 1")
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        workers = pool_size or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="tokenward-password-hashing"
        )
        self._max_pending = workers + queue_limit
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._dummy_hash: str | None = None

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        """Run ``function`` on the pool; raise HashingBusy if the queue is full.

        A job counts as pending from submission until it has finished in its thread (or was
        cancelled before starting), so an abandoned request still holds its place while its
        hash runs."""
        with self._pending_lock:
            if self._pending >= self._max_pending:
                raise HashingBusy
            self._pending += 1
        try:
            future = self._pool.submit(function, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    @property
    def pending(self) -> int:
        """Hashes running or waiting for a thread right now."""
        return self._pending

    def _release(self, _: Future[T] | None = None) -> None:
        with self._pending_lock:
            self._pending -= 1

    async def hash(self, password: str) -> str:
        """An Argon2id hash of ``password`` with a fresh random salt, in PHC string format.

        Raises ``UnicodeEncodeError`` (a ``ValueError``) for a string UTF-8 cannot encode,
        i.e. one with an unpaired surrogate, which a JSON body can carry.
        """
        return await self._run(self._argon2.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash`` (Argon2 or bcrypt).

        False on a mismatch, on a hash in an unknown or corrupt format, and on a password a
        bcrypt hash cannot represent; never raises for such input.
        """
        if _is_argon2(stored_hash):
            return await self._run(self._verify_argon2, stored_hash, password)
        if _is_bcrypt(stored_hash):
            return await self._run(_verify_bcrypt, stored_hash, password)
        return False

    async def verify_dummy(self, password: str) -> None:
        """Spend the work of a failed verification, for sign-ins naming no known user.

        Without it, "no such user" answers in microseconds and "wrong password" in tens of
        milliseconds, which tells an attacker which emails have accounts (AUTH-02). The dummy
        hash is of a random secret with the current parameters, made once on first use.
        """
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(32))
        await self._run(self._verify_argon2, self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether to replace ``stored_hash`` with a fresh hash after a successful sign-in.

        True for bcrypt (legacy) and for Argon2 hashes made with other parameters or another
        variant than the configured ones (PWD-10); False for formats this class cannot verify.
        """
        if _is_bcrypt(stored_hash):
            return True
        if not _is_argon2(stored_hash):
            return False
        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except ValueError:  # argon2.exceptions.InvalidHashError is a ValueError
            return False

    def close(self) -> None:
        """Stop the pool; work already submitted still finishes. The hasher is unusable after."""
        self._pool.shutdown(wait=False)

    def _verify_argon2(self, stored_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored_hash, password)
        except argon2.exceptions.VerificationError:  # mismatch, or libargon2 refused the hash
            return False
        except ValueError:  # InvalidHashError, or a password UTF-8 cannot encode
            return False


def _is_argon2(stored_hash: str) -> bool:
    return _ARGON2_PATTERN.fullmatch(stored_hash) is not None


def _is_bcrypt(stored_hash: str) -> bool:
    return _BCRYPT_PATTERN.fullmatch(stored_hash) is not None


def _verify_bcrypt(stored_hash: str, password: str) -> bool:
    try:
        secret = password.encode("utf-8")
        if len(secret) > BCRYPT_MAX_PASSWORD_BYTES:
            # bcrypt would check only a prefix of this password (bcrypt >= 5 raises instead).
            return False
        return bcrypt.checkpw(secret, stored_hash.encode("ascii"))
    except ValueError:  # a password UTF-8 cannot encode (lone surrogate), or a bad salt
        return False
