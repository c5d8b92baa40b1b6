"""Refreshing a session: open the sealed refresh token, let the store apply the rotation
decision (``rules.rotation.refresh_step``) to the session row, and mint the next pair.

Rotation follows SuperTokens' core for CDI <= 5.5: refreshing with the current parent mints a
child and writes nothing; the first use of a child promotes it with one conditional update;
any other token is theft, which revokes the session. The store writes only if the row is still
as the decision saw it and otherwise decides again on the row as it now is (one retry loop, in
the store), so parallel refreshes with one token never report theft and never promote twice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tokenward.recipes.session.errors import SessionBusy, TokenTheftDetected, Unauthorised
from tokenward.recipes.session.port import SessionRecord, SessionStore
from tokenward.recipes.session.rules import refresh_token as rt
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.rotation import RefreshOutcome, refresh_step
from tokenward.recipes.session.service.minting import Minter
from tokenward.recipes.session.service.reading import TokenReader
from tokenward.recipes.session.service.types import IssuedTokens
from tokenward.shared.clock import Clock
from tokenward.shared.token_errors import InvalidRefreshToken


@dataclass(frozen=True, slots=True)
class SessionRefresh:
    store: SessionStore
    reader: TokenReader
    minter: Minter
    refresh_key: bytes
    policy: SessionPolicy
    clock: Clock

    async def refresh(
        self,
        token: str,
        *,
        anti_csrf_token: str | None = None,
        check_anti_csrf_token: bool = False,
        anti_csrf: bool | None = None,
    ) -> IssuedTokens:
        """Exchange a refresh token for a new pair. Raises Unauthorised (clear tokens) or
        TokenTheftDetected (after revoking the session)."""
        try:
            sealed = rt.open(self.refresh_key, token)
        except InvalidRefreshToken:
            raise Unauthorised("refresh token is not valid", clear_tokens=True) from None
        if check_anti_csrf_token and not self.reader.anti_csrf_ok(
            sealed.anti_csrf_token, anti_csrf_token, anti_csrf
        ):
            raise Unauthorised("anti-csrf token missing or not matching", clear_tokens=True)
        presented_hash1 = rt.hash1(token)
        now = self.clock.now_ms()
        step, written = await self.store.decide_and_write(
            sealed.session_handle,
            functools.partial(
                refresh_step,
                self.policy,
                presented_hash1=presented_hash1,
                parent_hash1=sealed.parent_hash1,
                now=now,
            ),
        )
        record = step.record
        if record is None:
            raise Unauthorised("session has ended or expired", clear_tokens=True)
        if step.outcome is RefreshOutcome.THEFT:
            raise TokenTheftDetected(record.session_handle, record.user_id, record.recipe_user_id)
        if step.outcome is RefreshOutcome.PROMOTE_CHILD and not written:
            raise SessionBusy("the session changed concurrently; retry")
        return await self._child(record, presented_hash1, step.expires_at, now, anti_csrf)

    async def _child(
        self,
        record: SessionRecord,
        parent_hash1: str,
        expires_at: int,
        now: int,
        anti_csrf_enabled: bool | None,
    ) -> IssuedTokens:
        """The next pair: a refresh token sealed with its parent's hash, and its access token."""
        anti_csrf = self.minter.new_anti_csrf(anti_csrf_enabled)
        child = rt.seal(
            self.refresh_key,
            rt.RefreshTokenPayload(
                record.session_handle,
                record.tenant_id,
                parent_hash1=parent_hash1,
                anti_csrf_token=anti_csrf,
            ),
        )
        access = await self.minter.mint(record, rt.hash1(child), parent_hash1, anti_csrf, now)
        return IssuedTokens(access, child, expires_at, anti_csrf)
