"""A temporary PostgreSQL database for a benchmark run, created and dropped around it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storage.engine import make_engine, normalise_url, redact_url

#: The server a bench uses unless told otherwise (the test suite's, by the same variable).
DEFAULT_POSTGRES = os.environ.get(
    "GOVARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def temporary_postgres(server_url: str) -> Iterator[Engine | None]:
    """Yield an engine on a new, empty database on the server at ``server_url``, dropped
    (with its connections) on exit; yield None, saying why, when it cannot be created."""
    server = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"govarchive_bench_{os.getpid()}"
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped ({redact_url(server_url)}): {exc}")
        server.dispose()
        yield None
        return
    engine: Engine | None = None
    try:
        url = make_url(normalise_url(server_url)).set(database=name)
        engine = make_engine(url.render_as_string(hide_password=False))
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
