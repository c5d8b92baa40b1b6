"""The values the session API takes and returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tokenward.recipes.session.port import JsonObject
from tokenward.recipes.session.rules import access_token, front_token
from tokenward.recipes.session.rules.access_token import AccessTokenClaims
from tokenward.shared import jwt


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    claims: AccessTokenClaims
    front_token: str

    @property
    def expires_at_ms(self) -> int:
        return self.claims.expires_at_ms


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What create and refresh hand to the transport."""

    access: AccessToken
    refresh_token: str
    refresh_expires_at_ms: int
    anti_csrf_token: str | None


class VerifiedSession(NamedTuple):
    """A verified access token. A named tuple, like its claims, because one is built for
    every verified request."""

    claims: AccessTokenClaims
    access_token: str
    new_access_token: AccessToken | None = None
    """Set when verification issued a replacement (a promoted refresh token, or a payload that
    changed in the database); the transport must send it with the response."""

    @property
    def session_handle(self) -> str:
        return self.claims.session_handle

    @property
    def user_id(self) -> str:
        return self.claims.user_id

    @property
    def payload(self) -> Mapping[str, Any]:
        current = self.new_access_token.claims if self.new_access_token else self.claims
        return access_token.build_payload(current)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_handle: str
    user_id: str
    recipe_user_id: str
    tenant_id: str
    session_data: JsonObject
    access_token_payload: JsonObject
    created_at_ms: int
    expires_at_ms: int


def signed_access_token(claims: AccessTokenClaims, kid: str, key: RSAPrivateKey) -> AccessToken:
    """Sign ``claims`` and describe the token in a front-token, building the payload once."""
    payload = access_token.build_payload(claims)
    token = jwt.sign(access_token.header(kid), payload, key)
    return AccessToken(
        token, claims, front_token.encode(claims.user_id, claims.expires_at_ms, payload)
    )


def access_token_from(claims: AccessTokenClaims, token: str) -> AccessToken:
    """Wrap a token verified elsewhere (remote mode) with its claims and front-token."""
    payload = access_token.build_payload(claims)
    return AccessToken(
        token, claims, front_token.encode(claims.user_id, claims.expires_at_ms, payload)
    )
