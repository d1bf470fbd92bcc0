"""PostgreSQL gains procrastinate 3.10.0's job queue: source crawls become jobs (issue 11).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

On PostgreSQL, source crawls are queued as procrastinate jobs (task
``govarchive.crawl_source``, queue ``crawl``) and run by ``govarchive worker``. The queue's
tables, types, functions and triggers are procrastinate's, not govarchive's; this revision
installs them with the archive so that one ``govarchive db upgrade`` makes a database
ready for workers, and one schema history (ours) says what the database holds.

**Pinned.** It installs exactly procrastinate :data:`PROCRASTINATE_VERSION`'s
``procrastinate/sql/schema.sql``, read from the installed package, and refuses to run when
another procrastinate version is installed: that version's schema is not what this
revision stands for. A procrastinate upgrade is a new revision that applies procrastinate's
own migration files between the two versions (docs/contributing.md).

**Already there.** When procrastinate's objects already exist in the schema the archive
uses (someone ran ``procrastinate schema --apply``), they are compared with what this
revision would install: procrastinate 3.10.0's schema, built in a scratch schema inside a
savepoint that is rolled back, object by object (tables and columns, constraints, indexes,
sequences, types, functions with their bodies, triggers). Identical: they are adopted as
they are (and any jobs in them kept); from then on govarchive's migrations own them, and a
downgrade below 0004 removes them. Anything else (another version, a partial install, a
changed function) is refused with the differences named, and nothing is written.

**Downgrade** drops every object schema.sql creates (listed below as a snapshot of 3.10.0),
with the jobs, events and workers in them. The ``plpgsql`` extension that schema.sql makes
sure of is PostgreSQL's own and stays.

SQLite: nothing (an SQLite archive keeps the in-process daemon; it has no job queue).
``alembic upgrade --sql`` prints schema.sql as it is, without the check for existing
objects (there is no database to look at).

schema.sql holds ``%`` (in RAISE messages) and is run as one multi-statement string
through ``exec_driver_sql``: as procrastinate's own ``apply_schema`` does, every ``%``
is doubled, because the driver reads ``%`` as a placeholder marker and gives back one.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic.util.exc import CommandError
from procrastinate.schema import SchemaManager

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The procrastinate release whose schema this revision installs.
PROCRASTINATE_VERSION = "3.10.0"

#: Where the comparison with an existing install builds a fresh one (rolled back).
SCRATCH_SCHEMA = "govarchive_procrastinate_check"

# What schema.sql creates, in an order PostgreSQL can drop: functions that no trigger
# uses (procrastinate_fetch_job_v2 returns a procrastinate_jobs row, so it goes before
# that table), then the tables (their triggers, indexes, sequences and constraints go
# with them), then the trigger functions, then the types.
FUNCTIONS = (
    "procrastinate_defer_jobs_v1",
    "procrastinate_defer_periodic_job_v2",
    "procrastinate_fetch_job_v2",
    "procrastinate_finish_job_v1",
    "procrastinate_cancel_job_v1",
    "procrastinate_retry_job_v1",
    "procrastinate_retry_job_v2",
    "procrastinate_register_worker_v1",
    "procrastinate_unregister_worker_v1",
    "procrastinate_update_heartbeat_v1",
    "procrastinate_prune_stalled_workers_v1",
)
TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
TRIGGER_FUNCTIONS = (
    "procrastinate_notify_queue_job_inserted_v1",
    "procrastinate_notify_queue_abort_job_v1",
    "procrastinate_trigger_function_status_events_insert_v1",
    "procrastinate_trigger_function_status_events_update_v1",
    "procrastinate_trigger_function_scheduled_events_v1",
    "procrastinate_trigger_abort_requested_events_procedure_v1",
    "procrastinate_unlink_periodic_defers_v1",
)
TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)

log = logging.getLogger("govarchive.storage")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    _refuse_another_version()
    schema_sql = SchemaManager.get_schema()
    if op.get_context().as_sql:
        op.get_context().impl.static_output(schema_sql)
        return
    conn = op.get_bind()
    target = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    present = _objects(conn, target)
    if not present:
        conn.exec_driver_sql(_escaped(schema_sql))
        return
    expected = _fresh_objects(conn, schema_sql)
    if present != expected:
        raise CommandError(_refusal(target, present, expected))
    log.warning(
        "procrastinate %s's schema was already installed in schema %s (not by govarchive): "
        "it is identical to what revision 0004 installs, so it is kept as it is, with its "
        "jobs; govarchive's migrations own it from now on",
        PROCRASTINATE_VERSION,
        target,
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
    for function in TRIGGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    for type_ in TYPES:
        op.execute(f"DROP TYPE {type_}")


def _refuse_another_version() -> None:
    installed = importlib.metadata.version("procrastinate")
    if installed != PROCRASTINATE_VERSION:
        raise CommandError(
            f"revision 0004 installs procrastinate {PROCRASTINATE_VERSION}'s job-queue schema, "
            f"but procrastinate {installed} is installed, whose schema may differ. Install "
            f"procrastinate=={PROCRASTINATE_VERSION} (the version govarchive pins), or use a "
            f"govarchive whose migrations reach procrastinate {installed}. Nothing was written"
        )


def _escaped(schema_sql: str) -> str:
    return schema_sql.replace("%", "%%")


def _fresh_objects(conn: sa.Connection, schema_sql: str) -> dict[str, str]:
    """Return the objects schema.sql creates, built in a scratch schema and rolled back."""
    with conn.begin_nested() as scratch:
        conn.exec_driver_sql(f"CREATE SCHEMA {SCRATCH_SCHEMA}")
        _search_only(conn, SCRATCH_SCHEMA)
        conn.exec_driver_sql(_escaped(schema_sql))
        found = _objects(conn, SCRATCH_SCHEMA)
        scratch.rollback()
    return found


def _objects(conn: sa.Connection, schema: str) -> dict[str, str]:
    """Return {"kind name": definition} of the procrastinate objects in ``schema``, each
    definition as PostgreSQL prints it without the schema's name. Reads only."""
    with conn.begin_nested() as savepoint:
        _search_only(conn, schema)  # so definitions name their types and tables unqualified
        rows = conn.execute(sa.text(_OBJECTS_SQL), {"schema": schema}).all()
        savepoint.rollback()  # the search_path goes back to what it was
    found = {}
    for kind, name, definition in rows:
        for prefix in (f"{schema}.", f'"{schema}".'):
            definition = definition.replace(prefix, "")
        found[f"{kind} {name}"] = definition
    return found


def _search_only(conn: sa.Connection, schema: str) -> None:
    quoted = conn.dialect.identifier_preparer.quote(schema)
    conn.execute(sa.text("SELECT set_config('search_path', :path, true)"), {"path": quoted})


def _refusal(target: str, present: dict[str, str], expected: dict[str, str]) -> str:
    differences = [f"missing {name}" for name in sorted(expected.keys() - present.keys())]
    differences += [
        f"different {name}"
        for name in sorted(expected.keys() & present.keys())
        if expected[name] != present[name]
    ]
    differences += [f"unexpected {name}" for name in sorted(present.keys() - expected.keys())]
    listed = "; ".join(differences[:5])
    if len(differences) > 5:
        listed += f"; and {len(differences) - 5} more"
    return (
        f"procrastinate's objects already exist in schema {target} but are not procrastinate "
        f"{PROCRASTINATE_VERSION}'s schema, which revision 0004 installs ({listed}). Nothing "
        f"was written. Bring them to procrastinate {PROCRASTINATE_VERSION} with "
        "procrastinate's own migration files, or, if they hold no jobs you need, drop them; "
        'then upgrade again (docs/contributing.md, "Upgrading procrastinate")'
    )


_PROCRASTINATE_TABLES = """
    SELECT c.oid FROM pg_class c
    WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p')
      AND c.relname LIKE 'procrastinate%'
"""

# Everything procrastinate's schema.sql can create, found by name or by the table it
# belongs to: relations (tables, sequences, indexes, composite types), columns (also of
# composite types), constraints, indexes, types, functions and triggers.
_OBJECTS_SQL = f"""
SELECT 'relation', c.relname::text, c.relkind::text
FROM pg_class c
WHERE c.relnamespace = CAST(:schema AS regnamespace)
  AND (c.relname LIKE '%procrastinate%'
       OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN ({_PROCRASTINATE_TABLES})))
UNION ALL
SELECT 'column', c.relname || '.' || a.attname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
       || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p', 'c')
  AND c.relname LIKE 'procrastinate%'
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid IN ({_PROCRASTINATE_TABLES})
UNION ALL
SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i WHERE i.indrelid IN ({_PROCRASTINATE_TABLES})
UNION ALL
SELECT 'type', t.typname,
       t.typtype::text || COALESCE(' ' || (
           SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
           FROM pg_enum e WHERE e.enumtypid = t.oid), '')
FROM pg_type t
WHERE t.typnamespace = CAST(:schema AS regnamespace) AND t.typname LIKE 'procrastinate%'
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_function_result(p.oid) || ' ' || p.prosrc
FROM pg_proc p
WHERE p.pronamespace = CAST(:schema AS regnamespace) AND p.proname LIKE 'procrastinate%'
UNION ALL
SELECT 'trigger', t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid IN ({_PROCRASTINATE_TABLES})
"""
