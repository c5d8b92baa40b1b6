"""Email verification by emailed link, and the ``st-ev`` claim that carries the result.

The claim sits in the access token as ``{"st-ev": {"v": bool, "t": ms}}`` like SuperTokens';
in REQUIRED mode the global claim validator refuses sessions whose claim is not true.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from tokenward.recipes.emailverification.port import EmailVerificationStore
from tokenward.recipes.users.port import UserRecord, UserStore
from tokenward.shared.claims import BooleanClaim
from tokenward.shared.clock import Clock
from tokenward.shared.email_delivery import EmailSender
from tokenward.shared.email_links.mailing import LinkBuilder, LinkMailer
from tokenward.shared.email_links.port import OneTimeTokenRecord, OneTimeTokenStore
from tokenward.shared.email_links.tokens import InvalidToken, LinkTokens
from tokenward.shared.email_templates import email_verification_email

PURPOSE = "email_verification"
EMAIL_VERIFIED = BooleanClaim("st-ev")


class Mode(StrEnum):
    OFF = "OFF"
    OPTIONAL = "OPTIONAL"
    REQUIRED = "REQUIRED"


class SendOutcome(StrEnum):
    SENT = "OK"
    ALREADY_VERIFIED = "EMAIL_ALREADY_VERIFIED_ERROR"


class EmailVerification:
    def __init__(
        self,
        users: UserStore,
        verified_emails: EmailVerificationStore,
        link_tokens: OneTimeTokenStore,
        sender: EmailSender,
        link: LinkBuilder,
        *,
        mode: Mode,
        app_name: str,
        token_validity_ms: int,
        clock: Clock,
    ) -> None:
        self._users = users
        self._verified_emails = verified_emails
        self.mode = mode
        self._tokens = LinkTokens(link_tokens, PURPOSE, token_validity_ms, clock)
        self._mailer = LinkMailer(
            sender,
            link,
            email_verification_email,
            app_name=app_name,
            valid_for_ms=token_validity_ms,
        )
        self._clock = clock

    async def verified_login_methods(
        self, user: UserRecord, *, known: Mapping[str, bool] | None = None
    ) -> dict[str, bool]:
        """recipe user id -> whether that login method's email is verified. ``known``: the
        state of login methods the caller has just written, not read again."""
        result: dict[str, bool] = {}
        for method in user.login_methods:
            if known is not None and method.recipe_user_id in known:
                result[method.recipe_user_id] = known[method.recipe_user_id]
                continue
            result[method.recipe_user_id] = method.email is None or (
                await self._verified_emails.is_verified(method.recipe_user_id, method.email)
            )
        return result

    async def is_verified(self, recipe_user_id: str) -> bool:
        """A user without an email counts as verified, as in SuperTokens."""
        email = await self._email_of(recipe_user_id)
        if email is None:
            return True
        return await self._verified_emails.is_verified(recipe_user_id, email)

    def claim_payload(self, verified: bool) -> dict[str, Any]:
        """The access-token claims to add at session creation (none when the mode is OFF)."""
        if self.mode is Mode.OFF:
            return {}
        return {EMAIL_VERIFIED.key: EMAIL_VERIFIED.entry(verified, self._clock.now_ms())}

    async def create_token(self, recipe_user_id: str, email: str, tenant_id: str) -> str | None:
        """A verification token for (user, email), or None if that email is already verified."""
        if await self._verified_emails.is_verified(recipe_user_id, email):
            return None
        return await self._tokens.issue(tenant_id, recipe_user_id, email)

    async def send_link(self, recipe_user_id: str, tenant_id: str) -> SendOutcome:
        """Email a verification link. Raises EmailDeliveryError (retryable) on mail failure."""
        email = await self._email_of(recipe_user_id)
        token = None if email is None else await self.create_token(recipe_user_id, email, tenant_id)
        if email is None or token is None:
            return SendOutcome.ALREADY_VERIFIED
        await self._mailer.send(email, token, tenant_id)
        return SendOutcome.SENT

    async def verify(self, tenant_id: str, token: str) -> OneTimeTokenRecord:
        """Use a verification token. Raises InvalidToken."""
        hashed, _ = await self._tokens.find(tenant_id, token)
        used = await self._verified_emails.verify_with_token(hashed, now=self._clock.now_ms())
        if used is None:
            raise InvalidToken
        return used

    async def _email_of(self, recipe_user_id: str) -> str | None:
        user = await self._users.get(recipe_user_id)
        if user is None:
            return None
        for method in user.login_methods:
            if method.recipe_user_id == recipe_user_id and method.email is not None:
                return method.email
        return None
