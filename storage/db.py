"""Open the database: engine, SQLite pragmas, migrations to the latest schema, sessions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseError as DatabaseError  # re-exported: callers import it here

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def create_db_engine(url: str) -> Engine:
    """Create an engine for a SQLAlchemy URL; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {url!r} (try sqlite:///pqwatch.sqlite3)") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).parent.exists():
            raise DatabaseError(f"cannot open database {url}: folder {Path(database).parent} does not exist")
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Why: psycopg 3 is the driver we install; SQLAlchemy's bare "postgresql" means psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except Exception as error:  # an unknown dialect or a missing driver
        raise DatabaseError(f"cannot use database {url}: {error}") from None


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic config bound to this engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# The newest migration; tests check it against Alembic's own head. Knowing it here lets a command
# on an up-to-date database skip loading Alembic (a quarter of a second of every CLI call).
SCHEMA_HEAD = "0013"


def upgrade(engine: Engine) -> None:
    """Bring the schema up to the latest migration (a no-op when it is there already)."""
    try:
        with engine.connect() as connection:
            current = _current_revision(connection)
    except OperationalError as error:
        raise DatabaseError(f"cannot open database {engine.url!r}: {error.orig}") from None
    if current == SCHEMA_HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def schema_head() -> str | None:
    """Alembic's head revision, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(create_engine("sqlite://"))).get_current_head()


def open_database(url: str) -> sessionmaker[Session]:
    """Open (and migrate) the database at url; return a session factory."""
    engine = create_db_engine(url)
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)
