"""The session API: create, verify, refresh (rotation and theft detection), revoke, and the
session's data and access-token payload.

Rotation follows SuperTokens' core for CDI <= 5.5 (``core.rotation``): refreshing with the
current parent mints a child and writes nothing; the first use of a child promotes it with one
conditional update. A refresh hands its decision (``service.session_refresh``) to the store,
which writes only if the row is still as the decision saw it; a verification's promotion runs
on its own. When a conditional update loses a race, the row is read again and the decision is
made again, so parallel refreshes with one token never report theft and never promote twice.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Mapping
from typing import Any

from tokenward.recipes.jwt.service import KeyRing
from tokenward.recipes.session.errors import (
    SessionBusy,
    TokenTheftDetected,
    TryRefreshToken,
    Unauthorised,
)
from tokenward.recipes.session.port import SessionRecord, SessionStore
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules import refresh_token as rt
from tokenward.recipes.session.rules.access_token import AccessTokenClaims
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.rotation import (
    RefreshOutcome,
    VerifyOutcome,
    decide_verify,
    expiry,
    live,
    refresh_step,
)
from tokenward.recipes.session.service.types import (
    AccessToken,
    IssuedTokens,
    SessionInfo,
    VerifiedSession,
    signed_access_token,
)
from tokenward.shared.clock import Clock
from tokenward.shared.encoding import constant_time_equal
from tokenward.shared.token_errors import (
    InvalidRefreshToken,
    MalformedToken,
    TokenNeedsRefresh,
    UnknownKeyId,
)

DEFAULT_TENANT = "public"
# A lost race on the conditional update means another request moved the lineage on; deciding
# again settles it. More rounds than this means something is hammering one session.
MAX_ROTATION_ROUNDS = 5


class SessionService:
    def __init__(
        self,
        store: SessionStore,
        keys: KeyRing,
        refresh_key: bytes,
        policy: SessionPolicy,
        clock: Clock,
    ) -> None:
        self._store = store
        self._keys = keys
        self._refresh_key = refresh_key
        self._policy = policy
        self._clock = clock

    @property
    def keys(self) -> KeyRing:
        return self._keys

    # --- create -------------------------------------------------------------------------------

    async def create(
        self,
        user_id: str,
        *,
        recipe_user_id: str | None = None,
        tenant_id: str = DEFAULT_TENANT,
        access_token_payload: Mapping[str, Any] | None = None,
        session_data: Mapping[str, Any] | None = None,
        anti_csrf: bool | None = None,
    ) -> IssuedTokens:
        """Start a session. Raises ProtectedClaimError if the payload uses a reserved claim.
        ``anti_csrf`` overrides the configured choice of anti-CSRF tokens (the core API lets
        each backend SDK call decide)."""
        payload = dict(access_token_payload or {})
        access_token.check_user_payload(payload)
        now = self._clock.now_ms()
        handle = str(uuid.uuid4())
        if tenant_id != DEFAULT_TENANT:
            handle = f"{handle}_{tenant_id}"
        anti_csrf_token = self._new_anti_csrf(anti_csrf)
        token = rt.seal(
            self._refresh_key,
            rt.RefreshTokenPayload(handle, tenant_id, anti_csrf_token=anti_csrf_token),
        )
        record = SessionRecord(
            session_handle=handle,
            tenant_id=tenant_id,
            user_id=user_id,
            recipe_user_id=recipe_user_id or user_id,
            refresh_token_hash2=rt.hash2(token),
            session_data=dict(session_data or {}),
            jwt_payload=payload,
            created_at=now,
            expires_at=self._expiry(now, now),
        )
        access = await self._mint(record, rt.hash1(token), None, anti_csrf_token, now)
        await self._store.create(record)
        return IssuedTokens(access, token, record.expires_at, anti_csrf_token)

    # --- verify -------------------------------------------------------------------------------

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
            claims = self._parse_now(token)  # the common case, without a coroutine of its own
        except UnknownKeyId:
            claims = await self._parse_with_reloaded_keys(token)
        if check_anti_csrf_token and not self._anti_csrf_ok(
            claims.anti_csrf_token, anti_csrf_token, anti_csrf
        ):
            raise TryRefreshToken("anti-csrf token missing or not matching")
        if claims.parent_refresh_token_hash1 is None and not check_database:
            return VerifiedSession(claims, token)
        return await self._verify_with_database(claims, token, check_database=check_database)

    async def _parse(self, token: str) -> AccessTokenClaims:
        try:
            return self._parse_now(token)
        except UnknownKeyId:
            return await self._parse_with_reloaded_keys(token)

    async def _parse_with_reloaded_keys(self, token: str) -> AccessTokenClaims:
        """After an unknown ``kid``: another instance may have rotated the keys since this one
        loaded them, so reload them (at most once in a while) and try again."""
        if await self._keys.reload_for_unknown_kid():
            with contextlib.suppress(UnknownKeyId):
                return self._parse_now(token)
        raise TryRefreshToken("access token expired or not verifiable")

    def _parse_now(self, token: str) -> AccessTokenClaims:
        """Verify and read ``token`` with the keys at hand, without I/O; raises the service's
        errors, except ``UnknownKeyId``, which ``_parse_with_reloaded_keys`` answers."""
        issuer = self._policy.issuer if self._policy.verify_issuer else None
        try:
            return access_token.parse(
                token, self._keys.public_keys, self._clock.now_ms() // 1000, expected_issuer=issuer
            )
        except UnknownKeyId:
            raise
        except MalformedToken:
            raise Unauthorised("token parsing failed", clear_tokens=False) from None
        except TokenNeedsRefresh:
            raise TryRefreshToken("access token expired or not verifiable") from None

    async def _verify_with_database(
        self, claims: AccessTokenClaims, token: str, *, check_database: bool
    ) -> VerifiedSession:
        for _ in range(MAX_ROTATION_ROUNDS):
            now = self._clock.now_ms()
            record = await self._live_record(claims.session_handle, now)
            if record is None:
                raise Unauthorised("session has ended or been revoked", clear_tokens=True)
            decision = decide_verify(
                claims.refresh_token_hash1,
                claims.parent_refresh_token_hash1,
                record.refresh_token_hash2,
            )
            if decision.outcome is VerifyOutcome.PROMOTE and not await self._promote(
                record, decision.expected_hash2, decision.new_hash2, now
            ):
                continue
            reissue = decision.outcome is not VerifyOutcome.UNCHANGED or (
                check_database and dict(claims.user_claims) != _without_issuer(record.jwt_payload)
            )
            if not reissue:
                return VerifiedSession(claims, token)
            access = await self._mint(
                record, claims.refresh_token_hash1, None, claims.anti_csrf_token, now
            )
            return VerifiedSession(claims, token, access)
        raise SessionBusy("the session changed concurrently too often; retry")

    # --- refresh ------------------------------------------------------------------------------

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
            sealed = rt.open(self._refresh_key, token)
        except InvalidRefreshToken:
            raise Unauthorised("refresh token is not valid", clear_tokens=True) from None
        if check_anti_csrf_token and not self._anti_csrf_ok(
            sealed.anti_csrf_token, anti_csrf_token, anti_csrf
        ):
            raise Unauthorised("anti-csrf token missing or not matching", clear_tokens=True)
        presented_hash1 = rt.hash1(token)
        for _ in range(MAX_ROTATION_ROUNDS):
            now = self._clock.now_ms()
            # The store reads the row, decides and writes only if the row did not change.
            step, written = await self._store.decide_and_write(
                sealed.session_handle,
                functools.partial(
                    refresh_step,
                    self._policy,
                    presented_hash1=presented_hash1,
                    parent_hash1=sealed.parent_hash1,
                    now=now,
                ),
            )
            record = step.record
            if record is None:
                raise Unauthorised("session has ended or expired", clear_tokens=True)
            if step.outcome is RefreshOutcome.THEFT:
                raise TokenTheftDetected(
                    record.session_handle, record.user_id, record.recipe_user_id
                )
            if step.outcome is RefreshOutcome.PROMOTE_CHILD and not written:
                continue
            return await self._issue_child(record, presented_hash1, step.expires_at, now, anti_csrf)
        raise SessionBusy("the session changed concurrently too often; retry")

    async def _issue_child(
        self,
        record: SessionRecord,
        parent_hash1: str,
        expires_at: int,
        now: int,
        anti_csrf_enabled: bool | None,
    ) -> IssuedTokens:
        anti_csrf = self._new_anti_csrf(anti_csrf_enabled)
        child = rt.seal(
            self._refresh_key,
            rt.RefreshTokenPayload(
                record.session_handle,
                record.tenant_id,
                parent_hash1=parent_hash1,
                anti_csrf_token=anti_csrf,
            ),
        )
        access = await self._mint(record, rt.hash1(child), parent_hash1, anti_csrf, now)
        return IssuedTokens(access, child, expires_at, anti_csrf)

    # --- management ---------------------------------------------------------------------------

    async def revoke(self, session_handles: list[str]) -> list[str]:
        return await self._store.delete(session_handles)

    async def revoke_all_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]:
        return await self._store.delete_for_user(user_id, tenant_id)

    async def handles_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]:
        return await self._store.handles_for_user(
            user_id, now=self._clock.now_ms(), tenant_id=tenant_id
        )

    async def info(self, session_handle: str) -> SessionInfo | None:
        record = await self._live_record(session_handle, self._clock.now_ms())
        if record is None:
            return None
        return SessionInfo(
            session_handle=record.session_handle,
            user_id=record.user_id,
            recipe_user_id=record.recipe_user_id,
            tenant_id=record.tenant_id,
            session_data=record.session_data,
            access_token_payload=record.jwt_payload,
            created_at_ms=record.created_at,
            expires_at_ms=record.expires_at,
        )

    async def update_data(self, session_handle: str, data: Mapping[str, Any]) -> bool:
        return await self._store.update_data(session_handle, dict(data))

    async def merge_into_payload(
        self, session_handle: str, patch: Mapping[str, Any], *, access_token_str: str | None = None
    ) -> AccessToken | None:
        """Merge ``patch`` into the session's access-token payload (``None`` values delete
        keys). With the session's current access token, return its replacement carrying the
        new payload (same refresh lineage and expiry). Raises ProtectedClaimError."""
        access_token.check_user_payload(patch)
        merged = await self._store.merge_jwt_payload(
            session_handle, dict(patch), now=self._clock.now_ms()
        )
        if merged is None:
            raise Unauthorised("session has ended or been revoked", clear_tokens=True)
        if access_token_str is None:
            return None
        claims = await self._parse(access_token_str)
        if claims.session_handle != session_handle:
            raise Unauthorised("access token belongs to another session", clear_tokens=False)
        return await self._reissue(claims, merged)

    async def replace_payload(self, session_handle: str, payload: Mapping[str, Any]) -> bool:
        """Replace the stored access-token payload; tokens pick it up when next reissued."""
        access_token.check_user_payload(payload)
        return await self._store.update_jwt_payload(session_handle, dict(payload))

    async def regenerate(self, access_token_str: str, payload: Mapping[str, Any]) -> AccessToken:
        """Replace the payload of the session ``access_token_str`` belongs to, and return that
        token's replacement (the core API's regenerate). Raises ProtectedClaimError."""
        access_token.check_user_payload(payload)
        claims = await self._parse(access_token_str)
        if not await self._store.update_jwt_payload(claims.session_handle, dict(payload)):
            raise Unauthorised("session has ended or been revoked", clear_tokens=True)
        return await self._reissue(claims, dict(payload))

    async def _reissue(
        self, claims: AccessTokenClaims, user_claims: Mapping[str, Any]
    ) -> AccessToken:
        kid, key = await self._keys.signing_key()
        # Same lineage and expiry: a payload change must not extend the token's life.
        updated = claims._replace(
            issued_at_s=access_token.to_seconds(self._clock.now_ms()),
            issuer=self._issuer(user_claims),
            user_claims=user_claims,
        )
        return signed_access_token(updated, kid, key)

    # --- helpers ------------------------------------------------------------------------------

    def _new_anti_csrf(self, enabled: bool | None) -> str | None:
        on = self._policy.anti_csrf_tokens if enabled is None else enabled
        return str(uuid.uuid4()) if on else None

    def _issuer(self, user_claims: Mapping[str, Any]) -> str | None:
        """Our issuer, unless the payload brings its own (backend SDKs put ``iss`` there) and
        issuers are not verified."""
        if access_token.ISSUER_CLAIM in user_claims and not self._policy.verify_issuer:
            return None
        return self._policy.issuer

    def _anti_csrf_ok(
        self, expected: str | None, presented: str | None, enabled: bool | None = None
    ) -> bool:
        if not (self._policy.anti_csrf_tokens if enabled is None else enabled):
            return True
        if expected is None or presented is None:
            return False
        return constant_time_equal(expected, presented)

    async def _promote(
        self, record: SessionRecord, expected_hash2: str, new_hash2: str | None, now: int
    ) -> bool:
        """Make a child the current parent and slide the expiry; False if the row moved on."""
        if new_hash2 is None:
            raise RuntimeError("a promotion decision without the hash to store")
        return await self._store.rotate(
            record.session_handle,
            expected_hash2=expected_hash2,
            new_hash2=new_hash2,
            expires_at=self._expiry(record.created_at, now),
        )

    def _expiry(self, created_at: int, now: int) -> int:
        return expiry(self._policy, created_at, now)

    async def _live_record(self, session_handle: str, now: int) -> SessionRecord | None:
        return live(self._policy, await self._store.get(session_handle), now)

    async def _mint(
        self,
        record: SessionRecord,
        refresh_hash1: str,
        parent_hash1: str | None,
        anti_csrf: str | None,
        now: int,
    ) -> AccessToken:
        kid, key = await self._keys.signing_key()
        claims = AccessTokenClaims(
            user_id=record.user_id,
            recipe_user_id=record.recipe_user_id,
            tenant_id=record.tenant_id,
            session_handle=record.session_handle,
            refresh_token_hash1=refresh_hash1,
            parent_refresh_token_hash1=parent_hash1,
            anti_csrf_token=anti_csrf,
            issued_at_s=access_token.to_seconds(now),
            expires_at_s=access_token.to_seconds(
                min(
                    now + self._policy.access_token_validity_ms,
                    self._expiry(record.created_at, now),
                )
            ),
            issuer=self._issuer(record.jwt_payload),
            user_claims=record.jwt_payload,
        )
        return signed_access_token(claims, kid, key)


def _without_issuer(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != access_token.ISSUER_CLAIM}
