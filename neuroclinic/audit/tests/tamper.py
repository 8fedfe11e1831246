"""The attacker with a copy of the database, as a check any app's tests run on its sealed tables
(issue #15, item 1 and the tamper suite of its "Done when").

For one record of a sealed model:

- `assert_refused`: the database refuses UPDATE and DELETE (the append-only triggers);
- `assert_attacks_named`: with the table's triggers switched off, as its owner could,
  an edit, a delete, an insert (a copy of the row) and a reorder (two rows' places swapped)
  are each named by `neuroclinic verify` as its first problem.

Each attack runs in a savepoint that is rolled back (switching the triggers off with it),
so one attack leaves the next one an intact database. Runs on SQLite and PostgreSQL.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction


class _Undo(Exception):
    pass


@contextmanager
def attack(table: str) -> Iterator[None]:
    """Triggers off for `table`, then everything done in the block rolled back."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f"DROP TRIGGER {name}")
            else:
                # ALTER TABLE refuses while deferred checks are pending; after it, the
                # foreign keys are deferred again so a parent row can go (rolled back).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            yield
            raise _Undo
    except _Undo:
        pass


def append_only_tables() -> set[str]:
    """Tables the database itself refuses DELETE on (an append-only trigger is installed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND (name LIKE '%%\\_no\\_delete' ESCAPE '\\' "
                "OR name LIKE '%%\\_append\\_only' ESCAPE '\\')"
            )
        else:
            cursor.execute(
                "SELECT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal "
                "AND (tgname LIKE '%%\\_no\\_delete' OR tgname LIKE '%%\\_append\\_only')"
            )
        return {row[0] for row in cursor.fetchall()}


def _sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def assert_statement_refused(statement: str, params: list[Any]) -> None:
    """The database refuses this statement as append-only (and it changes nothing)."""
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def assert_refused(model: type[models.Model], pk: object) -> None:
    """UPDATE (even of nothing) and DELETE of this row are refused by the database."""
    table = model._meta.db_table
    for statement in (
        f"UPDATE {table} SET id = id WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        assert_statement_refused(statement, [pk])
    assert model._base_manager.filter(pk=pk).exists()


def _verify_fails() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify", stdout=_Discard())
    return str(caught.value)


def _names_first(message: str, label: str, pk: object) -> bool:
    first = message.partition("first: ")[2].removeprefix("record ")
    return first.startswith(f"{label} #{pk}: ")


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _checked(model: type[models.Model]) -> set[str]:
    """Columns in a CHECK constraint: raw arithmetic on them could break it."""
    columns: set[str] = set()
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.CheckConstraint):
            columns |= {
                _column(model, str(name).split("__")[0])
                for name, _ in _leaves(constraint.condition)
            }
    return columns


def _leaves(q: Any) -> Iterator[tuple[str, Any]]:
    for child in getattr(q, "children", []):
        if isinstance(child, tuple):
            yield child
            if hasattr(child[1], "name"):
                yield (child[1].name, None)
        else:
            yield from _leaves(child)


def _edit_expression(model: type[models.Model]) -> tuple[str, str] | None:
    """A column and an SQL expression that always changes it and breaks no constraint."""
    unique = _unique_columns(model)
    checked = _checked(model)
    candidates = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and not f.is_relation
        and f.column not in unique
        and f.column not in checked
    ]
    for f in candidates:
        if isinstance(f, models.CharField | models.TextField):
            column = _q(str(f.column))
            return str(f.column), f"CASE WHEN {column} = 'X' THEN 'Y' ELSE 'X' END"
    for f in candidates:
        if isinstance(f, models.DecimalField | models.IntegerField):
            return str(f.column), f"{_q(str(f.column))} + 1"
    for f in candidates:
        if isinstance(f, models.BooleanField):
            return str(f.column), f"NOT {_q(str(f.column))}"
    # Nothing but references and times: point the record at another patient or person
    # (foreign keys are checked at commit, and the attack is rolled back before).
    for f in model._meta.concrete_fields:
        if f.is_relation and not f.primary_key and str(f.column) not in unique:
            return str(f.column), f"{_q(str(f.column))} + 1000"
    return None


def _unique_columns(model: type[models.Model]) -> set[str]:
    columns = {
        str(f.column)
        for f in model._meta.concrete_fields
        if f.unique and not f.primary_key
    }
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            columns |= {_column(model, n) for n in constraint.fields}
    return columns


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def _forged(model: type[models.Model]) -> tuple[dict[str, str], list[object]]:
    """SQL for a copy's unique columns (a fresh value each), and its parameters."""
    replaced: dict[str, str] = {}
    params: list[object] = []
    for f in model._meta.concrete_fields:
        column = str(f.column)
        if f.primary_key or column not in _unique_columns(model):
            continue
        if isinstance(f, models.UUIDField):
            replaced[column] = "%s"
            params.append(uuid.uuid4().hex)
        elif isinstance(f, models.CharField) and not f.is_relation:
            length = f.max_length or 200
            replaced[column] = f"SUBSTR('F' || {_q(column)}, 1, {length})"
        else:
            replaced[column] = f"{_q(column)} + 1000"
    return replaced, params


def assert_attacks_named(
    model: type[models.Model], pk: object, other_pk: object | None = None
) -> list[str]:
    """Each attack on this row is named by `neuroclinic verify` as its first problem.

    Returns the attacks made ("edit", "delete", "insert", "reorder"): reorder
    needs a second row, and an edit a column raw SQL can change.
    """
    label = model._meta.label_lower
    table = model._meta.db_table
    made = []

    edit = _edit_expression(model)
    if edit is not None:
        column, expression = edit
        with attack(table):
            _sql(f"UPDATE {table} SET {_q(column)} = {expression} WHERE id = %s", [pk])
            message = _verify_fails()
            assert _names_first(message, label, pk), f"{label} edit: {message}"
            assert "edited outside the application" in message
        made.append("edit")

    with attack(table):
        _sql(f"DELETE FROM {table} WHERE id = %s", [pk])
        message = _verify_fails()
        assert _names_first(message, label, pk), f"{label} delete: {message}"
        assert "deleted outside the application" in message
    made.append("delete")

    columns = [str(f.column) for f in model._meta.concrete_fields if not f.primary_key]
    replaced, params = _forged(model)
    select = ", ".join(replaced.get(c, _q(c)) for c in columns)
    with attack(table):
        _sql(
            f"INSERT INTO {table} ({', '.join(_q(c) for c in columns)}) "
            f"SELECT {select} FROM {table} WHERE id = %s",
            [*params, pk],
        )
        inserted = model._base_manager.order_by("-pk").values_list("pk", flat=True)[0]
        message = _verify_fails()
        assert _names_first(message, label, inserted), f"{label} insert: {message}"
        assert "inserted outside the application" in message
    made.append("insert")

    if other_pk is not None:
        # Two records change places: each id now holds the other's content.
        parked = -1 - int(str(pk))
        with attack(table):
            _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [parked, pk])
            _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [pk, other_pk])
            _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [other_pk, parked])
            message = _verify_fails()
            first = min(int(str(pk)), int(str(other_pk)))
            assert _names_first(message, label, first), f"{label} reorder: {message}"
            assert "edited outside the application" in message
        made.append("reorder")
    return made
