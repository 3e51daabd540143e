"""Storage's error, importable without loading SQLAlchemy (the command line catches it)."""


class DatabaseError(RuntimeError):
    """The database cannot be opened or migrated; the message says which and why."""
