"""The emails tokenward sends, and the links inside them.

Bodies are ``string.Template`` files shipped as package data (``tokenward/templates/email``), a
plain-text and an HTML version of each; the HTML versions are the content that ``layout.html``
(the page, its table layout and footer) wraps. Every value substituted into the HTML is escaped: the
app name is configuration and the link carries a token, neither is markup. Links are built from
configuration only, never from a request's Host header, which an attacker could set to make a
reset email point at their own site (and receive the token).
"""

from __future__ import annotations

import functools
import html
import string
from importlib import resources
from typing import Protocol
from urllib.parse import quote, urlsplit

from tokenward.shared.email_delivery import EmailMessage


class Website(Protocol):
    """Where the website's pages are (``Settings`` is one)."""

    @property
    def effective_website_domain(self) -> str: ...

    @property
    def website_base_path(self) -> str: ...


_TEMPLATE_PACKAGE = "tokenward"
_TEMPLATE_DIR = ("templates", "email")


def reset_link(settings: Website, token: str, tenant_id: str = "public") -> str:
    """The password-reset page link, in SuperTokens' format (its frontends read these params)."""
    return _website_link(settings, "reset-password", token, tenant_id)


def verification_link(settings: Website, token: str, tenant_id: str = "public") -> str:
    """The email-verification page link, in SuperTokens' format."""
    return _website_link(settings, "verify-email", token, tenant_id)


def password_reset_email(to: str, link: str, *, app_name: str, valid_for_s: int) -> EmailMessage:
    """The email that carries a password-reset link."""
    return _render(
        "password_reset",
        to=to,
        subject=f"Reset your password for {app_name}",
        link=link,
        app_name=app_name,
        valid_for_s=valid_for_s,
    )


def email_verification_email(
    to: str, link: str, *, app_name: str, valid_for_s: int
) -> EmailMessage:
    """The email that carries an email-verification link."""
    return _render(
        "email_verification",
        to=to,
        subject=f"Verify your email address for {app_name}",
        link=link,
        app_name=app_name,
        valid_for_s=valid_for_s,
    )


def sign_in_email(
    to: str, *, code: str | None, link: str | None, app_name: str, valid_for_s: int
) -> EmailMessage:
    """The passwordless sign-in email: a code to type, a link to click, or both."""
    name = {
        (True, False): "sign_in_code",
        (False, True): "sign_in_link",
        (True, True): "sign_in_code_and_link",
    }.get((code is not None, link is not None))
    if name is None:
        raise ValueError("a sign-in email carries a code, a link, or both")
    return _render(
        name,
        to=to,
        subject=f"Sign in to {app_name}",
        link=link,
        app_name=app_name,
        valid_for_s=valid_for_s,
        code=code,
    )


def security_notice_email(to: str, *, change: str, app_name: str) -> EmailMessage:
    """A notice that the account's security changed (``change``: "A TOTP authenticator app
    was added"), so its owner learns of a change they did not make."""
    return _render(
        "security_notice",
        to=to,
        subject=f"Your {app_name} sign-in settings changed",
        link=None,
        app_name=app_name,
        valid_for_s=None,
        change=change,
    )


def human_duration(seconds: int) -> str:
    """A lifetime as people say it: "1 hour", "24 hours", "7 days", "15 minutes".

    Uses the largest unit that states it exactly, days only from two days up (a one-day link
    reads better as "24 hours"). A lifetime that is not a whole number of minutes is rounded
    down, so the email never promises more time than the link has.
    """
    if seconds <= 0:
        raise ValueError(f"a lifetime must be positive, got {seconds}")
    if seconds % 86_400 == 0 and seconds >= 2 * 86_400:
        return _plural(seconds // 86_400, "day")
    if seconds % 3600 == 0:
        return _plural(seconds // 3600, "hour")
    if seconds >= 60:
        return _plural(seconds // 60, "minute")
    return _plural(seconds, "second")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _website_link(settings: Website, page: str, token: str, tenant_id: str) -> str:
    base = settings.effective_website_domain + settings.website_base_path.rstrip("/")
    return f"{base}/{page}?token={quote(token, safe='')}&tenantId={quote(tenant_id, safe='')}"


def _render(
    name: str,
    *,
    to: str,
    subject: str,
    link: str | None,
    app_name: str,
    valid_for_s: int | None,
    code: str | None = None,
    change: str = "",
) -> EmailMessage:
    if link is not None and urlsplit(link).scheme not in ("http", "https"):
        # Mail clients follow whatever is in href; only web links belong there.
        raise ValueError("an email link must be an http(s) URL")
    values = {
        "app_name": app_name,
        "link": link or "",
        "code": code or "",
        "subject": subject,
        "valid_for": "" if valid_for_s is None else human_duration(valid_for_s),
        "change": change,
    }
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    return EmailMessage(
        to=to,
        subject=subject,
        text=_template(f"{name}.txt").substitute(values),
        html=_template("layout.html").substitute(
            escaped, content=_template(f"{name}.html").substitute(escaped)
        ),
    )


@functools.cache
def _template(filename: str) -> string.Template:
    """A template file's content, read once per process."""
    path = resources.files(_TEMPLATE_PACKAGE)
    for part in (*_TEMPLATE_DIR, filename):
        path = path / part
    return string.Template(path.read_text(encoding="utf-8"))
