"""What the email/password use cases need from storage besides the user store."""

from __future__ import annotations

from typing import Protocol

from tokenward.shared.email_links.port import OneTimeTokenRecord


class PasswordResetStore(Protocol):
    async def reset_password(
        self, token_hash: str, *, now: int, password_hash: str
    ) -> OneTimeTokenRecord | None:
        """In one transaction: consume the reset token and, if the user still has that email,
        set the new password hash and drop the user's other reset tokens. Returns the token,
        or None when it was unknown, expired, already used, or the email no longer matches.
        Of two concurrent calls with one token, at most one succeeds."""
        ...
