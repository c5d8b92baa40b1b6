"""What request handlers reach through the app: settings, stores, services and transport."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tokenward.app.services import Services
from tokenward.app.stores import Stores
from tokenward.config import Settings
from tokenward.hooks import Hooks
from tokenward.http.client_ip import IpNetwork
from tokenward.http.session_access import SessionAccess
from tokenward.http.transport import TokenTransport
from tokenward.recipes.multifactorauth.fdi import refetch_claim
from tokenward.recipes.multifactorauth.rules import CLAIM_KEY as MFA_CLAIM
from tokenward.shared.claims import ClaimValidator
from tokenward.shared.clock import Clock


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
    def session_access(self) -> SessionAccess:
        return SessionAccess(
            self.settings,
            self.services.sessions,
            self.transport,
            self.clock,
            self.claim_validators,
            self.hooks,
            {MFA_CLAIM: refetch_claim},
        )
