"""The refresh rules on one session row (``rotation.refresh_step``): liveness, the sliding and
absolute expiry, and the write each rotation outcome makes. Pure: driven with plain values."""

from __future__ import annotations

import dataclasses

import pytest

from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.refresh_token import hash2_from_hash1
from tokenward.recipes.session.rules.rotation import RefreshOutcome, refresh_step
from tokenward.recipes.session.rules.session_row import Rotate, SessionRecord

HOUR = 3_600_000
DAY = 24 * HOUR
CREATED = 1_000_000_000_000
POLICY = SessionPolicy(
    access_token_validity_ms=HOUR,
    refresh_token_validity_ms=100 * DAY,
    issuer="https://auth.example.com/auth",
    anti_csrf_tokens=False,
)
PARENT_HASH1 = "a" * 64  # the current parent's hash1
CHILD_HASH1 = "b" * 64  # a child minted from it
STRANGER_HASH1 = "c" * 64


def row(*, expires_at: int = CREATED + 100 * DAY, created_at: int = CREATED) -> SessionRecord:
    return SessionRecord(
        session_handle="h",
        tenant_id="public",
        user_id="u",
        recipe_user_id="u",
        refresh_token_hash2=hash2_from_hash1(PARENT_HASH1),
        session_data={},
        jwt_payload={},
        created_at=created_at,
        expires_at=expires_at,
    )


def test_no_row_ends_the_refresh_and_writes_nothing() -> None:
    step, write = refresh_step(POLICY, None, PARENT_HASH1, None, CREATED)
    assert step.record is None and write is None


@pytest.mark.parametrize("expires_at", [CREATED + DAY, CREATED + DAY - 1])
def test_an_expired_row_counts_as_ended(expires_at: int) -> None:
    step, write = refresh_step(
        POLICY, row(expires_at=expires_at), PARENT_HASH1, None, CREATED + DAY
    )
    assert step.record is None and write is None


def test_the_absolute_lifetime_ends_a_session_however_often_it_was_refreshed() -> None:
    policy = dataclasses.replace(POLICY, absolute_lifetime_ms=30 * DAY)
    now = CREATED + 30 * DAY
    step, write = refresh_step(policy, row(expires_at=now + DAY), PARENT_HASH1, None, now)
    assert step.record is None and write is None
    earlier = now - 1
    step, write = refresh_step(
        policy, row(expires_at=now + DAY), CHILD_HASH1, PARENT_HASH1, earlier
    )
    assert step.outcome is RefreshOutcome.PROMOTE_CHILD
    assert isinstance(write, Rotate) and write.expires_at == CREATED + 30 * DAY  # capped


def test_the_current_parent_mints_a_child_and_leaves_the_row_alone() -> None:
    now = CREATED + DAY
    record = row()
    step, write = refresh_step(POLICY, record, PARENT_HASH1, None, now)
    assert step.outcome is RefreshOutcome.CURRENT_PARENT and write is None
    assert step.record == record
    assert step.expires_at == record.expires_at  # no slide until the child is used


def test_the_first_use_of_a_child_promotes_it_and_slides_the_expiry() -> None:
    now = CREATED + DAY
    step, write = refresh_step(POLICY, row(), CHILD_HASH1, PARENT_HASH1, now)
    assert step.outcome is RefreshOutcome.PROMOTE_CHILD
    assert write == Rotate(
        expected_hash2=hash2_from_hash1(PARENT_HASH1),
        new_hash2=hash2_from_hash1(CHILD_HASH1),
        expires_at=now + 100 * DAY,
    )
    assert step.expires_at == now + 100 * DAY


@pytest.mark.parametrize(
    ("presented", "parent"),
    [(STRANGER_HASH1, None), (STRANGER_HASH1, STRANGER_HASH1), (CHILD_HASH1, STRANGER_HASH1)],
)
def test_any_other_token_is_theft_and_revokes_the_session(
    presented: str, parent: str | None
) -> None:
    step, write = refresh_step(POLICY, row(), presented, parent, CREATED + DAY)
    assert step.outcome is RefreshOutcome.THEFT and write == "revoke"
    assert step.record is not None
