"""Phone numbers in one spelling, E.164 (``+14155550100``), as accounts are stored and looked up.

The ``phonenumbers`` library (the one SuperTokens' SDKs use) parses and validates them. Numbers
must carry their country code: an API request has no region to assume.
"""

from __future__ import annotations

import phonenumbers

INVALID_PHONE = "Phone number is invalid"
"""supertokens-python's default phone validator's message."""

_MAX_INPUT = 64
"""The longest real number is 15 digits; spacing and punctuation stay within this."""


def normalise_phone(raw: str) -> str | None:
    """``raw`` in E.164, or None when it is not a valid phone number."""
    if len(raw) > _MAX_INPUT:
        return None
    try:
        parsed = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
