"""blog sites: what pqwatch knows of each blog's host between crawls (its REST API, the last
change crawl and full verification)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blog_sites",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("api_root", sa.String(length=2048), nullable=True),
        sa.Column("api_refused_at", sa.DateTime(), nullable=True),
        sa.Column("last_change_crawl_at", sa.DateTime(), nullable=True),
        sa.Column("last_full_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("host"),
    )


def downgrade() -> None:
    op.drop_table("blog_sites")
