"""The tokens a signed-in client holds, read from header-mode responses, and when to renew.

Expiry is judged on the server's clock, not ours: like supertokens-website, we estimate the
skew as ``up.iat * 1000 - local_now_at_receipt`` whenever a ``front-token`` arrives and add it
to the local time. A laptop clock that is an hour off then neither renews on every request nor
sends expired tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tokenward.recipes.session.rules import front_token

ACCESS_HEADER = "st-access-token"
REFRESH_HEADER = "st-refresh-token"
FRONT_TOKEN_HEADER = "front-token"  # noqa: S105 - a header name


@dataclass(frozen=True, slots=True)
class Tokens:
    """One session's header-mode tokens. ``repr`` leaves the secrets out, so logging or
    printing a ``Tokens`` never leaks them."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    front_token: str = field(repr=False)
    """The raw header, kept so the token file can be re-read exactly."""
    skew_ms: int
    """Server time minus local time, estimated when the front-token arrived."""
    user_id: str
    expires_at_ms: int
    """``ate``: when the server stops accepting the access token (server clock)."""
    issued_at_ms: int
    """``up.iat`` in ms (server clock)."""
    payload: dict[str, Any] = field(repr=False)
    """The access token's payload (``up``), claims included."""

    @classmethod
    def received(cls, access: str, refresh: str, front: str, local_now_ms: int) -> Tokens:
        """Tokens that just arrived; the skew is measured now. ``ValueError`` if malformed."""
        issued_at_ms = _issued_at_ms(front_token.decode(front))
        return cls.restored(access, refresh, front, issued_at_ms - local_now_ms)

    @classmethod
    def restored(cls, access: str, refresh: str, front: str, skew_ms: int) -> Tokens:
        """Tokens read back from storage, with the skew measured when they arrived."""
        decoded = front_token.decode(front)
        if not access or not refresh:
            raise ValueError("empty token")
        return cls(
            access_token=access,
            refresh_token=refresh,
            front_token=front,
            skew_ms=skew_ms,
            user_id=decoded.user_id,
            expires_at_ms=decoded.access_token_expiry_ms,
            issued_at_ms=_issued_at_ms(decoded),
            payload=decoded.payload,
        )

    def renewal_due(self, local_now_ms: int, margin_ms: int) -> bool:
        """Whether to renew before using the access token: it expires within ``margin_ms``,
        or within half its lifetime when that is shorter (so a short-lived token is not
        renewed on every single request)."""
        lifetime_ms = max(self.expires_at_ms - self.issued_at_ms, 0)
        effective_margin = min(margin_ms, lifetime_ms // 2)
        return local_now_ms + self.skew_ms >= self.expires_at_ms - effective_margin

    def expired(self, local_now_ms: int) -> bool:
        """Whether the server already refuses the access token, by our estimate."""
        return local_now_ms + self.skew_ms >= self.expires_at_ms


def _issued_at_ms(decoded: front_token.FrontToken) -> int:
    iat = decoded.payload.get("iat")
    if type(iat) is not int:
        raise ValueError("front-token payload has no iat")
    return iat * 1000


@dataclass(frozen=True, slots=True)
class Issued:
    """New tokens on a response: always an access token, a refresh token only when the
    session was created or renewed (a first use after renewal replaces the access token
    alone)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    front_token: str = field(repr=False)


REMOVED = "removed"
"""``front-token: remove``: the server ended the session and cleared its tokens."""


def read_update(headers: httpx.Headers) -> Issued | str | None:
    """What a response says about the session: ``Issued``, ``REMOVED`` or ``None`` (nothing).

    An empty ``st-access-token`` means "delete"; it comes with ``front-token: remove``. A
    ``front-token`` without an access token belongs to cookie mode, which we do not use.
    """
    front = headers.get(FRONT_TOKEN_HEADER)
    if front == front_token.REMOVE:
        return REMOVED
    access = headers.get(ACCESS_HEADER)
    if not front or not access:
        return None
    return Issued(access, headers.get(REFRESH_HEADER) or None, front)
