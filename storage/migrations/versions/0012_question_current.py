"""question current: each question's derived current state, for `stats` and `overdue` at scale
(issue 14). Created empty: change detection fills the rows it lacks (monitor.changes.current).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The columns `pqwatch stats` groups by, then those it filters on: its covering index.
FIGURES = (
    "answering_body",
    "house",
    "is_named_day",
    "working_days_to_answer",
    "answered_on_time",
    "held",
    "is_correction",
    "is_withdrawn",
    "non_answer",
    "copies",
    "date_tabled",
)


def upgrade() -> None:
    op.create_table(
        "question_current",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("house", sa.String(length=16), nullable=False),
        sa.Column("date_tabled", sa.Date(), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("official", sa.Boolean(), nullable=False),
        sa.Column("answering_body", sa.Text(), nullable=True),
        sa.Column("date_answered", sa.Date(), nullable=True),
        sa.Column("date_for_answer", sa.Date(), nullable=True),
        sa.Column("is_named_day", sa.Boolean(), nullable=True),
        sa.Column("is_holding", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("is_correction", sa.Boolean(), nullable=False),
        sa.Column("is_withdrawn", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("working_days_to_answer", sa.Integer(), nullable=True),
        sa.Column("answered_on_time", sa.Boolean(), nullable=True),
        sa.Column("non_answer", sa.String(length=64), nullable=True),
        sa.Column("unanswered_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"]),
        sa.PrimaryKeyConstraint("question_id"),
    )
    with op.batch_alter_table("question_current", schema=None) as batch_op:
        batch_op.create_index("ix_question_current_unanswered_due", ["unanswered_due"], unique=False)
        batch_op.create_index("ix_question_current_figures", list(FIGURES), unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_current", schema=None) as batch_op:
        batch_op.drop_index("ix_question_current_figures")
        batch_op.drop_index("ix_question_current_unanswered_due")
    op.drop_table("question_current")
