"""Minting access tokens for a session row: claims, expiry (never past the session's), issuer,
signature with the key ring's current key, and the front token."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.recipes.jwt.service import KeyRing
from tokenward.recipes.session.port import SessionRecord
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules.access_token import AccessTokenClaims
from tokenward.recipes.session.rules.policy import SessionPolicy
from tokenward.recipes.session.rules.rotation import expiry
from tokenward.recipes.session.service.types import AccessToken, signed_access_token
from tokenward.shared.clock import Clock


@dataclass(frozen=True, slots=True)
class Minter:
    keys: KeyRing
    policy: SessionPolicy
    clock: Clock

    async def mint(
        self,
        record: SessionRecord,
        refresh_hash1: str,
        parent_hash1: str | None,
        anti_csrf: str | None,
        now: int,
    ) -> AccessToken:
        """A new access token for ``record``, bound to the refresh token ``refresh_hash1``."""
        kid, key = await self.keys.signing_key()
        session_end = expiry(self.policy, record.created_at, now)
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
                min(now + self.policy.access_token_validity_ms, session_end)
            ),
            issuer=self.issuer(record.jwt_payload),
            user_claims=record.jwt_payload,
        )
        return signed_access_token(claims, kid, key)

    async def reissue(
        self, claims: AccessTokenClaims, user_claims: Mapping[str, Any]
    ) -> AccessToken:
        """``claims``' token again with another payload: same lineage and expiry (a payload
        change must not extend the token's life)."""
        kid, key = await self.keys.signing_key()
        updated = claims._replace(
            issued_at_s=access_token.to_seconds(self.clock.now_ms()),
            issuer=self.issuer(user_claims),
            user_claims=user_claims,
        )
        return signed_access_token(updated, kid, key)

    def new_anti_csrf(self, enabled: bool | None) -> str | None:
        on = self.policy.anti_csrf_tokens if enabled is None else enabled
        return str(uuid.uuid4()) if on else None

    def issuer(self, user_claims: Mapping[str, Any]) -> str | None:
        """Our issuer, unless the payload brings its own (backend SDKs put ``iss`` there) and
        issuers are not verified."""
        if access_token.ISSUER_CLAIM in user_claims and not self.policy.verify_issuer:
            return None
        return self.policy.issuer
