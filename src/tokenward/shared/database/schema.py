"""Table definitions used by the queries (SQLAlchemy Core, no ORM).

Migrations in ``migrations/versions`` create these tables; ``tests/shared/database/test_engine.py``
checks that the migrated database and this metadata agree. Timestamps are milliseconds since the
epoch (BIGINT), as in SuperTokens' core, so values pass through the wire protocols unchanged.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(128), primary_key=True),
    Column("time_joined", BigInteger, nullable=False),
)

# One row per way a user signs in (SuperTokens' "recipe user"): email/password, a third-party
# account, a passwordless email or phone. Several rows per user once accounts are linked.
login_methods = Table(
    "login_methods",
    metadata,
    Column("recipe_user_id", String(128), primary_key=True),
    Column(
        "user_id",
        String(128),
        ForeignKey("users.user_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("recipe_id", String(32), nullable=False),
    Column("email", String(320)),
    Column("phone_number", String(32)),
    Column("third_party_id", String(64)),
    Column("third_party_user_id", String(256)),
    Column("password_hash", Text),
    Column("time_joined", BigInteger, nullable=False),
)

# Which tenants a login method belongs to. The identifying columns are repeated here so that the
# partial unique indexes can say "one email/password account per email per tenant", and so on.
login_method_tenants = Table(
    "login_method_tenants",
    metadata,
    Column(
        "tenant_id",
        String(64),
        ForeignKey("tenants.tenant_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "recipe_user_id",
        String(128),
        ForeignKey("login_methods.recipe_user_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("recipe_id", String(32), nullable=False),
    Column("email", String(320)),
    Column("phone_number", String(32)),
    Column("third_party_id", String(64)),
    Column("third_party_user_id", String(256)),
)


def _partial_unique(name: str, where: str, *columns: str) -> Index:
    clause = text(where)
    return Index(
        name,
        *(login_method_tenants.c[c] for c in columns),
        unique=True,
        sqlite_where=clause,
        postgresql_where=clause,
    )


_partial_unique("uq_lmt_emailpassword_email", "recipe_id = 'emailpassword'", "tenant_id", "email")
_partial_unique("uq_lmt_passwordless_email", "recipe_id = 'passwordless'", "tenant_id", "email")
_partial_unique(
    "uq_lmt_passwordless_phone", "recipe_id = 'passwordless'", "tenant_id", "phone_number"
)
_partial_unique(
    "uq_lmt_thirdparty",
    "recipe_id = 'thirdparty'",
    "tenant_id",
    "third_party_id",
    "third_party_user_id",
)

verified_emails = Table(
    "verified_emails",
    metadata,
    Column("user_id", String(128), primary_key=True),
    Column("email", String(320), primary_key=True),
    Column("verified_at", BigInteger, nullable=False),
)

# Sessions are not tied to the users table by a foreign key: the core API may create sessions for
# user ids that live in another system, as SuperTokens' core allows.
sessions = Table(
    "sessions",
    metadata,
    Column("session_handle", String(255), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("user_id", String(128), nullable=False, index=True),
    Column("recipe_user_id", String(128), nullable=False),
    Column("refresh_token_hash2", String(64), nullable=False),
    Column("session_data", Text, nullable=False),
    Column("jwt_payload", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("private_key", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
)

# Secrets generated once per deployment and shared by every instance (for example the key that
# seals refresh tokens).
app_secrets = Table(
    "app_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Single-use tokens (password reset, email verification). Only a hash of the token is stored.
one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("purpose", String(32), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("email", String(320), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Index("ix_one_time_tokens_purpose_user", "purpose", "user_id"),
)

# Roles and their permissions belong to the app; which users hold a role is kept per tenant, as in
# SuperTokens' userroles recipe. user_roles has no foreign key to users: the core API may assign
# roles to user ids that live in another system.
roles = Table(
    "roles",
    metadata,
    Column("role", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

role_permissions = Table(
    "role_permissions",
    metadata,
    Column(
        "role",
        String(255),
        ForeignKey("roles.role", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("permission", String(255), primary_key=True, index=True),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column(
        "role",
        String(255),
        ForeignKey("roles.role", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_user_roles_tenant_id_role", "tenant_id", "role"),
)

# One JSON object per user (SuperTokens' usermetadata recipe), per app, whatever the tenant.
user_metadata = Table(
    "user_metadata",
    metadata,
    Column("user_id", String(128), primary_key=True),
    Column("metadata", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Rate-limit counters shared by every instance (tokenward.shared.rate_limits.rules): a window's hits
# and end, or a backoff's consecutive failures and the earliest next attempt. Keys hash their
# identifiers. Rows past ``expires_at`` are removed by the periodic cleanup.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("until", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

# Passwordless sign-in (SuperTokens' passwordless recipe): a device is one attempt to sign in
# with one email or phone number, named by its pre-auth session id (a hash of the device id the
# browser holds); its codes are stored as hashes of their link codes only.
passwordless_devices = Table(
    "passwordless_devices",
    metadata,
    Column("pre_auth_session_id", String(64), primary_key=True),
    Column(
        "tenant_id",
        String(64),
        ForeignKey("tenants.tenant_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("email", String(320)),
    Column("phone_number", String(32)),
    Column("link_code_salt", String(64), nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # A second factor's code (MFA): consumed only as one, never to sign in (or up).
    Column("second_factor", Boolean, nullable=False, server_default=false()),
    Index("ix_passwordless_devices_tenant_email", "tenant_id", "email"),
    Index("ix_passwordless_devices_tenant_phone", "tenant_id", "phone_number"),
)

passwordless_codes = Table(
    "passwordless_codes",
    metadata,
    Column("code_id", String(36), primary_key=True),
    Column(
        "pre_auth_session_id",
        String(64),
        ForeignKey("passwordless_devices.pre_auth_session_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("link_code_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

# Third-party providers configured per tenant through the core API (SuperTokens'
# ``/recipe/multitenancy/config/thirdparty``): the provider JSON as it was given. Client secrets
# are in it, as in SuperTokens' core; the database is as secret as the settings file.
thirdparty_providers = Table(
    "thirdparty_providers",
    metadata,
    Column(
        "tenant_id",
        String(64),
        ForeignKey("tenants.tenant_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("third_party_id", String(128), primary_key=True),
    Column("config", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)


def _user_key() -> Column[str]:
    """A user id that is (part of) the primary key; the rows go with the user."""
    return Column(
        "user_id",
        String(128),
        ForeignKey("users.user_id", ondelete="CASCADE"),
        primary_key=True,
    )


# TOTP authenticator devices (SuperTokens' totp recipe): per user, named; the secret is
# encrypted at rest (``shared.secret_box``). ``last_step`` is the time step of the last accepted
# code: a code is spent once, with every earlier one (replay protection).
totp_devices = Table(
    "totp_devices",
    metadata,
    _user_key(),
    Column("name", String(256), primary_key=True),
    Column("secret", Text, nullable=False),
    Column("period", Integer, nullable=False),
    Column("digits", Integer, nullable=False),
    Column("skew", Integer, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_step", BigInteger),
)

# Wrong TOTP codes in a row, per user (the lock after ``totp_max_attempts``).
totp_attempts = Table(
    "totp_attempts",
    metadata,
    _user_key(),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", BigInteger, nullable=False),
)

# One-time recovery codes (multi-factor auth): SHA-256 of each code; a code is used once.
mfa_recovery_codes = Table(
    "mfa_recovery_codes",
    metadata,
    _user_key(),
    Column("code_hash", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)
