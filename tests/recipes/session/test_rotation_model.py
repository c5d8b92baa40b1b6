"""Model-based test of rotation over one session row, using real sealed tokens and hashes.

The model tracks the token *tree* by identity (which token was minted from which) and the
row as the real code stores it (a hash2). Expected outcomes are derived from the tree alone,
so the real decision functions, hashes and seal/open are checked against the meaning of
the algorithm rather than against a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tokenward.recipes.session.rules import refresh_token
from tokenward.recipes.session.rules.refresh_token import RefreshTokenPayload
from tokenward.recipes.session.rules.rotation import (
    RefreshOutcome,
    VerifyOutcome,
    decide_refresh,
    decide_verify,
)

KEY = bytes(range(32))


@dataclass(eq=False)
class Node:
    token: str
    parent: Node | None
    children: list[Node] = field(default_factory=list)

    def ancestors(self) -> list[Node]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


@dataclass(frozen=True)
class AccessToken:
    """What verify sees of an access token: its refresh token and that token's parent."""

    node: Node
    parent: Node | None


class SessionRow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.counter = 0
        self.nodes: list[Node] = []
        self.access_tokens: list[AccessToken] = []
        self.stored_hash2 = ""
        self.current: Node | None = None

    # -- helpers -----------------------------------------------------------------------

    def mint(self, parent: Node | None, parent_hash1: str | None) -> Node:
        self.counter += 1
        token = refresh_token.seal(
            KEY,
            RefreshTokenPayload("handle", "public", parent_hash1),
            iv=self.counter.to_bytes(12, "big"),
            nonce=self.counter.to_bytes(16, "big"),
        )
        node = Node(token, parent)
        if parent is not None:
            parent.children.append(node)
        self.nodes.append(node)
        return node

    def present(self, node: Node) -> RefreshOutcome:
        """Run a refresh with ``node`` through the real code and apply it like a store."""
        opened = refresh_token.open(KEY, node.token)
        expected_parent = refresh_token.hash1(node.parent.token) if node.parent else None
        assert opened.parent_hash1 == expected_parent
        decision = decide_refresh(
            refresh_token.hash1(node.token), opened.parent_hash1, self.stored_hash2
        )
        assert decision.expected_hash2 == self.stored_hash2

        assert self.current is not None
        if node is self.current:
            assert decision.outcome is RefreshOutcome.CURRENT_PARENT
        elif node.parent is self.current:
            assert decision.outcome is RefreshOutcome.PROMOTE_CHILD
        else:
            # Only an ancestor of the current token, or a sibling branch that lost the
            # race, may be called theft.
            assert decision.outcome is RefreshOutcome.THEFT
            assert decision.new_hash2 is None and decision.child_parent_hash1 is None
            return decision.outcome

        if decision.outcome is RefreshOutcome.PROMOTE_CHILD:
            assert decision.new_hash2 == refresh_token.hash2(node.token)
            self.stored_hash2 = decision.new_hash2
            self.current = node
        else:
            assert decision.new_hash2 is None
        assert decision.child_parent_hash1 == refresh_token.hash1(node.token)
        child = self.mint(node, decision.child_parent_hash1)
        self.access_tokens.append(AccessToken(child, node))
        return decision.outcome

    def classify(self, node: Node) -> str:
        assert self.current is not None
        if node is self.current:
            return "current"
        if node.parent is self.current:
            return "child"
        if node in self.current.ancestors():
            return "ancestor"
        return "orphan"

    # -- rules -------------------------------------------------------------------------

    @initialize()
    def create(self) -> None:
        root = self.mint(None, None)
        self.current = root
        self.stored_hash2 = refresh_token.hash2(root.token)
        self.access_tokens.append(AccessToken(root, None))

    @rule(index=st.integers(min_value=0))
    def refresh_any(self, index: int) -> None:
        node = self.nodes[index % len(self.nodes)]
        kind = self.classify(node)
        outcome = self.present(node)
        assert (outcome is RefreshOutcome.THEFT) == (kind in ("ancestor", "orphan"))

    @rule()
    def refresh_newest_of_lineage(self) -> None:
        assert self.current is not None
        newest = self.current.children[-1] if self.current.children else self.current
        assert self.present(newest) is not RefreshOutcome.THEFT

    @rule(tabs=st.integers(min_value=2, max_value=4), winner=st.integers(min_value=0))
    def parallel_refreshes(self, tabs: int, winner: int) -> None:
        parent = self.current
        assert parent is not None
        children = []
        for _ in range(tabs):
            assert self.present(parent) is RefreshOutcome.CURRENT_PARENT
            children.append(parent.children[-1])
        chosen = children[winner % tabs]
        assert self.present(chosen) is RefreshOutcome.PROMOTE_CHILD
        assert self.current is chosen
        for loser in children:
            if loser is not chosen:
                assert self.classify(loser) == "orphan"

    @rule(index=st.integers(min_value=0))
    def verify_any(self, index: int) -> None:
        access = self.access_tokens[index % len(self.access_tokens)]
        parent_hash1 = refresh_token.hash1(access.parent.token) if access.parent else None
        decision = decide_verify(
            refresh_token.hash1(access.node.token), parent_hash1, self.stored_hash2
        )
        assert decision.expected_hash2 == self.stored_hash2
        if access.parent is None:
            assert decision.outcome is VerifyOutcome.UNCHANGED
        elif access.parent is self.current:
            assert decision.outcome is VerifyOutcome.PROMOTE
            assert decision.new_hash2 == refresh_token.hash2(access.node.token)
            self.stored_hash2 = decision.new_hash2
            self.current = access.node
        elif access.node is self.current:
            assert decision.outcome is VerifyOutcome.REISSUE
        else:
            assert decision.outcome is VerifyOutcome.UNCHANGED
        if decision.outcome is not VerifyOutcome.UNCHANGED:
            self.access_tokens.append(AccessToken(access.node, None))
        else:
            assert decision.new_hash2 is None

    @precondition(lambda self: self.current is not None and self.current.parent is not None)
    @rule(index=st.integers(min_value=0))
    def replay_ancestor(self, index: int) -> None:
        assert self.current is not None
        ancestors = self.current.ancestors()
        assert self.present(ancestors[index % len(ancestors)]) is RefreshOutcome.THEFT

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def row_names_the_current_token(self) -> None:
        if self.current is not None:
            assert self.stored_hash2 == refresh_token.hash2(self.current.token)

    @invariant()
    def current_lineage_always_works(self) -> None:
        if self.current is None:
            return
        current = decide_refresh(
            refresh_token.hash1(self.current.token),
            refresh_token.open(KEY, self.current.token).parent_hash1,
            self.stored_hash2,
        )
        assert current.outcome is RefreshOutcome.CURRENT_PARENT
        for child in self.current.children:
            decision = decide_refresh(
                refresh_token.hash1(child.token),
                refresh_token.open(KEY, child.token).parent_hash1,
                self.stored_hash2,
            )
            assert decision.outcome is RefreshOutcome.PROMOTE_CHILD

    @invariant()
    def every_ancestor_is_theft(self) -> None:
        if self.current is None:
            return
        for ancestor in self.current.ancestors():
            decision = decide_refresh(
                refresh_token.hash1(ancestor.token),
                refresh_token.open(KEY, ancestor.token).parent_hash1,
                self.stored_hash2,
            )
            assert decision.outcome is RefreshOutcome.THEFT


SessionRow.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestSessionRow = SessionRow.TestCase
