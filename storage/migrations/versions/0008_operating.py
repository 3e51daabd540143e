"""operating: a record of every crawl run (for `pqwatch status` and a restart's schedule), and
several subscriptions per address (the unique key is the address and its filters)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:40:00.000000
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _filters_key(filters: object) -> str:
    # Frozen here as it was written: storage.models.filters_key must give the same digest.
    return hashlib.sha256(json.dumps(filters or {}, sort_keys=True).encode()).hexdigest()


def upgrade() -> None:
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("spider", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.create_index("ix_crawl_runs_source_started", ["source", "started_at"], unique=False)

    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filters_key", sa.String(length=64), nullable=True))
    subscribers = sa.table(
        "subscribers",
        sa.column("id", sa.Integer),
        sa.column("filters", sa.JSON),
        sa.column("filters_key", sa.String),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(subscribers.c.id, subscribers.c.filters)).all():
        connection.execute(
            subscribers.update()
            .where(subscribers.c.id == row.id)
            .values(filters_key=_filters_key(row.filters))
        )
    # Why a naming convention: SQLite keeps 0003's unique constraint on email unnamed, and a batch
    # operation can drop only a constraint it can name.
    with op.batch_alter_table(
        "subscribers",
        schema=None,
        naming_convention={"uq": "%(table_name)s_%(column_0_name)s_key"},
        recreate="auto",
    ) as batch_op:
        batch_op.alter_column("filters_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint("subscribers_email_key", type_="unique")
        batch_op.create_index("ix_subscribers_email", ["email"], unique=False)
        batch_op.create_unique_constraint("uq_subscribers_email_filters", ["email", "filters_key"])


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_constraint("uq_subscribers_email_filters", type_="unique")
        batch_op.drop_index("ix_subscribers_email")
        batch_op.drop_column("filters_key")
        batch_op.create_unique_constraint("subscribers_email_key", ["email"])
    with op.batch_alter_table("crawl_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_crawl_runs_source_started")
    op.drop_table("crawl_runs")
