"""The session API in one place: create and look up sessions here; verifying, refreshing and
payload changes are their own modules (``verifying``, ``refreshing``, ``payloads``), which this
class wires together over one store, key ring and policy."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine, Mapping
from typing import Any

from tokenward.recipes.jwt.service import KeyRing
from tokenward.recipes.session.port import SessionRecord, SessionStore
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules import refresh_token as rt
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.rotation import expiry, live
from tokenward.recipes.session.service.minting import Minter
from tokenward.recipes.session.service.payloads import SessionPayloads
from tokenward.recipes.session.service.reading import TokenReader
from tokenward.recipes.session.service.refreshing import SessionRefresh
from tokenward.recipes.session.service.types import (
    AccessToken,
    IssuedTokens,
    SessionInfo,
    VerifiedSession,
)
from tokenward.recipes.session.service.verifying import SessionVerification
from tokenward.shared.clock import Clock

DEFAULT_TENANT = "public"


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
        self._minter = Minter(keys, policy, clock)
        reader = TokenReader(
            keys,
            clock,
            anti_csrf_tokens=policy.anti_csrf_tokens,
            expected_issuer=policy.issuer if policy.verify_issuer else None,
        )
        self._verification = SessionVerification(store, reader, self._minter, policy, clock)
        self._refresh = SessionRefresh(store, reader, self._minter, refresh_key, policy, clock)
        self._payloads = SessionPayloads(store, reader, self._minter, clock)

    @property
    def keys(self) -> KeyRing:
        return self._keys

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
        anti_csrf_token = self._minter.new_anti_csrf(anti_csrf)
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
            expires_at=expiry(self._policy, now, now),
        )
        access = await self._minter.mint(record, rt.hash1(token), None, anti_csrf_token, now)
        await self._store.create(record)
        return IssuedTokens(access, token, record.expires_at, anti_csrf_token)

    def verify(
        self,
        token: str,
        *,
        check_database: bool = False,
        anti_csrf_token: str | None = None,
        check_anti_csrf_token: bool = False,
        anti_csrf: bool | None = None,
    ) -> Coroutine[Any, Any, VerifiedSession]:
        """``SessionVerification.verify``, its coroutine handed back as it is: every verified
        request comes here, and a second coroutine wrapping the first would cost each one."""
        return self._verification.verify(
            token,
            check_database=check_database,
            anti_csrf_token=anti_csrf_token,
            check_anti_csrf_token=check_anti_csrf_token,
            anti_csrf=anti_csrf,
        )

    async def refresh(
        self,
        token: str,
        *,
        anti_csrf_token: str | None = None,
        check_anti_csrf_token: bool = False,
        anti_csrf: bool | None = None,
    ) -> IssuedTokens:
        """``SessionRefresh.refresh``."""
        return await self._refresh.refresh(
            token,
            anti_csrf_token=anti_csrf_token,
            check_anti_csrf_token=check_anti_csrf_token,
            anti_csrf=anti_csrf,
        )

    async def merge_into_payload(
        self, session_handle: str, patch: Mapping[str, Any], *, access_token_str: str | None = None
    ) -> AccessToken | None:
        """``SessionPayloads.merge_into_payload``."""
        return await self._payloads.merge_into_payload(
            session_handle, patch, access_token_str=access_token_str
        )

    async def replace_payload(self, session_handle: str, payload: Mapping[str, Any]) -> bool:
        return await self._payloads.replace_payload(session_handle, payload)

    async def regenerate(self, access_token_str: str, payload: Mapping[str, Any]) -> AccessToken:
        return await self._payloads.regenerate(access_token_str, payload)

    async def update_data(self, session_handle: str, data: Mapping[str, Any]) -> bool:
        return await self._payloads.update_data(session_handle, data)

    async def revoke(self, session_handles: list[str]) -> list[str]:
        return await self._store.delete(session_handles)

    async def revoke_all_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]:
        return await self._store.delete_for_user(user_id, tenant_id)

    async def handles_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]:
        return await self._store.handles_for_user(
            user_id, now=self._clock.now_ms(), tenant_id=tenant_id
        )

    async def info(self, session_handle: str) -> SessionInfo | None:
        now = self._clock.now_ms()
        record = live(self._policy, await self._store.get(session_handle), now)
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
