"""Typed hooks for what apps customise most. Each is a list of async callables, run in order;
no override chains. An exception in a hook propagates (the request fails), so a hook that must
not block sign-in should catch its own errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tokenward.recipes.users.port import UserRecord


@dataclass(frozen=True, slots=True)
class SignUpField:
    """An extra form field on sign-up (beyond email and password)."""

    id: str
    optional: bool = False
    validate: Callable[[str], Awaitable[str | None]] | None = None
    """Returns an error message to show next to the field, or None."""


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """What a sign-in or sign-up hook learns about the request."""

    user: UserRecord
    tenant_id: str
    session_handle: str
    form: Mapping[str, str]
    """Every submitted form field except the password."""
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class TheftEvent:
    session_handle: str
    user_id: str
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class SignUpAttempt:
    """Someone without an account is about to sign up (asked before a passwordless code is
    sent to a new email or phone number, and before a provider's account first signs in)."""

    recipe_id: str
    tenant_id: str
    email: str | None
    phone_number: str | None
    third_party_id: str | None = None


@dataclass(frozen=True, slots=True)
class MfaQuestion:
    """What a sign-in of ``user`` requires, asked at sign-in and whenever the session's MFA
    standing is computed again."""

    user: UserRecord
    tenant_id: str
    factors_set_up: tuple[str, ...]
    """``emailpassword``, ``otp-email``, ``otp-phone``, ``totp``: what the user can use."""
    default: tuple[Any, ...]
    """The requirements by the settings and the user (``({"oneOf": ["totp"]},)`` or ``()``)."""


UserHook = Callable[[AuthEvent], Awaitable[None]]
SignUpCheck = Callable[[SignUpAttempt], Awaitable[bool]]
"""Returns False to refuse the sign-up (``SIGN_IN_UP_NOT_ALLOWED``): invite-only apps."""
ClaimsHook = Callable[[UserRecord, str], Awaitable[Mapping[str, Any]]]
"""(user, tenant id) -> extra access-token claims for a new session."""
TheftHook = Callable[[TheftEvent], Awaitable[None]]
MfaRequirementsHook = Callable[[MfaQuestion], Awaitable[Sequence[Any] | None]]
"""Returns the requirement list (factor ids, ``{"oneOf": [...]}``, ``{"allOfInAnyOrder":
[...]}``), or None to leave the question to the next hook and then the default."""


@dataclass(frozen=True, slots=True)
class Hooks:
    after_sign_up: Sequence[UserHook] = ()
    after_sign_in: Sequence[UserHook] = ()
    on_theft_detected: Sequence[TheftHook] = ()
    access_token_claims: Sequence[ClaimsHook] = ()
    sign_up_fields: Sequence[SignUpField] = field(default_factory=tuple)
    allow_sign_up: Sequence[SignUpCheck] = ()
    """Every check must allow a passwordless or third-party sign-up (existing users sign in
    regardless)."""
    mfa_requirements: Sequence[MfaRequirementsHook] = ()
    """Custom MFA rules: the first hook that answers decides what a sign-in requires."""


async def extra_claims(hooks: Hooks, user: UserRecord, tenant_id: str) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for hook in hooks.access_token_claims:
        claims.update(await hook(user, tenant_id))
    return claims
