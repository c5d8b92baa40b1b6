"""Changing what a session carries: its access-token payload (merged, replaced, or regenerated
with a new token) and its session data. A replacement token keeps its lineage and expiry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.recipes.session.errors import Unauthorised
from tokenward.recipes.session.port import SessionStore
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.service.minting import Minter
from tokenward.recipes.session.service.reading import TokenReader
from tokenward.recipes.session.service.types import AccessToken
from tokenward.shared.clock import Clock


@dataclass(frozen=True, slots=True)
class SessionPayloads:
    store: SessionStore
    reader: TokenReader
    minter: Minter
    clock: Clock

    async def merge_into_payload(
        self, session_handle: str, patch: Mapping[str, Any], *, access_token_str: str | None = None
    ) -> AccessToken | None:
        """Merge ``patch`` into the session's access-token payload (``None`` values delete
        keys). With the session's current access token, return its replacement carrying the
        new payload (same refresh lineage and expiry). Raises ProtectedClaimError."""
        access_token.check_user_payload(patch)
        merged = await self.store.merge_jwt_payload(
            session_handle, dict(patch), now=self.clock.now_ms()
        )
        if merged is None:
            raise Unauthorised("session has ended or been revoked", clear_tokens=True)
        if access_token_str is None:
            return None
        claims = await self.reader.parse(access_token_str)
        if claims.session_handle != session_handle:
            raise Unauthorised("access token belongs to another session", clear_tokens=False)
        return await self.minter.reissue(claims, merged)

    async def replace_payload(self, session_handle: str, payload: Mapping[str, Any]) -> bool:
        """Replace the stored access-token payload; tokens pick it up when next reissued."""
        access_token.check_user_payload(payload)
        return await self.store.update_jwt_payload(session_handle, dict(payload))

    async def regenerate(self, access_token_str: str, payload: Mapping[str, Any]) -> AccessToken:
        """Replace the payload of the session ``access_token_str`` belongs to, and return that
        token's replacement (the core API's regenerate). Raises ProtectedClaimError."""
        access_token.check_user_payload(payload)
        claims = await self.reader.parse(access_token_str)
        if not await self.store.update_jwt_payload(claims.session_handle, dict(payload)):
            raise Unauthorised("session has ended or been revoked", clear_tokens=True)
        return await self.minter.reissue(claims, dict(payload))

    async def update_data(self, session_handle: str, data: Mapping[str, Any]) -> bool:
        return await self.store.update_data(session_handle, dict(data))
