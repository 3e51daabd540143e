"""page fingerprints; drop the index that repeated uq_version_seq

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 06:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_fingerprints",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    )
    op.drop_index("ix_versions_chain", table_name="versions")


def downgrade() -> None:
    op.create_index("ix_versions_chain", "versions", ["question_id", "source_id", "seq"], unique=False)
    op.drop_table("page_fingerprints")
