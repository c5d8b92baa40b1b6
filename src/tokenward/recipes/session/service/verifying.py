"""Verifying a session's access token: locally with the keys at hand (no I/O in the common
case), and against the session row when the token's refresh token may need promoting or the
caller asks for a database check."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.recipes.session.errors import SessionBusy, Unauthorised
from tokenward.recipes.session.port import SessionStore
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules.access_token import AccessTokenClaims
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.rotation import VerifyOutcome, verify_step
from tokenward.recipes.session.service.minting import Minter
from tokenward.recipes.session.service.reading import TokenReader
from tokenward.recipes.session.service.types import VerifiedSession
from tokenward.shared.clock import Clock
from tokenward.shared.token_errors import UnknownKeyId


@dataclass(frozen=True, slots=True)
class SessionVerification:
    store: SessionStore
    reader: TokenReader
    minter: Minter
    policy: SessionPolicy
    clock: Clock

    async def verify(
        self,
        token: str,
        *,
        check_database: bool = False,
        anti_csrf_token: str | None = None,
        check_anti_csrf_token: bool = False,
        anti_csrf: bool | None = None,
    ) -> VerifiedSession:
        """Check an access token. Without a parent hash and without ``check_database`` this does
        no I/O; otherwise it consults (and may promote) the session row."""
        try:
            claims = self.reader.parse_now(token)  # the common case, without a coroutine
        except UnknownKeyId:
            claims = await self.reader.parse_with_reloaded_keys(token)
        if check_anti_csrf_token:
            self.reader.check_anti_csrf(claims, anti_csrf_token, anti_csrf)
        if claims.parent_refresh_token_hash1 is None and not check_database:
            return VerifiedSession(claims, token)
        return await self._with_database(claims, token, check_database=check_database)

    async def _with_database(
        self, claims: AccessTokenClaims, token: str, *, check_database: bool
    ) -> VerifiedSession:
        now = self.clock.now_ms()
        # The store reads the row, decides and writes only if the row did not change; a lost
        # race is decided again on the row as it now is.
        step, written = await self.store.decide_and_write(
            claims.session_handle,
            functools.partial(
                verify_step,
                self.policy,
                token_hash1=claims.refresh_token_hash1,
                parent_hash1=claims.parent_refresh_token_hash1,
                now=now,
            ),
        )
        record = step.record
        if record is None:
            raise Unauthorised("session has ended or been revoked", clear_tokens=True)
        if step.outcome is VerifyOutcome.PROMOTE and not written:
            raise SessionBusy("the session changed concurrently; retry")
        reissue = step.outcome is not VerifyOutcome.UNCHANGED or (
            check_database and dict(claims.user_claims) != _without_issuer(record.jwt_payload)
        )
        if not reissue:
            return VerifiedSession(claims, token)
        access = await self.minter.mint(
            record, claims.refresh_token_hash1, None, claims.anti_csrf_token, now
        )
        return VerifiedSession(claims, token, access)


def _without_issuer(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != access_token.ISSUER_CLAIM}
