"""What a route needs to verify sessions, embedded (the local session service) or in remote
mode (a tokenward server's JWKS and core API): no database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tokenward.config import Settings
from tokenward.hooks import Hooks
from tokenward.http.transport import TokenTransport
from tokenward.recipes.session.service.types import AccessToken, SessionInfo, VerifiedSession
from tokenward.shared.claims import ClaimValidator
from tokenward.shared.clock import Clock

ClaimRefetch = Callable[[Any], Awaitable[Mapping[str, Any]]]
"""Rebuilds a claim a session's token lacks (given the request's ``Session``; returns the
payload patch): SuperTokens' validators fetch a missing claim rather than fail."""


class SessionBackend(Protocol):
    """What route handlers need from sessions: the local SessionService, or a remote server."""

    async def verify(
        self,
        token: str,
        *,
        check_database: bool = False,
        anti_csrf_token: str | None = None,
        check_anti_csrf_token: bool = False,
    ) -> VerifiedSession: ...

    async def merge_into_payload(
        self, session_handle: str, patch: Mapping[str, Any], *, access_token_str: str | None = None
    ) -> AccessToken | None: ...

    async def revoke(self, session_handles: list[str]) -> list[str]: ...

    async def info(self, session_handle: str) -> SessionInfo | None: ...

    async def update_data(self, session_handle: str, data: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True, slots=True)
class SessionAccess:
    """Everything a route needs to verify and update sessions, local or remote."""

    settings: Settings
    sessions: SessionBackend
    transport: TokenTransport
    clock: Clock
    claim_validators: Sequence[ClaimValidator] = ()
    hooks: Hooks = field(default_factory=Hooks)
    claim_refetch: Mapping[str, ClaimRefetch] = field(default_factory=dict)
    """Claim key → how to rebuild it when a token lacks it (embedded mode only: it reads the
    database)."""
