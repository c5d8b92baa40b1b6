"""Refresh-token rotation and theft detection, as pure decisions over one session row.

This is SuperTokens' algorithm for CDI <= 5.5. The row stores one value, ``hash2`` of the
*current parent* refresh token. Refreshing with the current parent mints a child but leaves
the row alone, so several tabs refreshing at once all succeed. The first use of any such
child (on refresh, or its access token on verify) *promotes* it: the row then names the
child, and every other sibling and every ancestor becomes unusable. Presenting a token that
is neither the current parent nor one of its children is theft.

The store applies a decision with one conditional update, ``UPDATE ... SET hash2 = :new
WHERE handle = :h AND hash2 = :expected``. If it touches no row, another request changed
the row first: re-read it and decide again (the second decision may well be benign).
``refresh_step`` and ``verify_step`` are those decisions on a whole row (liveness, expiry,
the write to make), which ``SessionStore.decide_and_write`` runs between its read and its
write, and runs again on the row as it now is when the write loses a race.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.refresh_token import hash2_from_hash1
from tokenward.recipes.session.rules.session_row import Rotate, SessionRecord, SessionWrite
from tokenward.shared.encoding import constant_time_equal


class RefreshOutcome(StrEnum):
    CURRENT_PARENT = "current_parent"
    """The presented token is the current parent: mint a child, leave the row unchanged."""
    PROMOTE_CHILD = "promote_child"
    """An unused child of the current parent: store ``new_hash2``, slide the session expiry,
    then mint a grandchild (a child of the presented token)."""
    THEFT = "theft"
    """Anything else: an ancestor, or a sibling of an already-promoted child."""


class VerifyOutcome(StrEnum):
    PROMOTE = "promote"
    """The access token's refresh token is an unused child: store ``new_hash2``, slide the
    expiry, and return a new access token whose parent hash is null."""
    REISSUE = "reissue"
    """Its refresh token is already the current parent (promoted by a parallel request):
    return a new access token with a null parent hash so the SDK stops calling verify;
    the row is unchanged. The SuperTokens core does the same."""
    UNCHANGED = "unchanged"
    """Nothing to do. Verify never detects theft; only a refresh can."""


@dataclass(frozen=True, slots=True)
class RefreshDecision:
    outcome: RefreshOutcome
    expected_hash2: str
    """The row value this decision was based on: the conditional update's guard."""
    new_hash2: str | None
    """The value to store (``PROMOTE_CHILD`` only)."""
    child_parent_hash1: str | None
    """``parentRefreshTokenHash1`` for the token pair to mint; ``None`` on theft."""


@dataclass(frozen=True, slots=True)
class VerifyDecision:
    outcome: VerifyOutcome
    expected_hash2: str
    new_hash2: str | None
    """The value to store (``PROMOTE`` only)."""


def decide_refresh(
    presented_token_hash1: str,
    presented_parent_hash1: str | None,
    stored_hash2: str,
) -> RefreshDecision:
    """Classify a refresh with a token whose ``hash1`` and sealed parent hash are given.

    ``presented_parent_hash1`` must come from an authenticated (opened) refresh token,
    never from client-controlled data. Both comparisons always run, so the time taken does
    not reveal which one matched.
    """
    own_hash2 = hash2_from_hash1(presented_token_hash1)
    is_current = constant_time_equal(own_hash2, stored_hash2)
    parent_matches = constant_time_equal(
        hash2_from_hash1(presented_parent_hash1 or ""), stored_hash2
    )
    is_child = presented_parent_hash1 is not None and parent_matches
    if is_current:
        return RefreshDecision(
            RefreshOutcome.CURRENT_PARENT, stored_hash2, None, presented_token_hash1
        )
    if is_child:
        return RefreshDecision(
            RefreshOutcome.PROMOTE_CHILD, stored_hash2, own_hash2, presented_token_hash1
        )
    return RefreshDecision(RefreshOutcome.THEFT, stored_hash2, None, None)


def decide_verify(
    token_hash1: str,
    token_parent_hash1: str | None,
    stored_hash2: str,
) -> VerifyDecision:
    """Classify an access token (``refreshTokenHash1`` and ``parentRefreshTokenHash1``).

    Tokens without a parent hash need no database visit at all; the SDKs do not even call
    the core for them, so the answer for them is always ``UNCHANGED``.
    """
    if token_parent_hash1 is None:
        return VerifyDecision(VerifyOutcome.UNCHANGED, stored_hash2, None)
    own_hash2 = hash2_from_hash1(token_hash1)
    parent_is_current = constant_time_equal(hash2_from_hash1(token_parent_hash1), stored_hash2)
    own_is_current = constant_time_equal(own_hash2, stored_hash2)
    if parent_is_current:
        return VerifyDecision(VerifyOutcome.PROMOTE, stored_hash2, own_hash2)
    if own_is_current:
        return VerifyDecision(VerifyOutcome.REISSUE, stored_hash2, None)
    return VerifyDecision(VerifyOutcome.UNCHANGED, stored_hash2, None)


# --- the refresh, decided on the session row ---------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class VerifyStep:
    """The live session a verification read (None: ended, expired or unknown) and what
    ``decide_verify`` made of the access token."""

    record: SessionRecord | None
    outcome: VerifyOutcome | None = None


def verify_step(
    policy: SessionPolicy,
    stored: SessionRecord | None,
    token_hash1: str,
    parent_hash1: str | None,
    now: int,
) -> tuple[VerifyStep, SessionWrite]:
    """What verifying an access token (bound to ``token_hash1``, minted with ``parent_hash1``)
    against the database does to the row ``stored``: the first use of a child promotes it and
    slides the expiry; anything else writes nothing (verification never detects theft)."""
    record = live(policy, stored, now)
    if record is None:
        return VerifyStep(None), None
    decision = decide_verify(token_hash1, parent_hash1, record.refresh_token_hash2)
    if decision.outcome is VerifyOutcome.PROMOTE:
        if decision.new_hash2 is None:
            raise RuntimeError("a promotion decision without the hash to store")
        promote = Rotate(
            decision.expected_hash2, decision.new_hash2, expiry(policy, record.created_at, now)
        )
        return VerifyStep(record, decision.outcome), promote
    return VerifyStep(record, decision.outcome), None
