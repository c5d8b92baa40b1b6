"""What the TOTP use cases need from storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tokenward.recipes.totp.rules import AttemptBudget


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    user_id: str
    name: str
    sealed_secret: str
    """The Base32 secret, encrypted (``shared.secret_box``)."""
    period: int
    digits: int
    skew: int
    verified: bool
    created_at: int
    last_step: int | None
    """The last time step whose code was accepted: that code, and every earlier one, is spent."""


@dataclass(frozen=True, slots=True)
class Charged:
    """The attempt was counted: ``failures`` is the count including it."""

    failures: int


@dataclass(frozen=True, slots=True)
class Locked:
    retry_after_ms: int


class TotpStore(Protocol):
    async def devices(self, user_id: str) -> list[DeviceRecord]:
        """The user's devices, oldest first."""
        ...

    async def put_device(self, device: DeviceRecord) -> None:
        """Add the device, replacing an unverified one of the same name. Raises
        DeviceAlreadyExists when a verified device has the name, UnknownUser when there is no
        such user."""
        ...

    async def remove_device(
        self, user_id: str, name: str, *, verified: bool | None = None
    ) -> DeviceRecord | None:
        """Remove the device (only if its verified state is ``verified``, when given); the
        removed record, or None when there was none."""
        ...

    async def rename_device(self, user_id: str, old: str, new: str) -> None:
        """Raises UnknownDevice or DeviceAlreadyExists."""
        ...

    async def accept(self, user_id: str, name: str, step: int, *, verify: bool) -> bool | None:
        """Spend ``step`` of the device (only if it is later than the last accepted one), mark
        the device verified when ``verify``, and clear the user's failed attempts, in one
        transaction. None when the code was spent already (a replay, or a parallel request
        won); otherwise whether the device was verified before."""
        ...

    async def charge(self, user_id: str, now: int, budget: AttemptBudget) -> Charged | Locked:
        """Count one attempt before the code is checked, unless the user is locked: a lock
        that has run out starts the count again. One conditional write, so parallel guesses
        cannot exceed the budget."""
        ...
