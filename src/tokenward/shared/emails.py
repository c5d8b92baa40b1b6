"""Email normalisation and the SuperTokens default email check.

Accounts are looked up by email, so every path (sign-up, sign-in, reset, CDI) must agree on
one spelling: :func:`normalise_email` trims and lower-cases, as the SuperTokens SDKs do
before they call the core. :func:`email_error` applies the SDKs' default validation regex so
that an address the official SDKs would refuse is refused here with the same message.
"""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 320
"""RFC 3696's upper bound (64-octet local part, "@", 255-octet domain).

Checked before the regex, which also keeps the regex's work bounded on hostile input.
"""

INVALID_EMAIL = "Email is not valid"
"""The message supertokens-python's default email validator returns."""

_EMAIL_PATTERN = re.compile(
    r'^(([^<>()\[\]\\.,;:\s@"]+(\.[^<>()\[\]\\.,;:\s@"]+)*)|(".+"))@'
    r"((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$"
)
"""supertokens-python's ``default_email_validator`` pattern, verbatim."""


def normalise_email(raw: str) -> str:
    """The form an email is stored and looked up in: surrounding whitespace removed, lower case."""
    return raw.strip().lower()


def email_error(email: str) -> str | None:
    """Why ``email`` is not an acceptable address, or ``None`` when it is.

    Uses ``fullmatch`` like the SDK, so a trailing newline cannot slip past ``$``.
    """
    if len(email) > MAX_EMAIL_LENGTH or _EMAIL_PATTERN.fullmatch(email) is None:
        return INVALID_EMAIL
    if "\x00" in email or any("\ud800" <= c <= "\udfff" for c in email):
        return INVALID_EMAIL  # the pattern admits them; no database or mail server would
    return None
