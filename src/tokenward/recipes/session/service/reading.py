"""Reading access tokens: verify the signature with the keys at hand, reload the keys once on an
unknown ``kid``, check the anti-CSRF token, and turn token failures into the session's outcomes.
Embedded mode (keys from the database) and remote mode (keys from a server's JWKS) share it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tokenward.recipes.session.errors import TryRefreshToken, Unauthorised
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules.access_token import AccessTokenClaims
from tokenward.shared.clock import Clock
from tokenward.shared.encoding import constant_time_equal
from tokenward.shared.token_errors import MalformedToken, TokenNeedsRefresh, UnknownKeyId


class VerificationKeys(Protocol):
    """The public keys that verify access tokens (the key ring, or a server's JWKS)."""

    @property
    def public_keys(self) -> Mapping[str, RSAPublicKey]: ...

    async def reload_for_unknown_kid(self) -> bool:
        """Reload the keys unless that happened very recently; True if a reload ran."""
        ...


class TokenReader:
    def __init__(
        self,
        keys: VerificationKeys,
        clock: Clock,
        *,
        anti_csrf_tokens: bool,
        expected_issuer: str | None = None,
    ) -> None:
        """``anti_csrf_tokens``: tokens carry an anti-CSRF token (anti-CSRF mode VIA_TOKEN);
        ``expected_issuer``: refuse tokens whose ``iss`` differs (JWT-08)."""
        self._keys = keys
        self._clock = clock
        self._anti_csrf_tokens = anti_csrf_tokens
        self._issuer = expected_issuer

    def parse_now(self, token: str) -> AccessTokenClaims:
        """Verify and read ``token`` with the keys at hand, without I/O (no coroutine: the
        common case of every verified request). Raises ``UnknownKeyId``, which ``parse``
        answers, ``Unauthorised`` or ``TryRefreshToken``."""
        try:
            return access_token.parse(
                token, self._keys.public_keys, self._clock.now_ms() // 1000,
                expected_issuer=self._issuer,
            )  # fmt: skip
        except UnknownKeyId:
            raise
        except MalformedToken:
            raise Unauthorised("token parsing failed", clear_tokens=False) from None
        except TokenNeedsRefresh:
            raise TryRefreshToken("access token expired or not verifiable") from None

    async def parse(self, token: str) -> AccessTokenClaims:
        try:
            return self.parse_now(token)
        except UnknownKeyId:
            return await self.parse_with_reloaded_keys(token)

    async def parse_with_reloaded_keys(self, token: str) -> AccessTokenClaims:
        """After an unknown ``kid``: another instance may have rotated the keys since they were
        loaded, so reload them (at most once in a while) and try again."""
        if await self._keys.reload_for_unknown_kid():
            with contextlib.suppress(UnknownKeyId):
                return self.parse_now(token)
        raise TryRefreshToken("access token expired or not verifiable")

    def anti_csrf_ok(
        self, expected: str | None, presented: str | None, enabled: bool | None = None
    ) -> bool:
        """Whether the presented anti-CSRF token matches the token's (always, when anti-CSRF
        tokens are off; ``enabled`` overrides the setting for one core-API call)."""
        if not (self._anti_csrf_tokens if enabled is None else enabled):
            return True
        if expected is None or presented is None:
            return False
        return constant_time_equal(expected, presented)

    def check_anti_csrf(
        self, claims: AccessTokenClaims, presented: str | None, enabled: bool | None = None
    ) -> None:
        if not self.anti_csrf_ok(claims.anti_csrf_token, presented, enabled):
            raise TryRefreshToken("anti-csrf token missing or not matching")
