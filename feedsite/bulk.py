"""Bulk loading with PostgreSQL COPY, for generators of large synthetic data sets.

COPY is several times faster than ``bulk_create`` for millions of rows. Callers name the
columns they fill; every other column gets its model default, computed once, so a field added
to a model later (with a default) does not break the loaders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, models
from django.utils import timezone


def ids_reserve(*, model: type[models.Model], count: int) -> list[int]:
    """Take ``count`` ids from the table's id sequence, so rows can be copied with known ids
    (the sequence is shared with ordinary inserts, which therefore never collide)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s) ORDER BY 1",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _default_columns(model: type[models.Model], given: Sequence[str]) -> dict[str, object]:
    now = timezone.now()
    values: dict[str, object] = {}
    for field in model._meta.concrete_fields:
        if field.attname in given or field.name in given:
            continue
        if field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default() or field.null or field.empty_strings_allowed:
            value = field.get_default()  # the default, None, or "" for text columns
        else:
            raise ValueError(f"{model.__name__}.{field.name} has no default: give it a value")
        values[field.column] = field.get_db_prep_save(value, connection)
    return values


def copy_rows(*, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """COPY ``rows`` (tuples matching ``columns``, database column names) into the model's
    table, in the caller's transaction. Returns the number of rows written."""
    defaults = _default_columns(model, columns)
    names = [*columns, *defaults]
    tail = tuple(defaults.values())
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN"
    written = 0
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row((*row, *tail))
            written += 1
    return written


@contextmanager
def bulk_load(*, model: type[models.Model], rows: int) -> Iterator[None]:
    """Make a large load into the model's table cheap, as pg_restore does: foreign keys are
    dropped and re-added (checked once, in bulk, instead of once per row: about 70% of a COPY
    into graph_follow), and when the load at least doubles the table, its secondary indexes
    and unique constraints are dropped and rebuilt by sorting, which beats millions of random
    B-tree inserts. Definitions are read back from the catalog, so the schema is exactly
    restored; everything happens in the caller's transaction, so a violation aborts it all.
    The table is analyzed at the end. It is locked meanwhile: meant for seeding, not for a
    busy service."""
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_load needs a transaction")
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        existing = max(0, cursor.fetchone()[0])
        rebuild_indexes = rows >= existing
        # Constraints first (foreign keys always; unique ones when rebuilding), then plain
        # indexes that no constraint owns. The primary key stays.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND (contype = 'f' OR (contype = 'u' AND %s))"
            " ORDER BY contype, conname",
            [table, rebuild_indexes],
        )
        constraints = cursor.fetchall()
        indexes = []
        if rebuild_indexes:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
                " ORDER BY c.relname",
                [table],
            )
            indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in reversed(constraints):  # unique ones before foreign keys
            cursor.execute(
                f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )
        # Fresh planner statistics: with the stale ones, the first feed queries after a seed
        # were planned for the wrong row counts (268 ms, mostly JIT, instead of 0.8 ms).
        cursor.execute(f"ANALYZE {quoted}")
