"""Storage: narrow Protocols (``ports``) and their SQL implementations on SQLite or PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from tokenward.recipes.emailpassword.port import PasswordResetStore
from tokenward.recipes.emailpassword.sql import SqlPasswordResetStore
from tokenward.recipes.emailverification.port import EmailVerificationStore
from tokenward.recipes.emailverification.sql import SqlEmailVerificationStore
from tokenward.recipes.jwt.port import SecretStore, SigningKeyStore
from tokenward.recipes.jwt.sql import SqlSecretStore, SqlSigningKeyStore
from tokenward.recipes.multifactorauth.port import RecoveryCodeStore
from tokenward.recipes.multifactorauth.sql import SqlRecoveryCodeStore
from tokenward.recipes.passwordless.port import PasswordlessStore
from tokenward.recipes.passwordless.sql import SqlPasswordlessStore
from tokenward.recipes.session.port import SessionStore
from tokenward.recipes.session.sql import SqlSessionStore
from tokenward.recipes.thirdparty.port import ProviderConfigs, ThirdPartyStore
from tokenward.recipes.thirdparty.sql import SqlProviderConfigs, SqlThirdPartyStore
from tokenward.recipes.totp.port import TotpStore
from tokenward.recipes.totp.sql import SqlTotpStore
from tokenward.recipes.usermetadata.port import UserMetadataStore
from tokenward.recipes.usermetadata.sql import SqlUserMetadataStore
from tokenward.recipes.userroles.port import RoleStore
from tokenward.recipes.userroles.sql import SqlRoleStore
from tokenward.recipes.users.port import UserStore
from tokenward.recipes.users.sql import SqlUserStore
from tokenward.shared.database.engine import Database
from tokenward.shared.email_links.port import OneTimeTokenStore
from tokenward.shared.email_links.sql import SqlOneTimeTokenStore
from tokenward.shared.rate_limits.port import RateLimitStore
from tokenward.shared.rate_limits.sql import SqlRateLimitStore


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
    passwordless: PasswordlessStore
    thirdparty: ThirdPartyStore
    provider_configs: ProviderConfigs
    totp: TotpStore
    recovery_codes: RecoveryCodeStore
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
            passwordless=SqlPasswordlessStore(db),
            thirdparty=SqlThirdPartyStore(db),
            provider_configs=SqlProviderConfigs(db),
            totp=SqlTotpStore(db),
            recovery_codes=SqlRecoveryCodeStore(db),
            roles=SqlRoleStore(db),
            user_metadata=SqlUserMetadataStore(db),
            rate_limits=SqlRateLimitStore(db),
        )

    async def close(self) -> None:
        await self.db.close()


__all__ = ["Database", "Stores"]
