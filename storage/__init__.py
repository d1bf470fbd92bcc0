"""govarchive's archive: SQLAlchemy models, migrations and versioned writes.

Never imports :mod:`scraper`; callers hand it plain values (see :mod:`storage.content`).
"""
