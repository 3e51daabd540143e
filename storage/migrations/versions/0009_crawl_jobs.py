"""crawl jobs: each crawl job dispatched to a Scrapyd node, claimed and reported on by the node's
process (issue 13)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("spider", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=300), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("shards", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id"),
    )
    with op.batch_alter_table("crawl_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_crawl_jobs_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crawl_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_crawl_jobs_state")
    op.drop_table("crawl_jobs")
