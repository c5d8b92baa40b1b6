"""Password reset by emailed link.

Asking for a reset answers the same for unknown emails (nothing is sent). The token is random,
stored hashed, valid for a configured time, and used at most once: it is consumed in the same
transaction that sets the new password. A reset marks the email verified (the user proved they
receive mail there) and, by default, signs the user out everywhere.
"""

from __future__ import annotations

from tokenward.recipes.emailpassword.port import PasswordResetStore
from tokenward.recipes.emailpassword.service.accounts import EmailPasswordAccounts
from tokenward.recipes.emailverification.port import EmailVerificationStore
from tokenward.recipes.session.service.sessions import SessionService
from tokenward.recipes.users.port import UserStore
from tokenward.shared.clock import Clock
from tokenward.shared.email_delivery import EmailSender
from tokenward.shared.email_links.mailing import LinkBuilder, LinkMailer
from tokenward.shared.email_links.port import OneTimeTokenRecord, OneTimeTokenStore
from tokenward.shared.email_links.tokens import InvalidToken, LinkTokens
from tokenward.shared.email_templates import password_reset_email
from tokenward.shared.emails import email_error, normalise_email
from tokenward.shared.form_errors import FieldError, FieldErrors

PURPOSE = "password_reset"

"""(token, tenant id) -> the link to put in the email."""


class PasswordReset:
    def __init__(
        self,
        users: UserStore,
        resets: PasswordResetStore,
        verified_emails: EmailVerificationStore,
        link_tokens: OneTimeTokenStore,
        accounts: EmailPasswordAccounts,
        sessions: SessionService,
        sender: EmailSender,
        link: LinkBuilder,
        *,
        app_name: str,
        token_validity_ms: int,
        revoke_sessions: bool,
        clock: Clock,
    ) -> None:
        self._users = users
        self._resets = resets
        self._verified_emails = verified_emails
        self._accounts = accounts
        self._sessions = sessions
        self._tokens = LinkTokens(link_tokens, PURPOSE, token_validity_ms, clock)
        self._mailer = LinkMailer(
            sender, link, password_reset_email, app_name=app_name, valid_for_ms=token_validity_ms
        )
        self._revoke_sessions = revoke_sessions
        self._clock = clock

    async def send_link(self, tenant_id: str, email: str) -> None:
        """Email a reset link if the account exists. Raises FieldErrors for a malformed email
        and EmailDeliveryError (retryable) when the mail cannot be sent."""
        email = normalise_email(email)
        if (message := email_error(email)) is not None:
            raise FieldErrors([FieldError("email", message)])
        method = await self._users.find_email_password(tenant_id, email)
        if method is None:
            return
        token = await self.create_token(tenant_id, method.recipe_user_id, email)
        await self._mailer.send(email, token, tenant_id)

    async def create_token(self, tenant_id: str, recipe_user_id: str, email: str) -> str:
        return await self._tokens.issue(tenant_id, recipe_user_id, email)

    async def consume(self, tenant_id: str, token: str) -> OneTimeTokenRecord:
        """Use a reset token without setting a password (the core API: the backend SDK sets the
        password in a second call). Raises InvalidToken."""
        return await self._tokens.consume(tenant_id, token)

    async def reset(self, tenant_id: str, token: str, new_password: str) -> str:
        """Set a new password with a token; return the user id. Raises InvalidToken or
        FieldErrors (the new password breaks the policy; the token stays usable)."""
        hashed, found = await self._tokens.find(tenant_id, token)
        if (message := self._accounts.password_error(new_password, found.email)) is not None:
            raise FieldErrors([FieldError("password", message)])
        password_hash = await self._accounts.hash_password(new_password)
        used = await self._resets.reset_password(
            hashed, now=self._clock.now_ms(), password_hash=password_hash
        )
        if used is None:
            raise InvalidToken
        await self._verified_emails.mark_verified(
            used.user_id, used.email, now=self._clock.now_ms()
        )
        if self._revoke_sessions:
            await self._sessions.revoke_all_for_user(used.user_id)
        return used.user_id
