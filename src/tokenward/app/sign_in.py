"""Finishing a sign-in: the one use case every login recipe calls once it has authenticated a
user (email/password today; passwordless, third party, passkeys and MFA next).

It reads what the session needs (each login method's verification state, the user's roles in
the tenant, what MFA requires), builds the access-token claims with the app's
``access_token_claims`` hooks, ``st-ev``, ``st-role``/``st-perm`` and ``st-mfa``,
creates the session, writes the audit record and runs the after-sign-up or after-sign-in
hooks. Plain values in and out: the HTTP layer only attaches the tokens it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from tokenward.app.services import Services
from tokenward.hooks import AuthEvent, Hooks, extra_claims
from tokenward.recipes.multifactorauth.rules import CLAIM_KEY as MFA_CLAIM
from tokenward.recipes.multifactorauth.rules import factor_of
from tokenward.recipes.session.service.types import IssuedTokens
from tokenward.recipes.users.port import UserRecord
from tokenward.shared.audit import record_event
from tokenward.shared.clock import Clock

How = Literal["sign_up", "sign_in"]
"""A new user (the after-sign-up hooks run) or a returning one (after-sign-in)."""

AUDIT_EVENTS: dict[How, str] = {"sign_up": "sign_up", "sign_in": "sign_in.success"}


@dataclass(frozen=True, slots=True)
class Client:
    """Who is signing in, as far as the request tells (for the audit log and the hooks)."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class SignedIn:
    tokens: IssuedTokens
    verified: Mapping[str, bool]
    """Each login method's email-verification state (recipe user id → verified), read once
    for the ``st-ev`` claim and for the user object of the answer."""

    @property
    def session_handle(self) -> str:
        return self.tokens.access.claims.session_handle


async def finish_sign_in(
    services: Services,
    hooks: Hooks,
    clock: Clock,
    *,
    user: UserRecord,
    tenant_id: str,
    how: How,
    client: Client,
    form: Mapping[str, str] | None = None,
    recipe_user_id: str | None = None,
    known_verified: Mapping[str, bool] | None = None,
    factor: str | None = None,
) -> SignedIn:
    """A new session for ``user``, who signed in (or up) with the login method
    ``recipe_user_id`` (default: the first). ``form`` is what the hooks see of the submitted
    form: never pass a password. ``known_verified``: login methods whose verification state the
    caller has just written (recipe user id → verified), not read again. ``factor``: the
    first factor's id (default: the login method's recipe, passwordless by code)."""
    login = recipe_user_id or user.login_methods[0].recipe_user_id
    method = next(m for m in user.login_methods if m.recipe_user_id == login)
    # Independent reads, sent together: the database thread answers them at once.
    verified, role_claims, mfa_stored = await asyncio.gather(
        services.email_verification.verified_login_methods(user, known=known_verified),
        services.roles.claims_payload(tenant_id, user.user_id, clock.now_ms()),
        services.mfa.stored(user),
    )
    payload = await extra_claims(hooks, user, tenant_id)
    payload.update(services.email_verification.claim_payload(verified.get(login, False)))
    payload.update(role_claims)
    first = factor or factor_of(method.recipe_id, email=method.email is not None, by_link=False)
    mfa = await services.mfa.sign_in_claim(user, tenant_id, first, verified, mfa_stored)
    payload[MFA_CLAIM] = mfa.entry()
    tokens = await services.sessions.create(
        user.user_id, recipe_user_id=login, tenant_id=tenant_id, access_token_payload=payload
    )
    signed_in = SignedIn(tokens, verified)
    record_event(
        AUDIT_EVENTS[how],
        now_ms=clock.now_ms(),
        ip=client.ip,
        user_agent=client.user_agent,
        user_id=user.user_id,
        tenant_id=tenant_id,
        session_handle=signed_in.session_handle,
    )
    event = AuthEvent(
        user=user,
        tenant_id=tenant_id,
        session_handle=signed_in.session_handle,
        form=dict(form or {}),
        ip=client.ip,
        user_agent=client.user_agent,
    )
    for hook in hooks.after_sign_up if how == "sign_up" else hooks.after_sign_in:
        await hook(event)
    return signed_in
