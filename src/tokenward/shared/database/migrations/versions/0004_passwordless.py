"""Passwordless sign-in: devices and their codes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passwordless_devices",
        sa.Column("pre_auth_session_id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("phone_number", sa.String(32)),
        sa.Column("link_code_salt", sa.String(64), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name="fk_passwordless_devices_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pre_auth_session_id", name="pk_passwordless_devices"),
    )
    op.create_index(
        "ix_passwordless_devices_tenant_email", "passwordless_devices", ["tenant_id", "email"]
    )
    op.create_index(
        "ix_passwordless_devices_tenant_phone",
        "passwordless_devices",
        ["tenant_id", "phone_number"],
    )
    op.create_table(
        "passwordless_codes",
        sa.Column("code_id", sa.String(36), nullable=False),
        sa.Column("pre_auth_session_id", sa.String(64), nullable=False),
        sa.Column("link_code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pre_auth_session_id"],
            ["passwordless_devices.pre_auth_session_id"],
            name="fk_passwordless_codes_pre_auth_session_id_passwordless_devices",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_id", name="pk_passwordless_codes"),
        sa.UniqueConstraint("link_code_hash", name="uq_passwordless_codes_link_code_hash"),
    )
    op.create_index(
        "ix_passwordless_codes_pre_auth_session_id", "passwordless_codes", ["pre_auth_session_id"]
    )
    op.create_index("ix_passwordless_codes_expires_at", "passwordless_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_table("passwordless_codes")
    op.drop_table("passwordless_devices")
