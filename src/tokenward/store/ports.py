"""What the service layer needs from storage: one narrow Protocol per concept, and its records.

Records are plain frozen dataclasses; timestamps are milliseconds since the epoch. The SQL
implementations live beside this module; ``tests/store`` runs one contract suite against them on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from tokenward.core.rate_limit import Backoff, Counter, Window
from tokenward.store.errors import StoreError

JsonObject = dict[str, Any]
T = TypeVar("T")


class EmailAlreadyExists(StoreError):
    """An email/password account with this email already exists in the tenant."""


class UnknownTenant(StoreError):
    """The tenant id names no tenant."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_handle: str
    tenant_id: str
    user_id: str
    recipe_user_id: str
    refresh_token_hash2: str
    session_data: JsonObject
    jwt_payload: JsonObject
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Rotate:
    """Set a session's refresh hash and expiry, if its hash is still ``expected_hash2``."""

    expected_hash2: str
    new_hash2: str
    expires_at: int


SessionWrite = Rotate | Literal["revoke"] | None
"""What a refresh does to the session row it read: rotate it, delete it, or nothing."""


class SessionStore(Protocol):
    async def create(self, session: SessionRecord) -> None: ...

    async def get(self, session_handle: str) -> SessionRecord | None: ...

    async def rotate(
        self, session_handle: str, *, expected_hash2: str, new_hash2: str, expires_at: int
    ) -> bool:
        """Set the refresh hash and expiry only if the stored hash is still ``expected_hash2``.
        Returns False when another request changed it first (or the session is gone)."""
        ...

    async def decide_and_write(
        self,
        session_handle: str,
        decide: Callable[[SessionRecord | None], tuple[T, SessionWrite]],
    ) -> tuple[T, bool]:
        """Read the session and apply the write ``decide`` makes of it, only if the row is
        still as ``decide`` saw it; when another writer changed it in between, ``decide`` runs
        again on the row as it now is. Returns ``decide``'s result and whether its write
        changed a row."""
        ...

    async def update_data(self, session_handle: str, data: JsonObject) -> bool: ...

    async def update_jwt_payload(self, session_handle: str, payload: JsonObject) -> bool: ...

    async def merge_jwt_payload(
        self, session_handle: str, patch: JsonObject, *, now: int
    ) -> JsonObject | None:
        """Merge ``patch`` into the stored payload in one transaction (a ``None`` value removes
        the key) and return the result; None if the session is gone or expired at ``now``.
        Concurrent merges of different keys all survive."""
        ...

    async def delete(self, session_handles: Sequence[str]) -> list[str]:
        """Delete these sessions; return the handles that existed."""
        ...

    async def delete_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]: ...

    async def handles_for_user(
        self, user_id: str, *, now: int, tenant_id: str | None = None
    ) -> list[str]:
        """Handles of the user's sessions that have not expired at ``now``."""
        ...

    async def delete_expired(self, now: int) -> int: ...


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    kid: str
    algorithm: str
    private_key: str
    created_at: int


class SigningKeyStore(Protocol):
    async def all(self) -> list[SigningKeyRecord]:
        """Every stored key, newest first."""
        ...

    async def add(self, key: SigningKeyRecord) -> bool:
        """Store a key; False if one with the same kid exists (another instance made it)."""
        ...

    async def delete_created_before(self, created_at: int) -> int: ...


class SecretStore(Protocol):
    async def get_or_create(self, name: str, value: str, *, now: int) -> str:
        """Return the stored secret ``name``, storing ``value`` first if there is none. Every
        instance that races here gets the same stored value."""
        ...


@dataclass(frozen=True, slots=True)
class OneTimeTokenRecord:
    token_hash: str
    purpose: str
    tenant_id: str
    user_id: str
    email: str
    created_at: int
    expires_at: int


class OneTimeTokenStore(Protocol):
    async def add(self, token: OneTimeTokenRecord) -> None: ...

    async def consume(
        self, token_hash: str, *, purpose: str, now: int
    ) -> OneTimeTokenRecord | None:
        """Delete and return the token if it exists, has this purpose and has not expired. Of
        two concurrent calls with one token, at most one gets it."""
        ...

    async def peek(self, token_hash: str, *, purpose: str, now: int) -> OneTimeTokenRecord | None:
        """The token if it exists, has this purpose and has not expired (nothing consumed)."""
        ...

    async def delete_for_user(self, purpose: str, user_id: str) -> int: ...

    async def delete_expired(self, now: int) -> int: ...


class PasswordResetStore(Protocol):
    async def reset_password(
        self, token_hash: str, *, now: int, password_hash: str
    ) -> OneTimeTokenRecord | None:
        """In one transaction: consume the reset token and, if the user still has that email,
        set the new password hash and drop the user's other reset tokens. Returns the token,
        or None when it was unknown, expired, already used, or the email no longer matches.
        Of two concurrent calls with one token, at most one succeeds."""
        ...


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

    async def set_password_hash(self, recipe_user_id: str, password_hash: str) -> bool: ...

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


class EmailVerificationStore(Protocol):
    async def mark_verified(self, user_id: str, email: str, *, now: int) -> None: ...

    async def verify_with_token(self, token_hash: str, *, now: int) -> OneTimeTokenRecord | None:
        """In one transaction: consume an email-verification token, mark its (user, email)
        verified and drop that pair's other verification tokens. None if the token is unknown,
        expired or already used."""
        ...

    async def unmark_verified(self, user_id: str, email: str) -> None: ...

    async def is_verified(self, user_id: str, email: str) -> bool: ...


AddUserRoleOutcome = Literal["added", "already_exists", "unknown_role"]
RemoveUserRoleOutcome = Literal["removed", "not_assigned", "unknown_role"]


class RoleStore(Protocol):
    """Roles and their permissions (per app), and which users hold them (per tenant). Every list
    returned is sorted."""

    async def create_or_add_permissions(
        self, role: str, permissions: Sequence[str], *, now: int
    ) -> bool:
        """Create the role if it does not exist and give it these permissions (those it has
        already are kept). True if this call created the role. Safe under concurrent calls with
        the same role or permissions: of racing creators exactly one gets True."""
        ...

    async def permissions(self, role: str) -> list[str] | None:
        """The role's permissions, or None if there is no such role."""
        ...

    async def remove_permissions(self, role: str, permissions: Sequence[str] | None) -> bool:
        """Take these permissions from the role (``None``: all of them). False if no such role."""
        ...

    async def delete_role(self, role: str) -> bool:
        """Delete the role with its permissions and assignments; False if there was none."""
        ...

    async def all_roles(self) -> list[str]: ...

    async def roles_with_permission(self, permission: str) -> list[str]: ...

    async def add_user_role(
        self, tenant_id: str, user_id: str, role: str
    ) -> AddUserRoleOutcome: ...

    async def remove_user_role(
        self, tenant_id: str, user_id: str, role: str
    ) -> RemoveUserRoleOutcome: ...

    async def user_roles(self, tenant_id: str, user_id: str) -> list[str]: ...

    async def user_roles_and_permissions(
        self, tenant_id: str, user_id: str
    ) -> tuple[list[str], list[str]]:
        """The user's roles in the tenant and the distinct permissions of those roles, read in
        one snapshot (what the ``st-role`` and ``st-perm`` claims carry)."""
        ...

    async def users_with_role(self, tenant_id: str, role: str) -> list[str] | None:
        """Users holding the role in the tenant, or None if there is no such role."""
        ...

    async def delete_user(self, user_id: str) -> int:
        """Drop every role assignment of the user, in all tenants; return how many there were."""
        ...


class UserMetadataStore(Protocol):
    """One JSON object per user."""

    async def get(self, user_id: str) -> JsonObject:
        """The user's metadata; an empty object if none is stored."""
        ...

    async def update(self, user_id: str, patch: JsonObject, *, now: int) -> JsonObject:
        """Merge ``patch`` into the stored object and return the result, in one transaction:
        top-level keys of the patch replace stored ones (nested objects are replaced, not
        merged) and a top-level ``None`` removes the key. Concurrent updates of different keys
        are all kept."""
        ...

    async def delete(self, user_id: str) -> None: ...


class RateLimitStore(Protocol):
    """Counters shared by every instance; each hit is one atomic statement."""

    async def hit_window(self, key: str, window: Window, *, now: int, hits: int = 1) -> Counter:
        """Count ``hits`` hits together, if all of them fit in the window's budget."""
        ...

    async def hit_in_turn(
        self, hits: Sequence[tuple[str, Window | Backoff]], *, now: int
    ) -> list[Counter]:
        """One hit on each key in order, up to and including the first refused one."""
        ...

    async def reset(self, keys: Sequence[str]) -> None: ...

    async def reset_and_refund(self, keys: Sequence[str], key: str, *, until: int) -> None:
        """Forget ``keys``, and take back one hit on ``key`` if its window still ends at
        ``until``."""
        ...

    async def delete_expired(self, now: int) -> int: ...
