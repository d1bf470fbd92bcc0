"""govarchive's archive: SQLAlchemy models, migrations and versioned writes.

Never imports :mod:`scraper`; callers hand it plain values (see :mod:`storage.content`).

- :mod:`storage.engine` — ``make_engine(url)``, ``redact_url(url)``, ``write_transaction``.
- :mod:`storage.migrate` — ``upgrade``, ``current_revision``, ``head_revision``,
  ``ensure_current`` (new database → head; older → OutdatedSchemaError; newer → refused).
- :mod:`storage.archive` — the write path: ``ensure_source``, ``mark_stale_runs``,
  ``start_run``, ``known_pages``, ``archive_page``, ``record_fetch``, ``finish_run``,
  ``load_raw``.
- :mod:`storage.content` — ``ParsedDoc`` (the parser's record as plain values),
  ``content_hash``, ``raw_hash``.
- :mod:`storage.models` — the tables; docs/schema.md documents every column.
- :mod:`storage.errors` — the exception tree.
"""
