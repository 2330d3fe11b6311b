"""Database triggers that make a table append-only (SQLite and PostgreSQL), for migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, migrations, transaction


def _statements(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        ]
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
               BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
               FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()""",
        ]
    raise RuntimeError(f"no append-only trigger for database vendor {vendor}")


def _reverse(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_refuse_change()",
        ]
    return []


def append_only(table: str) -> migrations.RunPython:
    def forwards(apps: Any, schema_editor: Any) -> None:
        for sql in _statements(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)

    def backwards(apps: Any, schema_editor: Any) -> None:
        for sql in _reverse(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)


def append_only_again(table: str) -> migrations.RunPython:
    """For a migration that alters the table after `append_only`: SQLite alters a table by
    copying it into a new one, which loses the triggers, so they are made again there."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for sql in _reverse(table, vendor) + _statements(table, vendor):
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, migrations.RunPython.noop)


@contextmanager
def lifted(table: str) -> Iterator[Any]:
    """Scaffolding only (benchmarks building data): a cursor in a transaction during which the
    table's append-only triggers are removed; they are put back before it commits."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in _reverse(table, vendor):
            cursor.execute(sql)
        yield cursor
        for sql in _statements(table, vendor):
            cursor.execute(sql)
