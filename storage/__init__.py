"""Store versions: SQLAlchemy models, sessions, append-only versions and Alembic migrations.

This package imports nothing else of pqwatch's."""
