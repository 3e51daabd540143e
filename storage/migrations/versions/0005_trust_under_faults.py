"""trust under faults: the parser of each version, detection markers, held mass changes, pending
removals, revocable links, bounces

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("parser", sa.String(length=64), nullable=True))
    op.create_table(
        "detected_versions",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
        sa.PrimaryKeyConstraint("version_id"),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_events") as batch:
        batch.add_column(sa.Column("hold_id", sa.Integer(), nullable=True))
        batch.create_index("ix_change_events_hold_id", ["hold_id"])
        batch.create_foreign_key("fk_change_events_hold", "holds", ["hold_id"], ["id"])
    op.create_table(
        "pending_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "question_id", name="uq_pending_change"),
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("link_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "bounces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", name="uq_bounce_message"),
    )
    op.create_index("ix_bounces_email", "bounces", ["email"])


def downgrade() -> None:
    op.drop_index("ix_bounces_email", table_name="bounces")
    op.drop_table("bounces")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("link_version")
    op.drop_table("pending_changes")
    with op.batch_alter_table("change_events") as batch:
        batch.drop_constraint("fk_change_events_hold", type_="foreignkey")
        batch.drop_index("ix_change_events_hold_id")
        batch.drop_column("hold_id")
    op.drop_table("holds")
    op.drop_table("detected_versions")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("parser")
