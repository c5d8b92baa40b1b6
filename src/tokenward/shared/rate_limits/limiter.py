"""Applying the rate limits: budgets per client address and per identifier, and the growing
delay after failed sign-ins (docs/rate-limits.md).

Counters live in the database, so every instance on one PostgreSQL database shares them. A
database that fails raises StoreUnavailable (503) like every other flow: a limit is never
skipped ("fail open") nor turned into a refusal that looks like a throttle.

Refreshes (one per client every few minutes, all of a NAT's clients behind one address) would
cost a database write each. Their window is drawn on in blocks instead: an instance takes a block
of hits from the shared counter in one statement (only if the whole block fits in the budget,
else a single hit) and admits from it locally until it is used up or the window ends. The
limit is therefore never exceeded; hits an instance took but did not use are lost to the others
until the window ends (docs/rate-limits.md gives the bound).

A sign-in attempt is charged before the password is checked (an attempt that never finishes
still counted) and the charge is taken back when it succeeds. That keeps each check-and-count
one atomic statement: parallel guesses cannot all slip through before their failures land.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tokenward.shared.clock import Clock
from tokenward.shared.rate_limits import rules as rate_limit
from tokenward.shared.rate_limits.port import RateLimitStore
from tokenward.shared.rate_limits.rules import Backoff, Counter, Policy, Window


class RateLimited(Exception):
    """A limit is reached: answer 429 with Retry-After."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(f"rate limit {scope} reached; retry after {retry_after_s} s")
        self.scope = scope
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """What a sign-in was charged, to take back when it succeeds."""

    ip_key: str
    ip_window_until: int
    account_keys: tuple[str, ...]


BLOCK_FRACTION = 10
"""A block is a tenth of the window's budget …"""
MAX_BLOCK = 100
"""… and at most this many hits."""
MAX_BLOCKS_HELD = 10_000
"""Blocks kept per instance (one per client address); past this the ended ones are dropped,
then all (their unused hits are lost until their windows end: never more admitted)."""


@dataclass(slots=True)
class _Block:
    left: int
    until: int


class RateLimiter:
    def __init__(self, store: RateLimitStore, policy: Policy, clock: Clock) -> None:
        self._store = store
        self.policy = policy
        self._clock = clock
        self._blocks: dict[str, _Block] = {}
        self._taking: dict[str, asyncio.Event] = {}

    async def hit(self, window: Window, *identifier: str) -> None:
        """Count one hit on ``window`` for ``identifier``; raise RateLimited when refused."""
        if window == self.policy.refresh_per_ip:
            await self._hit_from_block(window, rate_limit.key(window.scope, *identifier))
        else:
            await self._hit(window, rate_limit.key(window.scope, *identifier))

    async def _hit(self, window: Window, key: str, hits: int = 1) -> Counter:
        now = self._clock.now_ms()
        counter = await self._store.hit_window(key, window, now=now, hits=hits)
        _raise_unless_admitted(window.scope, counter, now)
        return counter

    async def _hit_from_block(self, window: Window, key: str) -> None:
        if self._take_from_block(key):
            return
        # One request per key takes the next block; the others wait for it and share it
        # (each taking a block of its own would strand most of the budget in blocks).
        while (taking := self._taking.get(key)) is not None:
            await taking.wait()
            if self._take_from_block(key):
                return
        self._taking[key] = asyncio.Event()
        try:
            size = min(MAX_BLOCK, max(1, window.budget // BLOCK_FRACTION))
            try:
                counter = await self._hit(window, key, size)
            except RateLimited:
                if size == 1:
                    raise
                size = 1  # the window's last hits
                counter = await self._hit(window, key, size)
            if len(self._blocks) >= MAX_BLOCKS_HELD:
                self._drop_blocks()
            self._blocks[key] = _Block(size - 1, counter.until)
        finally:
            self._taking.pop(key).set()

    def _take_from_block(self, key: str) -> bool:
        block = self._blocks.get(key)
        if block is None or block.left <= 0 or self._clock.now_ms() >= block.until:
            return False
        block.left -= 1
        return True

    def _drop_blocks(self) -> None:
        now = self._clock.now_ms()
        self._blocks = {k: b for k, b in self._blocks.items() if b.until > now and b.left > 0}
        if len(self._blocks) >= MAX_BLOCKS_HELD:
            self._blocks.clear()

    async def begin_sign_in(self, tenant_id: str, email: str | None, ip: str) -> SignInAttempt:
        """Charge a sign-in to the address's failure budget, then to the account from this
        address, then to the account from anywhere. The order matters: an attacker refused
        for their own address never adds to the account's count, which the owner shares."""
        per_ip = self.policy.sign_in_failures_per_ip
        ip_key = rate_limit.key(per_ip.scope, ip)
        hits: list[tuple[str, Window | Backoff]] = [(ip_key, per_ip)]
        account_keys: tuple[str, ...] = ()
        if email is not None:
            account_keys = self._account_keys(tenant_id, email, ip)
            hits.append((account_keys[0], self.policy.sign_in_account_ip))
            hits.append((account_keys[1], self.policy.sign_in_account))
        now = self._clock.now_ms()
        counters = await self._store.hit_in_turn(hits, now=now)  # up to the first refusal
        _raise_unless_admitted(hits[len(counters) - 1][1].scope, counters[-1], now)
        return SignInAttempt(ip_key, counters[0].until, account_keys)

    async def sign_in_succeeded(self, attempt: SignInAttempt) -> None:
        """A success ends the account's run of failures and costs the address nothing."""
        await self._store.reset_and_refund(
            attempt.account_keys, attempt.ip_key, until=attempt.ip_window_until
        )

    async def password_was_reset(self, tenant_id: str, email: str, ip: str) -> None:
        """The owner proved control of the mailbox: forget the account's failures from all
        addresses together and from this one. Other addresses keep their own delays."""
        await self._store.reset(self._account_keys(tenant_id, email, ip))

    def _account_keys(self, tenant_id: str, email: str, ip: str) -> tuple[str, str]:
        """The keys of the account's failures from ``ip``, and from all addresses."""
        return (
            rate_limit.key(self.policy.sign_in_account_ip.scope, tenant_id, email, ip),
            rate_limit.key(self.policy.sign_in_account.scope, tenant_id, email),
        )


def _raise_unless_admitted(scope: str, counter: Counter, now: int) -> None:
    if not counter.admitted:
        raise RateLimited(scope, rate_limit.retry_after_seconds(counter.until, now))
