"""recordings: clock offset, channels, size, status; audit entries; interview erasure

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offset_s", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("channels", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="complete")
        )
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("interview_id", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_interview_id"), ["interview_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_interview_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_org_id"))
    op.drop_table("audit_entries")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("status")
        batch_op.drop_column("size_bytes")
        batch_op.drop_column("channels")
        batch_op.drop_column("offset_s")
