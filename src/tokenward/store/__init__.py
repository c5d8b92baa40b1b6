"""Storage: narrow Protocols (``ports``) and their SQL implementations on SQLite or PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from tokenward.store.database import Database
from tokenward.store.email_verification import SqlEmailVerificationStore
from tokenward.store.one_time_tokens import SqlOneTimeTokenStore
from tokenward.store.ports import (
    EmailVerificationStore,
    OneTimeTokenStore,
    PasswordResetStore,
    RateLimitStore,
    RoleStore,
    SecretStore,
    SessionStore,
    SigningKeyStore,
    UserMetadataStore,
    UserStore,
)
from tokenward.store.rate_limits import SqlRateLimitStore
from tokenward.store.roles import SqlRoleStore
from tokenward.store.sessions import SqlSessionStore
from tokenward.store.signing_keys import SqlSecretStore, SqlSigningKeyStore
from tokenward.store.user_metadata import SqlUserMetadataStore
from tokenward.store.users import SqlPasswordResetStore, SqlUserStore


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store, over one database."""

    db: Database
    sessions: SessionStore
    signing_keys: SigningKeyStore
    secrets: SecretStore
    one_time_tokens: OneTimeTokenStore
    users: UserStore
    email_verification: EmailVerificationStore
    password_reset: PasswordResetStore
    roles: RoleStore
    user_metadata: UserMetadataStore
    rate_limits: RateLimitStore

    @classmethod
    def open(cls, database_url: str) -> Stores:
        db = Database(database_url)
        return cls(
            db=db,
            sessions=SqlSessionStore(db),
            signing_keys=SqlSigningKeyStore(db),
            secrets=SqlSecretStore(db),
            one_time_tokens=SqlOneTimeTokenStore(db),
            users=SqlUserStore(db),
            email_verification=SqlEmailVerificationStore(db),
            password_reset=SqlPasswordResetStore(db),
            roles=SqlRoleStore(db),
            user_metadata=SqlUserMetadataStore(db),
            rate_limits=SqlRateLimitStore(db),
        )

    async def close(self) -> None:
        await self.db.close()


__all__ = ["Database", "Stores"]
