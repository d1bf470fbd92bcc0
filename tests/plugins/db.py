"""Database fixtures: SQLite and PostgreSQL engines at head (owned by the storage tests)."""
