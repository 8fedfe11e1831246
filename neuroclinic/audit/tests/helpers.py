"""For tests that set up history no action would write (a reading taken 20 minutes ago)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

from neuroclinic.audit.seals import seal_objects


@contextmanager
def triggers_off(table: str) -> Iterator[None]:
    """Switch a table's append-only triggers off for the block, then on again."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            saved = cursor.fetchall()
            for name, _ in saved:
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield
            finally:
                for _, sql in saved:
                    cursor.execute(sql)
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                yield
            finally:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def unguarded_update(
    queryset: "models.QuerySet[Any] | models.Manager[Any]", **values: Any
) -> int:
    """QuerySet.update() on an append-only table, resealing the rows it changed."""
    with triggers_off(queryset.model._meta.db_table):
        changed = queryset.update(**values)
    seal_objects(
        list(queryset.model._base_manager.filter(pk__in=queryset.values("pk")))
    )
    return changed
