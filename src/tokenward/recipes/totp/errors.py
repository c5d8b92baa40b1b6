"""The TOTP recipe's refusals (pure)."""

from __future__ import annotations


class DeviceAlreadyExists(Exception):
    """A verified device already has this name."""


class UnknownDevice(Exception):
    """The user has no device of this name."""


class UnknownUser(Exception):
    """No such user (devices belong to users)."""
