"""official record: attachments, corrections, crawl state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 02:52:45.877241
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_state",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "list_fingerprints",
        sa.Column("api_id", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("api_id"),
    )
    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.JSON(), nullable=True))

    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("correcting_member", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("original_answer_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("source_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_column("source_date")
        batch_op.drop_column("attachments")
        batch_op.drop_column("original_answer_text")
        batch_op.drop_column("correcting_member")

    with op.batch_alter_table("change_events", schema=None) as batch_op:
        batch_op.drop_column("detail")

    op.drop_table("list_fingerprints")
    op.drop_table("crawl_state")
