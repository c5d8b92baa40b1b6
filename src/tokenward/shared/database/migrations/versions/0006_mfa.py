"""TOTP devices, their failed-attempt counters, MFA recovery codes, and passwordless codes sent
as a second factor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _user_id(table: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "user_id",
        sa.String(128),
        sa.ForeignKey("users.user_id", name=f"fk_{table}_user_id_users", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.add_column(
        "passwordless_devices",
        sa.Column("second_factor", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "totp_devices",
        _user_id("totp_devices"),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.Column("skew", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "name", name="pk_totp_devices"),
    )
    op.create_table(
        "totp_attempts",
        _user_id("totp_attempts"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_totp_attempts"),
    )
    op.create_table(
        "mfa_recovery_codes",
        _user_id("mfa_recovery_codes"),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "code_hash", name="pk_mfa_recovery_codes"),
    )


def downgrade() -> None:
    op.drop_table("mfa_recovery_codes")
    op.drop_table("totp_attempts")
    op.drop_table("totp_devices")
    op.drop_column("passwordless_devices", "second_factor")
