"""The session settings every decision depends on, as plain values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    access_token_validity_ms: int
    refresh_token_validity_ms: int
    issuer: str
    anti_csrf_tokens: bool
    """Put an anti-CSRF token in tokens (anti-CSRF mode VIA_TOKEN)."""
    absolute_lifetime_ms: int = 0
    """How long after its creation a session ends however often it is refreshed (SES-04);
    0: no absolute limit."""
    verify_issuer: bool = False
    """Refuse access tokens whose ``iss`` is not exactly ``issuer`` (JWT-08). Only possible
    while no backend SDK can create sessions through the core API: SDKs put their own ``iss``
    in the payload (SuperTokens' protocol), and their tokens are verified by the SDKs."""
