"""Which passwords are accepted at sign-up, reset and change (NIST SP 800-63B-4 by default).

The rules are the ones that measurably help: a minimum length, a generous maximum, a
blocklist of passwords attackers try first, and no password built from the user's own email
or the app's name. There are deliberately no composition rules ("a digit and a symbol"):
NIST forbids them, because they push users to predictable patterns such as ``Password1!``.

A policy is a tuple of validators, each a plain function returning a message for the user or
``None``. Apps replace the defaults by passing their own tuple. Validators see the password
exactly as typed: lengths count Unicode code points, nothing is truncated, and nothing is
case-folded or normalised except for the comparisons that are case-insensitive by design.

The blocklist is package data (``data/common-passwords.txt``), read by the caller
(``service.common_passwords``) and passed in: rules do no I/O. ``scripts/build-common-passwords.py``
documents how it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tokenward.shared.emails import normalise_email

DEFAULT_MIN_LENGTH = 8
DEFAULT_MAX_LENGTH = 256
MIN_CONTEXT_WORD_LENGTH = 4
"""Shorter context words (an email local part such as ``jo``) would match by accident."""

TOO_COMMON = "This password is too common; choose a less predictable one"
CONTAINS_EMAIL = "Password must not contain your email address"
CONTAINS_EMAIL_NAME = "Password must not contain the part of your email address before the @"
CONTAINS_APP_NAME = "Password must not contain the name of this app"
NOT_ENCODABLE = "Password contains characters that cannot be used"


@dataclass(frozen=True, slots=True)
class PasswordContext:
    """What is known about the account, so validators can refuse guessable passwords."""

    email: str | None = None
    app_name: str | None = None


PasswordValidator = Callable[[str, PasswordContext], str | None]
"""Returns a user-facing reason the password is refused, or ``None`` to accept it."""


def min_length(n: int) -> PasswordValidator:
    """Refuse passwords shorter than ``n`` code points (length is what resists guessing)."""

    def check(password: str, context: PasswordContext) -> str | None:
        if len(password) < n:
            return f"Password must contain at least {n} characters"
        return None

    return check


def max_length(n: int) -> PasswordValidator:
    """Refuse passwords longer than ``n`` code points.

    The cap exists to bound the work a request can cause, not to limit users: the default
    (256) is far above what NIST requires (64). Put it first so a huge password is refused
    before any other validator looks at it.
    """

    def check(password: str, context: PasswordContext) -> str | None:
        if len(password) > n:
            return f"Password must be at most {n} characters"
        return None

    return check


def encodable() -> PasswordValidator:
    """Refuse strings UTF-8 cannot encode (unpaired surrogates, which JSON can carry).

    No keyboard produces them, and the hasher, which encodes passwords as UTF-8, cannot take
    them: refusing them here turns what would be a server error into a clear message.
    """

    def check(password: str, context: PasswordContext) -> str | None:
        try:
            password.encode("utf-8")
        except UnicodeEncodeError:
            return NOT_ENCODABLE
        return None

    return check


def not_common(blocklist: Iterable[str]) -> PasswordValidator:
    """Refuse passwords on a blocklist (the caller loads it: ``service.common_passwords``),
    case-insensitively."""
    words = frozenset(word.lower() for word in blocklist)

    def check(password: str, context: PasswordContext) -> str | None:
        if password.lower() in words:
            return TOO_COMMON
        return None

    return check


def _squeezed(text: str) -> str:
    """``text`` lower-cased without whitespace, so ``My App`` also catches ``myapp2025``."""
    return "".join(text.lower().split())


def not_contextual() -> PasswordValidator:
    """Refuse passwords containing the user's email, its local part, or the app's name.

    These are the first guesses of anyone targeting one account (``alice2025!`` for
    ``alice@example.com``). Words shorter than ``MIN_CONTEXT_WORD_LENGTH`` are ignored, since
    they would turn up inside unrelated passwords.
    """

    def check(password: str, context: PasswordContext) -> str | None:
        lowered = password.lower()
        if context.email:
            email = normalise_email(context.email)
            if email in lowered:
                return CONTAINS_EMAIL
            local = email.rpartition("@")[0]
            if len(local) >= MIN_CONTEXT_WORD_LENGTH and local in lowered:
                return CONTAINS_EMAIL_NAME
        if context.app_name:
            names = {context.app_name.strip().lower(), _squeezed(context.app_name)}
            if any(len(n) >= MIN_CONTEXT_WORD_LENGTH and n in lowered for n in names):
                return CONTAINS_APP_NAME
        return None

    return check


def default_validators(
    blocklist: Iterable[str],
    min_len: int = DEFAULT_MIN_LENGTH,
    max_len: int = DEFAULT_MAX_LENGTH,
) -> tuple[PasswordValidator, ...]:
    """The NIST-style default policy, the cheap length cap first; ``blocklist`` is the list of
    common passwords (``service.common_passwords.common_passwords()``)."""
    return (
        max_length(max_len),
        encodable(),
        min_length(min_len),
        not_common(blocklist),
        not_contextual(),
    )


def first_error(
    password: str, context: PasswordContext, validators: Sequence[PasswordValidator]
) -> str | None:
    """The message of the first validator, in order, that refuses ``password``; else ``None``."""
    for validate in validators:
        message = validate(password, context)
        if message is not None:
            return message
    return None
