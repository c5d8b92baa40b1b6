"""The part of a refresh decided on the session row: whether the session still lives, what
``core.rotation`` makes of the presented token, and the write that follows. Pure, so the store
can run it between reading the row and writing it, and run it again if the row changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenward.core.rotation import RefreshOutcome, decide_refresh
from tokenward.service.session_types import SessionPolicy
from tokenward.store.ports import Rotate, SessionRecord, SessionWrite


@dataclass(frozen=True, slots=True)
class RefreshStep:
    """The live session a refresh read (None: ended, expired or unknown), the rotation
    outcome, and the expiry of the tokens a successful refresh issues."""

    record: SessionRecord | None
    outcome: RefreshOutcome | None = None
    expires_at: int = 0


def expiry(policy: SessionPolicy, created_at: int, now: int) -> int:
    """The sliding expiry, never past the session's absolute end (SES-04)."""
    sliding = now + policy.refresh_token_validity_ms
    absolute = policy.absolute_lifetime_ms
    return min(sliding, created_at + absolute) if absolute else sliding


def live(policy: SessionPolicy, record: SessionRecord | None, now: int) -> SessionRecord | None:
    """``record`` unless its session has ended at ``now``."""
    if record is None or record.expires_at <= now:
        return None
    absolute = policy.absolute_lifetime_ms
    if absolute and record.created_at + absolute <= now:
        # Also ends sessions made before the limit was configured or lowered.
        return None
    return record


def refresh_step(
    policy: SessionPolicy,
    stored: SessionRecord | None,
    presented_hash1: str,
    parent_hash1: str | None,
    now: int,
) -> tuple[RefreshStep, SessionWrite]:
    """What refreshing with a token (``presented_hash1``, sealed with ``parent_hash1``) does to
    the session row ``stored``: theft deletes it, the first use of a child promotes it (and
    slides the expiry), anything else writes nothing."""
    record = live(policy, stored, now)
    if record is None:
        return RefreshStep(None), None
    decision = decide_refresh(presented_hash1, parent_hash1, record.refresh_token_hash2)
    if decision.outcome is RefreshOutcome.THEFT:
        return RefreshStep(record, decision.outcome), "revoke"
    if decision.outcome is RefreshOutcome.PROMOTE_CHILD:
        if decision.new_hash2 is None:
            raise RuntimeError("a promotion decision without the hash to store")
        expires_at = expiry(policy, record.created_at, now)
        promote = Rotate(decision.expected_hash2, decision.new_hash2, expires_at)
        return RefreshStep(record, decision.outcome, expires_at), promote
    expires_at = min(record.expires_at, expiry(policy, record.created_at, now))
    return RefreshStep(record, decision.outcome, expires_at), None
