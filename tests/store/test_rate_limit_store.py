"""The rate-limit counters on SQLite and on PostgreSQL: windows, backoff, refunds, resets, expiry,
and concurrent hits on one key that never admit more than the budget."""

from __future__ import annotations

import asyncio

from tokenward.app.stores import Stores
from tokenward.shared.rate_limits.port import RateLimitStore
from tokenward.shared.rate_limits.rules import Backoff, Counter, Window

NOW = 1_700_000_000_000
WINDOW = Window("test.window", budget=3, window_ms=60_000)
BACKOFF = Backoff("test.backoff", free=2, base_ms=1000, max_ms=8000)


async def backoff_hit(limits: RateLimitStore, key: str, backoff: Backoff, *, now: int) -> Counter:
    (counter,) = await limits.hit_in_turn([(key, backoff)], now=now)
    return counter


async def test_rl_04_window_admits_its_budget_then_refuses_until_it_ends(stores: Stores) -> None:
    limits = stores.rate_limits
    counters = [await limits.hit_window("k", WINDOW, now=NOW + i) for i in range(5)]
    assert [c.admitted for c in counters] == [True, True, True, False, False]
    assert [c.count for c in counters] == [1, 2, 3, 3, 3], "a refused hit is not counted"
    assert counters[-1].until == NOW + 60_000
    assert (await limits.hit_window("other", WINDOW, now=NOW)).admitted, "keys are separate"
    reopened = await limits.hit_window("k", WINDOW, now=NOW + 60_000)
    assert (reopened.admitted, reopened.count, reopened.until) == (True, 1, NOW + 120_000)


async def test_rl_04_refund_gives_back_one_hit_of_the_same_window_only(stores: Stores) -> None:
    limits = stores.rate_limits
    for _ in range(3):
        first = await limits.hit_window("k", WINDOW, now=NOW)
    await limits.reset_and_refund([], "k", until=first.until)
    assert (await limits.hit_window("k", WINDOW, now=NOW)).admitted
    assert not (await limits.hit_window("k", WINDOW, now=NOW)).admitted
    # A window that is over: nothing changes.
    await limits.reset_and_refund([], "k", until=first.until - 1)
    assert not (await limits.hit_window("k", WINDOW, now=NOW)).admitted


async def test_rl_04_a_block_of_hits_is_counted_only_if_it_all_fits(stores: Stores) -> None:
    limits = stores.rate_limits
    first = await limits.hit_window("k", WINDOW, now=NOW, hits=2)
    assert (first.admitted, first.count, first.until) == (True, 2, NOW + 60_000)
    refused = await limits.hit_window("k", WINDOW, now=NOW, hits=2)
    assert (refused.admitted, refused.count) == (False, 2), "two more do not fit: none counted"
    last = await limits.hit_window("k", WINDOW, now=NOW)
    assert (last.admitted, last.count) == (True, 3)
    reopened = await limits.hit_window("k", WINDOW, now=NOW + 60_000, hits=3)
    assert (reopened.admitted, reopened.count, reopened.until) == (True, 3, NOW + 120_000)


async def test_rl_01_backoff_delay_grows_after_the_free_failures(stores: Stores) -> None:
    limits = stores.rate_limits
    now = NOW
    waits = []
    for _ in range(7):
        counter = await backoff_hit(limits, "acct", BACKOFF, now=now)
        assert counter.admitted
        waits.append(counter.until - now)
        assert not (await backoff_hit(limits, "acct", BACKOFF, now=now + waits[-1] - 1)).admitted
        now += waits[-1]
    assert waits == [0, 1000, 2000, 4000, 8000, 8000, 8000]


async def test_rl_01_hits_in_turn_stop_at_the_first_refusal(stores: Stores) -> None:
    limits = stores.rate_limits
    tight = Window("test.tight", budget=1, window_ms=60_000)
    first = await limits.hit_in_turn([("ip", tight), ("acct", BACKOFF)], now=NOW)
    assert [(c.admitted, c.count) for c in first] == [(True, 1), (True, 1)]
    refused = await limits.hit_in_turn([("ip", tight), ("acct", BACKOFF)], now=NOW)
    assert [(c.admitted, c.count) for c in refused] == [(False, 1)], "acct is not reached"
    assert (await backoff_hit(limits, "acct", BACKOFF, now=NOW)).count == 2, "acct kept 1"


async def test_rl_01_reset_and_refund_in_one_call(stores: Stores) -> None:
    limits = stores.rate_limits
    for _ in range(3):
        window = await limits.hit_window("ip", WINDOW, now=NOW)
    for _ in range(3):
        await backoff_hit(limits, "acct", BACKOFF, now=NOW)
    await limits.reset_and_refund(["acct"], "ip", until=window.until)
    counter = await backoff_hit(limits, "acct", BACKOFF, now=NOW)
    assert (counter.admitted, counter.count) == (True, 1), "the failures are forgotten"
    assert (await limits.hit_window("ip", WINDOW, now=NOW)).admitted, "one hit came back"
    assert not (await limits.hit_window("ip", WINDOW, now=NOW)).admitted


async def test_rl_01_reset_forgets_the_failures(stores: Stores) -> None:
    limits = stores.rate_limits
    for _ in range(4):
        await backoff_hit(limits, "acct", BACKOFF, now=NOW)
    assert not (await backoff_hit(limits, "acct", BACKOFF, now=NOW)).admitted
    await limits.reset(["acct", "unknown"])
    counter = await backoff_hit(limits, "acct", BACKOFF, now=NOW)
    assert (counter.admitted, counter.count, counter.until) == (True, 1, NOW)


async def test_rl_01_hundred_failures_lock_for_a_day(stores: Stores) -> None:
    backoff = Backoff("test.nist", free=200, base_ms=1000, max_ms=1000)  # no delay before 100
    for _ in range(99):
        assert (await backoff_hit(stores.rate_limits, "acct", backoff, now=NOW)).admitted
    hundredth = await backoff_hit(stores.rate_limits, "acct", backoff, now=NOW)
    assert (hundredth.admitted, hundredth.until) == (True, NOW + backoff.lockout_ms)
    assert not (await backoff_hit(stores.rate_limits, "acct", backoff, now=NOW + 1000)).admitted


async def test_expired_counters_are_deleted(stores: Stores) -> None:
    limits = stores.rate_limits
    await limits.hit_window("window", WINDOW, now=NOW)
    await backoff_hit(limits, "backoff", BACKOFF, now=NOW)
    assert await limits.delete_expired(NOW + 60_000 - 1) == 0
    assert await limits.delete_expired(NOW + 60_000) == 1
    assert await limits.delete_expired(NOW + BACKOFF.memory_ms) == 1


async def test_rl_04_concurrent_hits_on_one_key_never_over_admit(stores: Stores) -> None:
    window = Window("test.race", budget=5, window_ms=60_000)
    hits = await asyncio.gather(
        *(stores.rate_limits.hit_window("k", window, now=NOW) for _ in range(40))
    )
    assert sum(c.admitted for c in hits) == 5
    attempts = await asyncio.gather(
        *(backoff_hit(stores.rate_limits, "acct", BACKOFF, now=NOW) for _ in range(40))
    )
    assert sum(c.admitted for c in attempts) == BACKOFF.free, "the delay starts at once"


async def test_rl_04_concurrent_hits_from_two_instances_share_the_budget(
    stores: Stores, database_url: str
) -> None:
    other = Stores.open(database_url)
    try:
        window = Window("test.shared", budget=10, window_ms=60_000)
        hits = await asyncio.gather(
            *(s.rate_limits.hit_window("k", window, now=NOW) for s in [stores, other] * 15)
        )
    finally:
        await other.close()
    assert sum(c.admitted for c in hits) == 10
