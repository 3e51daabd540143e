"""statement links: written ministerial statements that correct a written answer, joined to their
question (issue 14)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        sa.Column("statement_uin", sa.String(length=32), nullable=False),
        sa.Column("house", sa.String(length=16), nullable=False),
        sa.Column("date_made", sa.Date(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("answering_body", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("link_type", sa.String(length=32), nullable=False),
        sa.Column("linked_id", sa.BigInteger(), nullable=False),
        sa.Column("link_date", sa.Date(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"]),
        sa.ForeignKeyConstraint(["event_id"], ["change_events.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("statement_id", "linked_id", name="uq_statement_link"),
    )
    with op.batch_alter_table("statement_links", schema=None) as batch_op:
        batch_op.create_index("ix_statement_links_linked_id", ["linked_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("statement_links", schema=None) as batch_op:
        batch_op.drop_index("ix_statement_links_linked_id")
    op.drop_table("statement_links")
