"""Users and their login methods, as every login recipe stores and reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tokenward.shared.database.errors import StoreError


class EmailAlreadyExists(StoreError):
    """A login method of the same recipe already has this email in the tenant."""


class PhoneNumberAlreadyExists(StoreError):
    """A passwordless login method already has this phone number in the tenant."""


class UnknownTenant(StoreError):
    """The tenant id names no tenant."""


@dataclass(frozen=True, slots=True)
class LoginMethodRecord:
    recipe_user_id: str
    user_id: str
    recipe_id: str
    tenant_ids: tuple[str, ...]
    time_joined: int
    email: str | None = None
    phone_number: str | None = None
    third_party_id: str | None = None
    third_party_user_id: str | None = None
    password_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: str
    time_joined: int
    login_methods: tuple[LoginMethodRecord, ...]

    @property
    def tenant_ids(self) -> tuple[str, ...]:
        seen = dict.fromkeys(t for m in self.login_methods for t in m.tenant_ids)
        return tuple(seen)


class UserStore(Protocol):
    async def create_email_password_user(
        self, *, user_id: str, tenant_id: str, email: str, password_hash: str, now: int
    ) -> UserRecord:
        """Create a user whose one login method is email/password.

        Raises EmailAlreadyExists or UnknownTenant."""
        ...

    async def get(self, user_id: str) -> UserRecord | None: ...

    async def find_email_password_user(
        self, tenant_id: str, email: str
    ) -> tuple[UserRecord, LoginMethodRecord] | None:
        """The user with the email/password account of ``email`` in ``tenant_id``, and that
        account, in one read."""
        ...

    async def find_email_password(self, tenant_id: str, email: str) -> LoginMethodRecord | None: ...

    async def find_passwordless(
        self, tenant_id: str, *, email: str | None = None, phone_number: str | None = None
    ) -> tuple[UserRecord, LoginMethodRecord] | None:
        """The user with the passwordless login method of ``email`` (or ``phone_number``) in
        ``tenant_id``, and that login method."""
        ...

    async def with_email(self, tenant_id: str, email: str) -> list[UserRecord]:
        """Every user with a login method of this email in ``tenant_id``, whatever its recipe."""
        ...

    async def find_third_party(
        self, tenant_id: str, third_party_id: str, third_party_user_id: str
    ) -> UserRecord | None:
        """The user with this provider account in ``tenant_id``."""
        ...

    async def set_password_hash(self, recipe_user_id: str, password_hash: str) -> bool: ...

    async def set_contact(
        self, recipe_user_id: str, *, email: str | None, phone_number: str | None
    ) -> bool:
        """Give a passwordless login method this email and phone number (None: none). False
        when there is no such login method. Raises EmailAlreadyExists or
        PhoneNumberAlreadyExists when another one of a tenant has it."""
        ...

    async def delete(self, user_id: str) -> bool: ...

    async def page(
        self,
        tenant_id: str | None,
        *,
        limit: int,
        after: tuple[int, str] | None,
        newest_first: bool,
    ) -> list[UserRecord]:
        """Users ordered by (time joined, id), after the given position; all tenants if None."""
        ...

    async def count(self, tenant_id: str | None) -> int: ...
