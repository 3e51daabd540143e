"""search: a full-text index over the text of every version, current and past (issue 15)

One search document per run of identical text in a source's chain: a present version whose
heading, question, answer and members equal those of the same source's previous present version
adds none (a date or an attachment that moved says nothing new to search). `search_documents`
holds them, with `is_current` set on the document of each source's latest present version (the
copy the question's current view reads; a source that has gone keeps its last one, as the view
does). It is derived, never a source of truth: the insert trigger on `versions` keeps it, and
this migration fills it from the versions already stored.

- SQLite: `search_index`, an FTS5 table whose content is `versions` itself (external content,
  rowid = version id, so the text is stored once), over heading, question_text, answer_text and
  the two members; the same trigger adds each new document to it.
- PostgreSQL: the documents carry their own `document` tsvector (English configuration: heading
  weighted A, question B, answer C) under a GIN index, and `members` (the "simple"
  configuration: names are not stemmed), both computed by the trigger's function.

A SQLite built without FTS5 cannot hold the index: the upgrade stops with a message saying so.
A later migration that rebuilds `versions` on SQLite (Alembic's batch mode copies the table)
drops its triggers with it, and must create them again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from storage.errors import DatabaseError

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Why a cap: PostgreSQL refuses a tsvector over 1 MB, and a trigger that raised would make a
# crawl fail to store a version; no answer is near this long, and its start is still indexed.
PG_TEXT_LIMIT = 200_000

_SAME_TEXT = ("heading", "question_text", "answer_text", "asking_member", "answering_member")

# The document of a version (PostgreSQL): `v` is NEW in the trigger, the version row in the backfill.
_PG_DOCUMENT = f"""
    setweight(to_tsvector('english', left(coalesce(v.heading, ''), {PG_TEXT_LIMIT})), 'A')
    || setweight(to_tsvector('english', left(coalesce(v.question_text, ''), {PG_TEXT_LIMIT})), 'B')
    || setweight(to_tsvector('english', left(coalesce(v.answer_text, ''), {PG_TEXT_LIMIT})), 'C')
"""
_PG_MEMBERS = """
    to_tsvector('simple', coalesce(v.asking_member, ''))
    || to_tsvector('simple', coalesce(v.answering_member, ''))
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _require_fts5(bind)
    # Why no foreign key on SQLite: a batch migration that rebuilds `versions` drops it, and with
    # foreign keys on that would cascade to every document; its delete trigger keeps them instead.
    keys = [sa.ForeignKeyConstraint(["version_id"], ["versions.id"], ondelete="CASCADE")]
    op.create_table(
        "search_documents",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        *(keys if bind.dialect.name == "postgresql" else []),
        sa.PrimaryKeyConstraint("version_id"),
    )
    if bind.dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    op.create_index("ix_search_documents_chain", "search_documents", ["question_id", "source_id"])


def _require_fts5(bind: sa.Connection) -> None:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        bind.exec_driver_sql("DROP TABLE temp.fts5_probe")
    except sa.exc.OperationalError:
        version = bind.exec_driver_sql("SELECT sqlite_version()").scalar()
        raise DatabaseError(
            f"this SQLite ({version}) was built without FTS5, which search needs: use a Python whose"
            " sqlite3 module has it (Debian's and python.org's do), or PostgreSQL"
        ) from None


def _backfill_runs(distinct: str) -> str:
    """The present versions that start a run of identical text in their chain (`distinct` is
    the engine's null-safe "differs")."""
    differs = " OR ".join(f"p_{name} {distinct} {name}" for name in _SAME_TEXT)
    lags = ", ".join(f"lag({name}) OVER chain AS p_{name}" for name in _SAME_TEXT)
    return f"""
        SELECT id, question_id, source_id FROM (
            SELECT id, question_id, source_id, {", ".join(_SAME_TEXT)}, {lags}, lag(id) OVER chain AS p_id
            FROM versions WHERE status = 'present'
            WINDOW chain AS (PARTITION BY question_id, source_id ORDER BY seq)
        ) AS chains
        WHERE p_id IS NULL OR {differs}
    """


# Whether a run is its chain's latest (the versions of a chain are appended in seq order, so ids
# rise with seq): `runs` is _backfill_runs.
_LATEST = "lead(runs.id) OVER (PARTITION BY runs.question_id, runs.source_id ORDER BY runs.id) IS NULL"


def _upgrade_sqlite() -> None:
    op.execute(
        """
        CREATE VIRTUAL TABLE search_index USING fts5(
            heading, question_text, answer_text, asking_member, answering_member,
            content='versions', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 0'
        )
        """
    )
    op.execute(
        f"""
        INSERT INTO search_documents (version_id, question_id, source_id, is_current)
        SELECT runs.id, runs.question_id, runs.source_id, {_LATEST} FROM ({_backfill_runs("IS NOT")}) AS runs
        """
    )
    columns = ", ".join(_SAME_TEXT)
    op.execute(
        f"""
        INSERT INTO search_index (rowid, {columns})
        SELECT v.id, {", ".join("v." + name for name in _SAME_TEXT)}
        FROM search_documents d JOIN versions v ON v.id = d.version_id
        """
    )
    same = " AND ".join(f"v.{name} IS new.{name}" for name in _SAME_TEXT)
    op.execute(
        f"""
        CREATE TRIGGER search_documents_insert AFTER INSERT ON versions
        WHEN new.status = 'present' AND NOT EXISTS (
            SELECT 1 FROM search_documents d JOIN versions v ON v.id = d.version_id
            WHERE d.question_id = new.question_id AND d.source_id = new.source_id AND d.is_current
              AND {same}
        )
        BEGIN
            UPDATE search_documents SET is_current = 0
            WHERE question_id = new.question_id AND source_id = new.source_id AND is_current;
            INSERT INTO search_documents (version_id, question_id, source_id, is_current)
            VALUES (new.id, new.question_id, new.source_id, 1);
            INSERT INTO search_index (rowid, {columns})
            VALUES (new.id, {", ".join("new." + name for name in _SAME_TEXT)});
        END
        """
    )
    # Versions are never updated or deleted; should one be, its document follows, so the
    # external-content index never disagrees with its content (FTS5 would then return garbage).
    old = ", ".join("old." + name for name in _SAME_TEXT)
    op.execute(
        f"""
        CREATE TRIGGER search_index_delete AFTER DELETE ON versions
        WHEN EXISTS (SELECT 1 FROM search_documents WHERE version_id = old.id)
        BEGIN
            INSERT INTO search_index (search_index, rowid, {columns}) VALUES ('delete', old.id, {old});
            DELETE FROM search_documents WHERE version_id = old.id;
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER search_index_update AFTER UPDATE OF {columns} ON versions
        WHEN EXISTS (SELECT 1 FROM search_documents WHERE version_id = old.id)
        BEGIN
            INSERT INTO search_index (search_index, rowid, {columns}) VALUES ('delete', old.id, {old});
            INSERT INTO search_index (rowid, {columns})
            VALUES (new.id, {", ".join("new." + name for name in _SAME_TEXT)});
        END
        """
    )


def _upgrade_postgresql() -> None:
    op.add_column(
        "search_documents", sa.Column("document", sa.dialects.postgresql.TSVECTOR(), nullable=False)
    )
    op.add_column("search_documents", sa.Column("members", sa.dialects.postgresql.TSVECTOR(), nullable=False))
    op.execute(
        f"""
        INSERT INTO search_documents (version_id, question_id, source_id, is_current, document, members)
        SELECT runs.id, runs.question_id, runs.source_id, {_LATEST}, {_PG_DOCUMENT}, {_PG_MEMBERS}
        FROM ({_backfill_runs("IS DISTINCT FROM")}) AS runs JOIN versions v ON v.id = runs.id
        """
    )
    op.execute("CREATE INDEX ix_search_documents_document ON search_documents USING gin (document)")
    # Why: the planner weighs a text's matches by these statistics (read the newest documents in
    # order, or every match from the index); a big backfill would otherwise wait for autovacuum.
    op.execute("ANALYZE search_documents")
    same = " AND ".join(f"v.{name} IS NOT DISTINCT FROM NEW.{name}" for name in _SAME_TEXT)
    op.execute(
        f"""
        CREATE FUNCTION search_documents_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status <> 'present' OR EXISTS (
                SELECT 1 FROM search_documents d JOIN versions v ON v.id = d.version_id
                WHERE d.question_id = NEW.question_id AND d.source_id = NEW.source_id AND d.is_current
                  AND {same}
            ) THEN
                RETURN NULL;
            END IF;
            UPDATE search_documents SET is_current = false
            WHERE question_id = NEW.question_id AND source_id = NEW.source_id AND is_current;
            INSERT INTO search_documents (version_id, question_id, source_id, is_current, document, members)
            SELECT NEW.id, NEW.question_id, NEW.source_id, true, {_PG_DOCUMENT}, {_PG_MEMBERS}
            FROM (SELECT NEW.*) AS v;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER search_documents_insert AFTER INSERT ON versions"
        " FOR EACH ROW EXECUTE FUNCTION search_documents_insert()"
    )
    # Why: the documents are derived from versions; a version's text updated (never done)
    # refreshes its document so the index cannot disagree with what is stored.
    op.execute(
        f"""
        CREATE FUNCTION search_documents_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE search_documents AS d SET document = {_PG_DOCUMENT.replace("v.", "NEW.")},
                members = {_PG_MEMBERS.replace("v.", "NEW.")}
            WHERE d.version_id = NEW.id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER search_documents_update AFTER UPDATE OF "
        + ", ".join(_SAME_TEXT)
        + " ON versions FOR EACH ROW EXECUTE FUNCTION search_documents_update()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER search_documents_update ON versions")
        op.execute("DROP TRIGGER search_documents_insert ON versions")
        op.execute("DROP FUNCTION search_documents_update()")
        op.execute("DROP FUNCTION search_documents_insert()")
    else:
        for trigger in ("search_documents_insert", "search_index_delete", "search_index_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE search_index")
    op.drop_index("ix_search_documents_chain", table_name="search_documents")
    op.drop_table("search_documents")
