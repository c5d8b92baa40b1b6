"""Roles, their permissions, user-role assignments per tenant, and user metadata.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("role", name="pk_roles"),
    )

    op.create_table(
        "role_permissions",
        sa.Column("role", sa.String(255), nullable=False),
        sa.Column("permission", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["role"],
            ["roles.role"],
            name="fk_role_permissions_role_roles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role", "permission", name="pk_role_permissions"),
    )
    op.create_index("ix_role_permissions_permission", "role_permissions", ["permission"])

    op.create_table(
        "user_roles",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["role"],
            ["roles.role"],
            name="fk_user_roles_role_roles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "role", name="pk_user_roles"),
    )
    op.create_index("ix_user_roles_tenant_id_role", "user_roles", ["tenant_id", "role"])

    op.create_table(
        "user_metadata",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_metadata"),
    )


def downgrade() -> None:
    for table in ("user_metadata", "user_roles", "role_permissions", "roles"):
        op.drop_table(table)
