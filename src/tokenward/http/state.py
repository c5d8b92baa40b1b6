"""What request handlers reach through the app: settings, stores, services and transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tokenward.config import Settings
from tokenward.core.claims import ClaimValidator
from tokenward.http.client_ip import IpNetwork
from tokenward.http.transport import TokenTransport
from tokenward.service.clock import Clock
from tokenward.service.hooks import Hooks
from tokenward.service.session_types import AccessToken, SessionInfo, VerifiedSession
from tokenward.service.setup import Services
from tokenward.store import Stores


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
class Guard:
    """Everything session verification in a route needs, local or remote."""

    settings: Settings
    sessions: SessionBackend
    transport: TokenTransport
    clock: Clock
    claim_validators: Sequence[ClaimValidator] = ()
    hooks: Hooks = field(default_factory=Hooks)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    stores: Stores
    services: Services
    transport: TokenTransport
    clock: Clock
    claim_validators: Sequence[ClaimValidator] = ()
    """Validators every session-verifying route applies unless it overrides them."""
    hooks: Hooks = field(default_factory=Hooks)
    trusted_proxies: tuple[IpNetwork, ...] = ()
    """Networks of the reverse proxies whose forwarding headers are believed."""

    @property
    def guard(self) -> Guard:
        return Guard(
            self.settings,
            self.services.sessions,
            self.transport,
            self.clock,
            self.claim_validators,
            self.hooks,
        )
