"""The storage exception tree. Every error names the database (password redacted).

::

    StorageError                  base; ``database`` is the redacted URL
    ├── DatabaseUnavailableError  cannot connect, or the server refused the login
    │   ├── DiskFullError         the disk holding the database is full
    │   ├── CorruptDatabaseError  the file is not a database, or is damaged
    │   └── DatabaseAccessError   no permission to open or write it, or it is read-only
    ├── SchemaError               the database's schema does not match this code
    │   ├── OutdatedSchemaError   at an older revision: run ``govarchive db upgrade``
    │   ├── SchemaTooNewError     written by a newer govarchive: refused, nothing written
    │   └── NotAnArchiveError     has govarchive's tables but no migration record
    ├── InvalidDocumentError      a ParsedDoc or timestamp that cannot be stored (names URL, field)
    ├── UnknownRecordError        a source, run, page or version that does not exist
    │   ├── UnknownVersionError   the page exists but not that version number
    │   └── UnknownAttachmentError  the version exists but has no attachment at that position
    ├── WriteConflictError        a write kept colliding with another writer and was given up
    └── BlobError                 a stored raw body is missing or cannot be decompressed

Library exceptions (SQLAlchemy, the DB drivers, Alembic, zstandard) are translated
exactly once, at the storage boundary, with ``raise … from exc``.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error :mod:`storage` raises on purpose.

    ``database`` is the database URL with any password replaced by ``***``.
    """

    def __init__(self, message: str, *, database: str) -> None:
        self.database = database
        self.detail = message
        super().__init__(f"{database}: {message}")


class DatabaseUnavailableError(StorageError):
    """The database cannot be opened, reached or written: nothing more can be stored."""


class DiskFullError(DatabaseUnavailableError):
    """The disk (or quota) holding the database is full; what was committed is kept."""


class CorruptDatabaseError(DatabaseUnavailableError):
    """The file is not a SQLite database, or the database is damaged."""


class DatabaseAccessError(DatabaseUnavailableError):
    """The database cannot be opened or written with this user's rights, or is read-only."""


class SchemaError(StorageError):
    """The database's schema revision does not match this code's migrations."""

    def __init__(
        self,
        message: str,
        *,
        database: str,
        current: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.current = current
        self.expected = expected
        super().__init__(message, database=database)


class OutdatedSchemaError(SchemaError):
    """The database is at an older revision; ``govarchive db upgrade`` brings it to head."""


class SchemaTooNewError(SchemaError):
    """The database was migrated by a newer govarchive; this code refuses to write to it."""


class NotAnArchiveError(SchemaError):
    """The database holds tables named like govarchive's but no ``alembic_version`` record."""


class InvalidDocumentError(StorageError):
    """A value handed to storage cannot be stored as it is (e.g. a malformed date)."""


class UnknownRecordError(StorageError):
    """A source, crawl run or page id that the database does not hold."""


class UnknownVersionError(UnknownRecordError):
    """The page exists but has no version with that number."""


class UnknownAttachmentError(UnknownRecordError):
    """The page's version exists but has no attachment at that position."""


class WriteConflictError(StorageError):
    """A transaction kept failing on lock timeouts or conflicts and was abandoned."""


class BlobError(StorageError):
    """A raw body referenced by a version is missing or corrupt."""
