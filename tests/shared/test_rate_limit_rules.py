"""Rate-limit arithmetic: the growing delay, its steps, decisions, Retry-After and keys."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tokenward.shared.rate_limits import rules as rate_limit
from tokenward.shared.rate_limits.rules import NIST_MAX_FAILURES, Backoff, Counter

BACKOFF = Backoff("sign_in.account_ip", free=5, base_ms=1000, max_ms=900_000)


def test_rl_01_free_failures_then_a_doubling_delay_up_to_the_cap() -> None:
    delays = [BACKOFF.delay_ms(n) for n in range(1, 18)]
    assert delays[:4] == [0] * 4, "five attempts without a wait"
    assert delays[4:] == [1000 * 2**i for i in range(10)] + [900_000, 900_000, 900_000]
    assert BACKOFF.delay_ms(99) == 900_000


def test_rl_01_never_more_than_a_hundred_consecutive_failures_without_a_lockout() -> None:
    assert NIST_MAX_FAILURES == 100
    assert BACKOFF.delay_ms(100) == BACKOFF.lockout_ms == rate_limit.DAY_MS
    assert BACKOFF.delay_ms(10_000) == rate_limit.DAY_MS
    huge = Backoff("x", free=1, base_ms=1000, max_ms=10**15)
    assert huge.delay_ms(99) == 10**15, "the doubling is capped, never overflowing"


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=86_400))
def test_rl_01_steps_reproduce_the_delay_for_every_failure_count(free: int, cap_s: int) -> None:
    backoff = Backoff("x", free=free, base_ms=1000, max_ms=cap_s * 1000)
    steps = backoff.steps()
    assert [at for at, _ in steps] == sorted({at for at, _ in steps})
    for failures in range(1, 130):
        reached = [ms for at, ms in steps if at <= failures]
        assert (reached[-1] if reached else 0) == backoff.delay_ms(failures)


def test_rl_01_steps_exist_even_when_all_failures_before_the_limit_are_free() -> None:
    backoff = Backoff("x", free=500, base_ms=1000, max_ms=1000)
    assert backoff.steps() == [(100, rate_limit.DAY_MS)]


def test_a_counter_was_admitted_when_nothing_was_refused_since() -> None:
    assert Counter(count=3, refused=0, until=0).admitted
    assert not Counter(count=3, refused=1, until=0).admitted


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    assert rate_limit.retry_after_seconds(10_001, 0) == 11
    assert rate_limit.retry_after_seconds(10_000, 0) == 10
    assert rate_limit.retry_after_seconds(5, 10) == 1


def test_keys_hash_identifiers_and_keep_the_scope() -> None:
    key = rate_limit.key("sign_in.account", "public", "alice@example.com")
    assert key.startswith("sign_in.account:")
    assert "alice" not in key and len(key) <= 100
    assert key != rate_limit.key("sign_in.account", "public", "alice@example.co")
    assert key != rate_limit.key("sign_in.account", "publi", "calice@example.com")
    assert rate_limit.key("s", "\ud800") != rate_limit.key("s", "x"), "odd input never crashes"


def test_rl_02_one_address_meets_its_own_delay_long_before_the_account_does() -> None:
    policy = rate_limit.policy(
        requests_per_ip=30,
        refreshes_per_ip=300,
        failed_sign_ins_per_ip=100,
        free_failures=5,
        max_delay_s=900,
        emails_per_address=5,
        emails_per_ip=20,
        codes_per_contact=5,
        codes_per_ip=20,
        provider_sign_ins_per_ip=60,
    )
    assert policy.sign_in_account.free == 4 * policy.sign_in_account_ip.free
    assert policy.sign_in_account.hard_limit == NIST_MAX_FAILURES
    assert policy.emails_per_account.budget == 5 and policy.emails_per_account.window_ms == (
        rate_limit.HOUR_MS
    )
