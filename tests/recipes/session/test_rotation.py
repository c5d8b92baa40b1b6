"""Rotation and theft decisions on hand-written scenarios (the model test explores the rest)."""

from __future__ import annotations

from tokenward.recipes.session.rules import refresh_token
from tokenward.recipes.session.rules.refresh_token import RefreshTokenPayload
from tokenward.recipes.session.rules.rotation import (
    RefreshOutcome,
    VerifyOutcome,
    decide_refresh,
    decide_verify,
)


def mint(key: bytes, parent: str | None) -> str:
    parent_hash1 = refresh_token.hash1(parent) if parent is not None else None
    return refresh_token.seal(key, RefreshTokenPayload("handle", "public", parent_hash1))


def refresh(key: bytes, token: str, stored_hash2: str) -> tuple[RefreshOutcome, str | None]:
    opened = refresh_token.open(key, token)
    decision = decide_refresh(refresh_token.hash1(token), opened.parent_hash1, stored_hash2)
    assert decision.expected_hash2 == stored_hash2
    return decision.outcome, decision.new_hash2


def test_refresh_with_current_parent_leaves_the_row_alone(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    stored = refresh_token.hash2(rt0)
    decision = decide_refresh(refresh_token.hash1(rt0), None, stored)
    assert decision.outcome is RefreshOutcome.CURRENT_PARENT
    assert decision.new_hash2 is None
    assert decision.child_parent_hash1 == refresh_token.hash1(rt0)


def test_first_use_of_a_child_promotes_it(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    rt1 = mint(refresh_key, rt0)
    stored = refresh_token.hash2(rt0)
    decision = decide_refresh(refresh_token.hash1(rt1), refresh_token.hash1(rt0), stored)
    assert decision.outcome is RefreshOutcome.PROMOTE_CHILD
    assert decision.new_hash2 == refresh_token.hash2(rt1)
    assert decision.expected_hash2 == stored
    # The grandchild's parent is the presented (now current) token.
    assert decision.child_parent_hash1 == refresh_token.hash1(rt1)


def test_parallel_refreshes_then_one_child_wins(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    stored = refresh_token.hash2(rt0)
    tabs = []
    for _ in range(3):
        outcome, _ = refresh(refresh_key, rt0, stored)
        assert outcome is RefreshOutcome.CURRENT_PARENT
        tabs.append(mint(refresh_key, rt0))
    outcome, new_hash2 = refresh(refresh_key, tabs[1], stored)
    assert outcome is RefreshOutcome.PROMOTE_CHILD and new_hash2 is not None
    stored = new_hash2
    assert refresh(refresh_key, tabs[1], stored)[0] is RefreshOutcome.CURRENT_PARENT
    # Losing siblings and the old parent are now theft.
    assert refresh(refresh_key, tabs[0], stored)[0] is RefreshOutcome.THEFT
    assert refresh(refresh_key, tabs[2], stored)[0] is RefreshOutcome.THEFT
    assert refresh(refresh_key, rt0, stored)[0] is RefreshOutcome.THEFT


def test_ancestor_replay_is_theft(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    rt1 = mint(refresh_key, rt0)
    rt2 = mint(refresh_key, rt1)
    stored = refresh_token.hash2(rt2)  # rt2 was promoted
    assert refresh(refresh_key, rt0, stored)[0] is RefreshOutcome.THEFT
    assert refresh(refresh_key, rt1, stored)[0] is RefreshOutcome.THEFT
    decision = decide_refresh(refresh_token.hash1(rt0), None, stored)
    assert decision.new_hash2 is None and decision.child_parent_hash1 is None


def test_token_of_another_session_is_theft(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    other = mint(refresh_key, None)
    assert refresh(refresh_key, other, refresh_token.hash2(rt0))[0] is RefreshOutcome.THEFT


def test_verify_promotes_a_fresh_child(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    rt1 = mint(refresh_key, rt0)
    stored = refresh_token.hash2(rt0)
    decision = decide_verify(refresh_token.hash1(rt1), refresh_token.hash1(rt0), stored)
    assert decision.outcome is VerifyOutcome.PROMOTE
    assert decision.new_hash2 == refresh_token.hash2(rt1)
    assert decision.expected_hash2 == stored


def test_verify_reissues_once_already_promoted(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    rt1 = mint(refresh_key, rt0)
    stored = refresh_token.hash2(rt1)  # a parallel request promoted rt1 first
    decision = decide_verify(refresh_token.hash1(rt1), refresh_token.hash1(rt0), stored)
    assert decision.outcome is VerifyOutcome.REISSUE
    assert decision.new_hash2 is None


def test_verify_never_detects_theft(refresh_key: bytes) -> None:
    rt0 = mint(refresh_key, None)
    rt1 = mint(refresh_key, rt0)
    rt1b = mint(refresh_key, rt0)
    stored = refresh_token.hash2(rt1)
    orphan = decide_verify(refresh_token.hash1(rt1b), refresh_token.hash1(rt0), stored)
    assert orphan.outcome is VerifyOutcome.UNCHANGED and orphan.new_hash2 is None
    no_parent = decide_verify(refresh_token.hash1(rt1), None, stored)
    assert no_parent.outcome is VerifyOutcome.UNCHANGED


def test_outcome_values_are_stable_strings() -> None:
    assert [o.value for o in RefreshOutcome] == ["current_parent", "promote_child", "theft"]
    assert [o.value for o in VerifyOutcome] == ["promote", "reissue", "unchanged"]
