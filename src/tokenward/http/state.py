"""What request handlers reach through the app: settings, stores, services and transport."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tokenward.config import Settings
from tokenward.core.claims import ClaimValidator
from tokenward.http.transport import TokenTransport
from tokenward.service.clock import Clock
from tokenward.service.hooks import Hooks
from tokenward.service.setup import Services
from tokenward.store import Stores


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
