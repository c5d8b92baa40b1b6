"""Typed failures of the token layer.

Each class maps to exactly one outcome the HTTP layer must produce, so that mapping lives in
one place (``http``) and the token code never picks status codes. Messages are fixed strings: they
never contain token material, because exception text ends up in logs.
"""

from __future__ import annotations

from collections.abc import Iterable


class TokenError(Exception):
    """Base class: any token that cannot be used as presented."""


class MalformedToken(TokenError):
    """The token is not something we could have issued (structure, encoding, header).

    Callers answer UNAUTHORISED (401 ``{"message":"unauthorised"}``): refreshing cannot
    turn garbage into a valid token.
    """


class TokenNeedsRefresh(TokenError):
    """The token was well formed but cannot be accepted now (signature, expiry, key).

    Callers answer 401 ``{"message":"try refresh token"}``: a refresh may well fix it, for
    example after the signing key rotated or the access token simply expired.
    """


class UnknownKeyId(TokenNeedsRefresh):
    """The ``kid`` is not among the keys we were given.

    Separate from other refresh cases so the caller can reload signing keys once (another
    instance may have just created one) before giving up. The kid is kept as an attribute,
    never in the message.
    """

    def __init__(self, kid: str) -> None:
        super().__init__("unknown signing key id")
        self.kid = kid


class InvalidRefreshToken(TokenError):
    """The refresh token failed to open: wrong format, forged, tampered or sealed by another key.

    Callers answer UNAUTHORISED and clear the session cookies, as SuperTokens does for any
    refresh-token decode failure.
    """


class ProtectedClaimError(ValueError):
    """A user payload tried to set a claim the session layer owns.

    A ``ValueError`` rather than a ``TokenError`` because it is bad input from the app (CDI:
    HTTP 400), not a bad token. The offending names are listed because they are part of the
    developer's request, not secret.
    """

    def __init__(self, claims: Iterable[str]) -> None:
        self.claims = frozenset(claims)
        names = ", ".join(sorted(self.claims))
        super().__init__(f"user payload must not set protected claims: {names}")
