"""What the passwordless use cases need from storage: devices, their codes, and the one
transaction that consumes a code and signs the user up or in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from tokenward.recipes.users.port import UserRecord
from tokenward.shared.database.errors import StoreError


class CodeCollision(StoreError):
    """Another code already has this link-code hash (a custom user input code reused on its
    device). Nothing was written."""


@dataclass(frozen=True, slots=True)
class NewCode:
    code_id: str
    link_code_hash: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class CodeRecord:
    code_id: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One sign-in attempt with one email or phone number, and its live codes."""

    pre_auth_session_id: str
    tenant_id: str
    email: str | None
    phone_number: str | None
    link_code_salt: bytes = field(repr=False)
    failed_attempts: int
    codes: tuple[CodeRecord, ...] = ()
    second_factor: bool = False
    """Its codes complete a signed-in user's second factor; they never sign in."""


@dataclass(frozen=True, slots=True)
class Contact:
    """An email or a phone number (exactly one)."""

    email: str | None = None
    phone_number: str | None = None

    def __post_init__(self) -> None:
        if (self.email is None) == (self.phone_number is None):
            raise ValueError("a contact is an email or a phone number")


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A code presented by its link (the hash of the link code)."""

    link_code_hash: str


@dataclass(frozen=True, slots=True)
class TypedCode:
    """A code typed by the user, with the secret device id only the browser holds."""

    device_id: str = field(repr=False)
    user_input_code: str = field(repr=False)


Proof = LinkCode | TypedCode


@dataclass(frozen=True, slots=True)
class Accepted:
    """The code was right: its device and every other device of the same contact are gone."""

    device: DeviceRecord
    user: UserRecord | None
    """The user signed in (or up); None for a check that signs nobody in."""
    created_user: bool = False
    recipe_user_id: str | None = None
    """The passwordless login method the user signed in with."""


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Literal["restart", "incorrect", "expired"]
    failed_attempts: int = 0
    """The device's count of wrong typed codes after this one (incorrect and expired)."""


class PasswordlessStore(Protocol):
    async def create_device(
        self,
        tenant_id: str,
        pre_auth_session_id: str,
        contact: Contact,
        *,
        link_code_salt: bytes,
        code: NewCode,
        second_factor: bool = False,
    ) -> None:
        """A new device with its first code. Raises CodeCollision or UnknownTenant."""
        ...

    async def add_code(self, tenant_id: str, pre_auth_session_id: str, code: NewCode) -> bool:
        """Another code for the device; False when the device is gone. Raises CodeCollision."""
        ...

    async def device(self, tenant_id: str, pre_auth_session_id: str) -> DeviceRecord | None:
        """The device with its codes (expired ones included until the cleanup removes them)."""
        ...

    async def devices_of(self, tenant_id: str, contact: Contact) -> list[DeviceRecord]: ...

    async def remove_device(self, tenant_id: str, pre_auth_session_id: str) -> bool: ...

    async def remove_code(self, tenant_id: str, code_id: str) -> bool:
        """Remove one code; a device left without codes is removed too."""
        ...

    async def remove_devices_of(self, tenant_id: str, contact: Contact) -> None: ...

    async def consume(
        self,
        tenant_id: str,
        pre_auth_session_id: str,
        proof: Proof,
        *,
        now: int,
        max_attempts: int,
        new_user_id: str | None,
        use_up: bool = True,
        second_factor: bool = False,
    ) -> Accepted | Refused:
        """Use the device's code that ``proof`` presents.

        A live code is accepted by one conditional write that deletes its device (and so its
        codes) only while the code is live: of concurrent calls with one code, at most one is
        accepted. With ``new_user_id`` the passwordless user of that contact is then found or
        created (under that id, its email marked verified), and the contact's other devices
        are deleted; without it (a second factor) nobody signs in. Without ``use_up`` (a
        check) nothing is deleted and nobody signs in. A code is used up only for what its device
        was made for (``second_factor``); presented for the other, it counts as wrong.

        A wrong or expired typed code counts against the device (the attempt
        that reaches ``max_attempts`` deletes it: ``restart``); a wrong or expired link code
        always means ``restart``, as does an unknown device."""
        ...

    async def remove_expired(self, now: int) -> int:
        """Delete expired codes and the devices left without a code; returns how many codes."""
        ...
