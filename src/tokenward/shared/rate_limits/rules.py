"""Rate-limit arithmetic: budgets per window, the growing delay after failed sign-ins, and how a
stored counter turns into a decision. Pure: time is passed in, storage lives elsewhere.

Two kinds of counter share one shape, ``(count, refused, until)``:

- a **window** admits ``budget`` hits until ``until`` (the window's end); the first hit after
  it opens a new window;
- a **backoff** counts consecutive failures; after the n-th the next attempt waits
  ``delay_ms(n)``, so ``until`` is the earliest time the next attempt is admitted.

Either way a refused hit changes nothing but ``refused`` (the number of refusals since the last
admitted hit), so a hit was admitted exactly when the counter comes back with ``refused == 0``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

NIST_MAX_FAILURES = 100
"""NIST SP 800-63B: at most 100 consecutive failed attempts on one account."""


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``budget`` hits per ``window_ms`` for one key."""

    scope: str
    budget: int
    window_ms: int


@dataclass(frozen=True, slots=True)
class Backoff:
    """A growing delay after consecutive failures: the first ``free`` attempts need no wait;
    after the ``free``-th failure the next attempt waits ``base_ms``, doubling with each further
    failure up to ``max_ms``; from ``hard_limit`` failures on it is
    ``lockout_ms``. ``memory_ms`` is how long a counter is kept after its last delay ends."""

    scope: str
    free: int
    base_ms: int
    max_ms: int
    hard_limit: int = NIST_MAX_FAILURES
    lockout_ms: int = DAY_MS
    memory_ms: int = DAY_MS

    def delay_ms(self, failures: int) -> int:
        """How long the next attempt waits after ``failures`` consecutive failures."""
        if failures >= self.hard_limit:
            return self.lockout_ms
        if failures < self.free:
            return 0
        doublings = min(failures - self.free, 62)
        return min(self.max_ms, self.base_ms << doublings)

    def steps(self) -> list[tuple[int, int]]:
        """``(failures, delay_ms)`` where the delay changes, ascending: ``delay_ms(n)`` is the
        delay of the last step whose failures ≤ n (0 before the first). Lets a database
        compute the delay with one CASE expression."""
        steps: list[tuple[int, int]] = []
        previous = 0
        for failures in range(1, self.hard_limit + 1):
            delay = self.delay_ms(failures)
            if delay != previous:
                steps.append((failures, delay))
                previous = delay
        return steps


@dataclass(frozen=True, slots=True)
class Counter:
    """A counter as stored after a hit."""

    count: int
    refused: int
    until: int

    @property
    def admitted(self) -> bool:
        return self.refused == 0


def retry_after_seconds(until: int, now: int) -> int:
    """Whole seconds until ``until`` (at least 1), for the Retry-After header."""
    return max(1, math.ceil((until - now) / 1000))


def key(scope: str, *parts: str) -> str:
    """The stored key of a counter: the scope in clear, the identifiers (emails, addresses)
    hashed, so the table holds no personal data and keys have a fixed length."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{scope}:{digest[:40]}"


@dataclass(frozen=True, slots=True)
class Policy:
    """Every limit tokenward applies, built from the settings (see docs/rate-limits.md)."""

    sign_up_per_ip: Window
    sign_up_per_email: Window
    email_exists_per_ip: Window
    email_exists_per_email: Window
    refresh_per_ip: Window
    sign_in_failures_per_ip: Window
    emails_per_ip: Window
    emails_per_account: Window
    codes_per_ip: Window
    codes_per_contact: Window
    codes_per_device: Window
    code_consumes_per_ip: Window
    provider_urls_per_ip: Window
    provider_sign_ins_per_ip: Window
    sign_in_account_ip: Backoff
    sign_in_account: Backoff


def policy(
    *,
    requests_per_ip: int,
    refreshes_per_ip: int,
    failed_sign_ins_per_ip: int,
    free_failures: int,
    max_delay_s: int,
    emails_per_address: int,
    emails_per_ip: int,
    codes_per_contact: int,
    codes_per_ip: int,
    provider_sign_ins_per_ip: int,
) -> Policy:
    """The limits from the budgets in the settings. One account from all addresses together
    gets four times the free failures of one account from one address, so an attacker at
    one address meets their own delay long before the account's owner notices anything."""
    max_ms = max_delay_s * 1000
    return Policy(
        sign_up_per_ip=Window("sign_up.ip", requests_per_ip, MINUTE_MS),
        sign_up_per_email=Window("sign_up.email", requests_per_ip, MINUTE_MS),
        email_exists_per_ip=Window("email_exists.ip", requests_per_ip, MINUTE_MS),
        email_exists_per_email=Window("email_exists.email", requests_per_ip, MINUTE_MS),
        refresh_per_ip=Window("refresh.ip", refreshes_per_ip, MINUTE_MS),
        sign_in_failures_per_ip=Window("sign_in.ip", failed_sign_ins_per_ip, HOUR_MS),
        emails_per_ip=Window("email.ip", emails_per_ip, HOUR_MS),
        emails_per_account=Window("email.account", emails_per_address, HOUR_MS),
        codes_per_ip=Window("code.ip", codes_per_ip, HOUR_MS),
        codes_per_contact=Window("code.contact", codes_per_contact, HOUR_MS),
        codes_per_device=Window("code.device", codes_per_contact, HOUR_MS),
        code_consumes_per_ip=Window("code_consume.ip", requests_per_ip, MINUTE_MS),
        provider_urls_per_ip=Window("provider_url.ip", provider_sign_ins_per_ip, MINUTE_MS),
        provider_sign_ins_per_ip=Window("provider_sign_in.ip", provider_sign_ins_per_ip, MINUTE_MS),
        sign_in_account_ip=Backoff("sign_in.account_ip", free_failures, 1000, max_ms),
        sign_in_account=Backoff("sign_in.account", 4 * free_failures, 1000, max_ms),
    )
