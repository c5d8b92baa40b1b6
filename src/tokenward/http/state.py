"""What request handlers reach through the app: settings, stores, services and transport."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from starlette.requests import Request

from tokenward.config import Settings
from tokenward.core.claims import ClaimValidator
from tokenward.http.transport import TokenTransport
from tokenward.service.clock import Clock
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


def runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)
