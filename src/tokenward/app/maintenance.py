"""Periodic housekeeping: expired sessions, single-use tokens, passwordless codes and
rate-limit counters, and retired signing keys."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from tokenward.app.stores import Stores
from tokenward.recipes.jwt.service import KeyRing
from tokenward.shared.clock import Clock
from tokenward.shared.database.errors import StoreUnavailable

log = logging.getLogger("tokenward.maintenance")


@dataclass(frozen=True, slots=True)
class CleanupReport:
    sessions: int
    one_time_tokens: int
    signing_keys: int
    rate_limits: int
    passwordless_codes: int = 0


async def cleanup(stores: Stores, keys: KeyRing, clock: Clock) -> CleanupReport:
    now = clock.now_ms()
    sessions = await stores.sessions.delete_expired(now)
    tokens = await stores.one_time_tokens.delete_expired(now)
    counters = await stores.rate_limits.delete_expired(now)
    codes = await stores.passwordless.remove_expired(now)
    await keys.reload()
    retired = keys.retired_before()
    removed_keys = 0
    if retired is not None:
        removed_keys = await stores.signing_keys.delete_created_before(retired)
    return CleanupReport(sessions, tokens, removed_keys, counters, codes)


async def cleanup_forever(stores: Stores, keys: KeyRing, clock: Clock, interval_s: int) -> None:
    """Run ``cleanup`` every ``interval_s`` seconds; a database outage only skips a round."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            report = await cleanup(stores, keys, clock)
        except StoreUnavailable:
            log.warning("cleanup skipped: database unavailable")
            continue
        except Exception:  # the loop must outlive any one bad round
            log.exception("cleanup round failed; trying again next round")
            continue
        if report.sessions or report.one_time_tokens or report.signing_keys:
            log.info(
                "cleanup removed %d expired sessions, %d expired single-use tokens, "
                "%d retired signing keys",
                report.sessions,
                report.one_time_tokens,
                report.signing_keys,
            )
