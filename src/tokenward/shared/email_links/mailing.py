"""Mailing a single-use link: the one step the email-link flows (password reset, email
verification) share once they have a token: build the website link, render the message, send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tokenward.shared.email_delivery import EmailMessage, EmailSender

LinkBuilder = Callable[[str, str], str]
"""(token, tenant id) -> the website page that takes the token."""


class LinkMessage(Protocol):
    """A message template (``shared.email_templates``)."""

    def __call__(self, to: str, link: str, *, app_name: str, valid_for_s: int) -> EmailMessage: ...


class LinkMailer:
    def __init__(
        self,
        sender: EmailSender,
        link: LinkBuilder,
        message: LinkMessage,
        *,
        app_name: str,
        valid_for_ms: int,
    ) -> None:
        self._sender = sender
        self._link = link
        self._message = message
        self._app_name = app_name
        self._valid_for_s = valid_for_ms // 1000

    async def send(self, to: str, token: str, tenant_id: str) -> None:
        """Email ``to`` the link carrying ``token``. Raises EmailDeliveryError (retryable)."""
        link = self._link(token, tenant_id)
        await self._sender.send(
            self._message(to, link, app_name=self._app_name, valid_for_s=self._valid_for_s)
        )
