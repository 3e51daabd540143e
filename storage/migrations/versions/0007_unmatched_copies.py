"""unmatched copies: republished copies without a UIN that no single official question matches,
kept (never guessed) until a later read or a later official record matches them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unmatched_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("house", sa.String(length=16), nullable=False),
        sa.Column("date_tabled", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=True),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("parser", sa.String(length=64), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("asking_member", sa.Text(), nullable=True),
        sa.Column("answering_member", sa.Text(), nullable=True),
        sa.Column("answering_body", sa.Text(), nullable=True),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("question_text", sa.Text(), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("date_answered", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("is_holding", sa.Boolean(), nullable=False),
        sa.Column("date_holding_answer", sa.Date(), nullable=True),
        sa.Column("is_correction", sa.Boolean(), nullable=False),
        sa.Column("date_corrected", sa.Date(), nullable=True),
        sa.Column("is_withdrawn", sa.Boolean(), nullable=False),
        sa.Column("grouped_with", sa.JSON(), nullable=False),
        sa.Column("correcting_member", sa.Text(), nullable=True),
        sa.Column("original_answer_text", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.ForeignKeyConstraint(["body_sha256"], ["bodies.sha256"]),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unmatched_copies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unmatched_copies_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_unmatched_copies_house"), ["house"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unmatched_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unmatched_copies_house"))
        batch_op.drop_index(batch_op.f("ix_unmatched_copies_source_id"))
    op.drop_table("unmatched_copies")
