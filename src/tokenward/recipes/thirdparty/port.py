"""What the third-party use cases need from storage: the sign-in/up of a provider account, and
the providers configured per tenant through the core API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tokenward.recipes.users.port import LoginMethodRecord, UserRecord


@dataclass(frozen=True, slots=True)
class ProviderAccount:
    """An account at a provider, as it signs in: its id there, and its email now."""

    third_party_id: str
    third_party_user_id: str
    email: str
    email_verified: bool


@dataclass(frozen=True, slots=True)
class SignedInUp:
    user: UserRecord
    method: LoginMethodRecord
    created: bool
    email_verified: bool = False
    """The login method's email was just marked verified (the provider said so)."""


class ThirdPartyStore(Protocol):
    async def sign_in_up(
        self, tenant_id: str, account: ProviderAccount, *, new_user_id: str, now: int
    ) -> SignedInUp:
        """The user of the login method (``third_party_id``, ``third_party_user_id``) in the
        tenant, created (under ``new_user_id``) if there is none. The stored email follows the
        provider's; a verified one is marked verified (and ``email_verified`` says so). Of
        concurrent first sign-ins of one account, one creates the user and the others find it.
        Raises UnknownTenant."""
        ...

    async def sign_in(
        self, tenant_id: str, account: ProviderAccount, *, now: int
    ) -> SignedInUp | None:
        """As ``sign_in_up`` for an account that has a user; None (and nothing written) for one
        that has none."""
        ...


class ProviderConfigs(Protocol):
    """Provider configurations (SuperTokens' provider JSON) stored per tenant."""

    async def put_provider(
        self, tenant_id: str, third_party_id: str, config: Mapping[str, Any], *, now: int
    ) -> bool:
        """Stores the configuration, replacing any of the same id; True when it is new.
        Raises UnknownTenant."""
        ...

    async def remove_provider(self, tenant_id: str, third_party_id: str) -> bool:
        """False when there was none."""
        ...

    async def tenant_providers(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's configurations, oldest first."""
        ...
