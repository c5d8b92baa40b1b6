"""TOTP use cases: devices (create, import, list, rename, remove) and code verification.

Every verification is charged to the user's failed-attempt budget before the code is looked at,
so parallel guesses cannot exceed it; an accepted code clears the count. A code is accepted once
(its time step is spent on the device), and its device's secret is only ever decrypted here.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass

from tokenward.recipes.totp.errors import DeviceAlreadyExists, UnknownDevice, UnknownUser
from tokenward.recipes.totp.port import Charged, DeviceRecord, Locked, TotpStore
from tokenward.recipes.totp.rules import (
    MAX_DEVICE_NAME,
    SECRET_BYTES,
    AttemptBudget,
    CodeShape,
    default_device_name,
    matching_step,
    otpauth_uri,
    secret_from,
    valid_secret,
)
from tokenward.shared.clock import Clock
from tokenward.shared.secret_box import SealedSecretError, SecretBox

log = logging.getLogger(__name__)

__all__ = [
    "Accepted",
    "DeviceAlreadyExists",
    "LockedOut",
    "NewDevice",
    "Totp",
    "UnknownDevice",
    "UnknownUser",
    "WrongCode",
]


@dataclass(frozen=True, slots=True)
class NewDevice:
    name: str
    secret: str
    shape: CodeShape


@dataclass(frozen=True, slots=True)
class Accepted:
    device: str
    was_already_verified: bool


@dataclass(frozen=True, slots=True)
class WrongCode:
    failures: int
    max_attempts: int


@dataclass(frozen=True, slots=True)
class LockedOut:
    retry_after_ms: int


Verdict = Accepted | WrongCode | LockedOut


def _aad(user_id: str) -> bytes:
    # Binds a sealed secret to its user: a row copied to another user does not open. Not to
    # the device name, which a rename changes without resealing the secret.
    return f"totp:{user_id}".encode()


class Totp:
    def __init__(
        self,
        store: TotpStore,
        box: SecretBox,
        clock: Clock,
        *,
        shape: CodeShape,
        budget: AttemptBudget,
        issuer: str,
    ) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self.shape = shape
        self.budget = budget
        self.issuer = issuer

    # --- devices -----------------------------------------------------------------------------

    async def create_device(
        self,
        user_id: str,
        name: str | None = None,
        *,
        period: int | None = None,
        skew: int | None = None,
    ) -> NewDevice:
        """A new, unverified device with a fresh secret. A name taken by an unverified device
        is reused (new secret); by a verified one, DeviceAlreadyExists."""
        secret = secret_from(secrets.token_bytes(SECRET_BYTES))
        return await self._put(user_id, name, secret, period=period, skew=skew, verified=False)

    async def import_device(
        self,
        user_id: str,
        secret: str,
        name: str | None = None,
        *,
        period: int | None = None,
        skew: int | None = None,
    ) -> NewDevice:
        """A device with a secret from another system, verified already (its owner uses it)."""
        if not valid_secret(secret):
            raise ValueError("the secret is not Base32 of at least 10 bytes")
        normalised = secret.strip().replace(" ", "").upper().rstrip("=")
        return await self._put(user_id, name, normalised, period=period, skew=skew, verified=True)

    async def devices(self, user_id: str) -> list[DeviceRecord]:
        return await self._store.devices(user_id)

    async def has_verified_device(self, user_id: str) -> bool:
        return any(d.verified for d in await self._store.devices(user_id))

    async def remove_device(
        self, user_id: str, name: str, *, verified: bool | None = None
    ) -> DeviceRecord | None:
        """``verified``: remove it only if it is (or is not) verified."""
        return await self._store.remove_device(user_id, name, verified=verified)

    async def rename_device(self, user_id: str, old: str, new: str) -> None:
        _check_name(new)
        await self._store.rename_device(user_id, old, new)

    async def is_new_device_secret(self, user_id: str, secret: str) -> bool:
        """Whether ``secret`` is that of one of the user's devices still being set up (the
        set-up page may draw its QR code)."""
        for device in await self._store.devices(user_id):
            if device.verified:
                continue
            try:
                opened = self._box.open(device.sealed_secret, aad=_aad(user_id))
            except SealedSecretError:
                continue
            if hmac.compare_digest(opened, secret.encode("ascii", "replace")):
                return True
        return False

    def uri(self, device: NewDevice, account: str | None) -> str:
        """The ``otpauth://`` URI for the QR code (``account``: the user's email or phone)."""
        return otpauth_uri(device.secret, issuer=self.issuer, account=account, shape=device.shape)

    # --- codes -------------------------------------------------------------------------------

    async def verify_device(self, user_id: str, name: str, code: str) -> Verdict:
        """Check a code from one device (verified or not) and verify the device with it.
        Raises UnknownDevice."""
        device = next((d for d in await self._store.devices(user_id) if d.name == name), None)
        if device is None:
            raise UnknownDevice(name)
        return await self._check(user_id, [device], code, verify=True)

    async def verify_code(self, user_id: str, code: str) -> Verdict:
        """Check a code against the user's verified devices. Raises UnknownUser when the user
        has none."""
        verified = [d for d in await self._store.devices(user_id) if d.verified]
        if not verified:
            raise UnknownUser(user_id)
        return await self._check(user_id, verified, code, verify=False)

    # --- helpers -----------------------------------------------------------------------------

    async def _check(
        self, user_id: str, candidates: list[DeviceRecord], code: str, *, verify: bool
    ) -> Verdict:
        now = self._clock.now_ms()
        charged = await self._store.charge(user_id, now, self.budget)
        if isinstance(charged, Locked):
            return LockedOut(charged.retry_after_ms)
        for device in candidates:
            step = self._step(device, code, now)
            if step is None:
                continue
            before = await self._store.accept(user_id, device.name, step, verify=verify)
            if before is not None:
                return Accepted(device.name, was_already_verified=before)
        return _wrong(charged, self.budget)

    def _step(self, device: DeviceRecord, code: str, now_ms: int) -> int | None:
        try:
            secret = self._box.open(device.sealed_secret, aad=_aad(device.user_id))
        except SealedSecretError:
            log.error(
                "a TOTP device's secret does not open with the configured encryption_keys "
                "(was a key removed?); the device cannot be used"
            )
            return None
        shape = CodeShape(period=device.period, digits=device.digits, skew=device.skew)
        typed = code.replace(" ", "")  # apps show "123 456"; people type the space too
        return matching_step(secret.decode("ascii"), typed, now_ms // 1000, shape)

    async def _put(
        self,
        user_id: str,
        name: str | None,
        secret: str,
        *,
        period: int | None,
        skew: int | None,
        verified: bool,
    ) -> NewDevice:
        shape = CodeShape(
            period=self.shape.period if period is None else period,
            digits=self.shape.digits,
            skew=self.shape.skew if skew is None else skew,
        )
        if name is None:
            existing = await self._store.devices(user_id)
            name = default_device_name(
                {d.name for d in existing if d.verified}, sum(d.verified for d in existing)
            )
        _check_name(name)
        await self._store.put_device(
            DeviceRecord(
                user_id=user_id,
                name=name,
                sealed_secret=self._box.seal(secret.encode("ascii"), aad=_aad(user_id)),
                period=shape.period,
                digits=shape.digits,
                skew=shape.skew,
                verified=verified,
                created_at=self._clock.now_ms(),
                last_step=None,
            )
        )
        return NewDevice(name, secret, shape)


def _wrong(charged: Charged, budget: AttemptBudget) -> WrongCode:
    return WrongCode(min(charged.failures, budget.max_attempts), budget.max_attempts)


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > MAX_DEVICE_NAME:
        raise ValueError(f"a device name is 1 to {MAX_DEVICE_NAME} characters")
