"""lifecycle: the official due date and flags of every version and unmatched copy (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("versions", "unmatched_copies")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("date_for_answer", sa.Date(), nullable=True))
            batch_op.add_column(sa.Column("is_named_day", sa.Boolean(), nullable=True))
            batch_op.add_column(sa.Column("member_has_interest", sa.Boolean(), nullable=True))
            batch_op.add_column(sa.Column("comparable_answer_text", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in (
                "comparable_answer_text",
                "member_has_interest",
                "is_named_day",
                "date_for_answer",
            ):
                batch_op.drop_column(column)
