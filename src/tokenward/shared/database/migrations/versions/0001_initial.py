"""Initial schema: tenants, users and login methods, sessions, signing keys, single-use tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _login_identity() -> list[sa.Column[str]]:
    return [
        sa.Column("email", sa.String(320)),
        sa.Column("phone_number", sa.String(32)),
        sa.Column("third_party_id", sa.String(64)),
        sa.Column("third_party_user_id", sa.String(256)),
    ]


def _partial_unique(name: str, where: str, *columns: str) -> None:
    clause = sa.text(where)
    op.create_index(
        name,
        "login_method_tenants",
        list(columns),
        unique=True,
        sqlite_where=clause,
        postgresql_where=clause,
    )


def upgrade() -> None:
    tenants = op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenants"),
    )
    op.bulk_insert(tenants, [{"tenant_id": "public", "created_at": int(time.time() * 1000)}])

    op.create_table(
        "users",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("time_joined", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
    )
    op.create_table(
        "login_methods",
        sa.Column("recipe_user_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("recipe_id", sa.String(32), nullable=False),
        *_login_identity(),
        sa.Column("password_hash", sa.Text()),
        sa.Column("time_joined", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.user_id"],
            name="fk_login_methods_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recipe_user_id", name="pk_login_methods"),
    )
    op.create_index("ix_login_methods_user_id", "login_methods", ["user_id"])

    op.create_table(
        "login_method_tenants",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("recipe_user_id", sa.String(128), nullable=False),
        sa.Column("recipe_id", sa.String(32), nullable=False),
        *_login_identity(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name="fk_login_method_tenants_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipe_user_id"],
            ["login_methods.recipe_user_id"],
            name="fk_login_method_tenants_recipe_user_id_login_methods",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "recipe_user_id", name="pk_login_method_tenants"),
    )
    op.create_index(
        "ix_login_method_tenants_recipe_user_id", "login_method_tenants", ["recipe_user_id"]
    )
    _partial_unique(
        "uq_lmt_emailpassword_email", "recipe_id = 'emailpassword'", "tenant_id", "email"
    )
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

    op.create_table(
        "verified_emails",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("verified_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "email", name="pk_verified_emails"),
    )

    op.create_table(
        "sessions",
        sa.Column("session_handle", sa.String(255), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("recipe_user_id", sa.String(128), nullable=False),
        sa.Column("refresh_token_hash2", sa.String(64), nullable=False),
        sa.Column("session_data", sa.Text(), nullable=False),
        sa.Column("jwt_payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session_handle", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])

    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_index("ix_signing_keys_created_at", "signing_keys", ["created_at"])

    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_app_secrets"),
    )

    op.create_table(
        "one_time_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_one_time_tokens"),
    )
    op.create_index("ix_one_time_tokens_expires_at", "one_time_tokens", ["expires_at"])
    op.create_index("ix_one_time_tokens_purpose_user", "one_time_tokens", ["purpose", "user_id"])


def downgrade() -> None:
    for table in (
        "one_time_tokens",
        "app_secrets",
        "signing_keys",
        "sessions",
        "verified_emails",
        "login_method_tenants",
        "login_methods",
        "users",
        "tenants",
    ):
        op.drop_table(table)
