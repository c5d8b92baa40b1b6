"""Outcomes of session checks that the HTTP layers turn into the protocol's responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SessionError(Exception):
    """Base class: a request's session could not be used."""


class TryRefreshToken(SessionError):
    """The access token is expired or cannot be checked: the client should refresh."""


class Unauthorised(SessionError):
    """No usable session. ``clear_tokens`` says whether the response removes the client's tokens
    (refresh failures do; a request that simply carried no token does not)."""

    def __init__(self, reason: str, *, clear_tokens: bool) -> None:
        super().__init__(reason)
        self.clear_tokens = clear_tokens


class TokenTheftDetected(SessionError):
    """An old refresh token was presented: the session has been revoked."""

    def __init__(self, session_handle: str, user_id: str, recipe_user_id: str) -> None:
        super().__init__("token theft detected")
        self.session_handle = session_handle
        self.user_id = user_id
        self.recipe_user_id = recipe_user_id


class InvalidClaims(SessionError):
    """The session is valid but fails claim validation (403 by default)."""

    def __init__(self, errors: Sequence[dict[str, Any]]) -> None:
        super().__init__("invalid claim")
        self.errors = list(errors)


class SessionBusy(SessionError):
    """Concurrent requests kept moving one session's token lineage; retryable (503)."""
