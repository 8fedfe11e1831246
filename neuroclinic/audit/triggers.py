"""Append-only database triggers for sealed records, written once for every app's migrations.

Audit migration 0002 and the infusions, intake and measures migrations each
wrote the same CREATE TRIGGER statements by hand; the TMS, letters and billing
migrations use `install()` here instead. The names are the same: on SQLite
`<table>_no_update` and `<table>_no_delete`, on PostgreSQL `<table>_append_only`
(or `<table>_no_update` and `<table>_no_delete` when updating is conditional),
calling `neuroclinic_refuse_change()` (audit 0002).

A record with a life cycle is not fully append-only: a TMS session is open until
it ends, a letter is a draft until it is signed. `Guard.open_while` says when a
row may still change (a condition on the row as it was, `OLD`), and
`Guard.open_columns` which columns may change while it is open. Every other
column never changes, and once the row is closed no column does.

A record whose life cycle has more than one step (a protocol is signed, then
retired; an order is ended, and counts the infusions given under it even after)
names each step: `Step.when` says when the change is that step (a condition on
`OLD` and `NEW`, so it can name the status a record moves from and to), and
`Step.columns` which columns the step may change. An UPDATE that is none of the
record's steps is refused, so is one that changes a column its step does not name.

Careful: on SQLite, most AlterField operations rebuild the table, and the
rebuild drops its triggers. A migration that alters one of these tables must
call `install()` again (`neuroclinic/audit/tests/test_append_only.py` fails if
it does not).
"""

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError


@dataclass(frozen=True)
class Step:
    """One change in a record's life cycle: when `when` holds, only `columns` may change."""

    # SQL on OLD and NEW (or a function of the database vendor giving it, when the
    # SQL differs, as JSON does); it must be false, not NULL, when the change is not
    # this step.
    when: "str | Callable[[str], str]"
    columns: tuple[str, ...]

    def condition(self, vendor: str) -> str:
        return self.when(vendor) if callable(self.when) else self.when


def json_appended_one(vendor: str, column: str) -> str:
    """SQL: NEW.column is OLD.column's JSON array with exactly one string appended.

    The earlier elements must be unchanged and in order; nothing else may be
    removed, replaced or inserted. PostgreSQL stores a JSONField as jsonb
    (`jsonb - -1` drops the last element); SQLite as text, compared through
    JSON1's `json()` so that spacing does not matter.
    """
    new, old = f'NEW."{column}"', f'OLD."{column}"'
    if vendor == "sqlite":
        return (
            f"(json_array_length({new}) = json_array_length({old}) + 1"
            f" AND json_type({new}, '$[#-1]') = 'text'"
            f" AND json_remove({new}, '$[#-1]') = json({old}))"
        )
    return (
        f"(jsonb_typeof({new}) = 'array' AND jsonb_typeof({old}) = 'array'"
        f" AND jsonb_array_length({new}) = jsonb_array_length({old}) + 1"
        f" AND jsonb_typeof({new} -> -1) = 'string'"
        f" AND ({new} - -1) = {old})"
    )


@dataclass(frozen=True)
class Guard:
    table: str
    # SQL on OLD: while it holds, `open_columns` may change (None: the row never changes).
    open_while: str | None = None
    open_columns: tuple[str, ...] = ()
    # Whether a row may be deleted while it is open (a draft nobody signed).
    delete_while_open: bool = False
    # Further changes the record may go through (each a condition and its columns).
    steps: tuple[Step, ...] = ()


# Tables whose triggers are being installed as an old migration installed them, on a
# table that has since gained columns (`columns_as_of`): the columns it had then.
_COLUMNS_AS_OF: ContextVar[Mapping[str, Collection[str]] | None] = ContextVar(
    "columns_as_of", default=None
)


@contextmanager
def columns_as_of(columns: Mapping[str, Collection[str]]) -> Iterator[None]:
    """Inside the block, `install()` guards only these columns of these tables.

    A squashed migration (`neuroclinic.audit.squashed`) creates a table with every
    column it has at the end, then runs the old migrations' trigger installs. An old
    install guarded the columns the table had when it ran; a column added later
    without installing the triggers again (letters 0004 on `letters_letter`) was not
    guarded. This keeps the new database's triggers the same as an old one's.
    """
    token = _COLUMNS_AS_OF.set(columns)
    try:
        yield
    finally:
        _COLUMNS_AS_OF.reset(token)


def table_columns(connection: Any, table: str) -> list[str]:
    """The table's column names in the database's order, as `get_table_description` names them.

    On SQLite, Django's `get_table_description` also parses the table's CREATE
    statement with sqlparse for each column's collation, which the names do not need
    (most of the trigger installs' time in a new database's migrate): this reads the
    same `PRAGMA table_xinfo` rows it reads and keeps the same columns (ordinary and
    generated ones, not a virtual table's hidden ones).
    """
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            return [
                c.name
                for c in connection.introspection.get_table_description(cursor, table)
            ]
        cursor.execute(f"PRAGMA table_xinfo({connection.ops.quote_name(table)})")
        rows = cursor.fetchall()
    if not rows:
        raise DatabaseError(f"Table {table} does not exist (empty pragma).")
    # (cid, name, type, notnull, default, pk, hidden); hidden 2 and 3 are generated.
    return [row[1] for row in rows if row[6] in (0, 2, 3)]


def _columns(schema_editor: Any, table: str) -> list[str]:
    found = table_columns(schema_editor.connection, table)
    then = (_COLUMNS_AS_OF.get() or {}).get(table)
    return found if then is None else [name for name in found if name in then]


def _changed(vendor: str, column: str) -> str:
    # Null-safe comparison; SQLite's IS NOT predates its IS DISTINCT FROM (3.39).
    operator = "IS NOT" if vendor == "sqlite" else "IS DISTINCT FROM"
    return f'OLD."{column}" {operator} NEW."{column}"'


def _update_refused_when(
    vendor: str, guard: Guard, columns: Sequence[str]
) -> str | None:
    """The condition under which an UPDATE is refused (None: always)."""
    for step in guard.steps:
        unknown = set(step.columns) - set(columns)
        assert not unknown, f"{guard.table} has no column {sorted(unknown)}"
    if not guard.steps:
        if guard.open_while is None:
            return None
        fixed = [c for c in columns if c not in guard.open_columns]
        conditions = [f"NOT ({guard.open_while})"]
        conditions += [_changed(vendor, c) for c in fixed]
        return " OR ".join(conditions)
    steps = list(guard.steps)
    if guard.open_while is not None:
        steps.insert(0, Step(guard.open_while, guard.open_columns))
    allowed = []
    for step in steps:
        fixed = [_changed(vendor, c) for c in columns if c not in step.columns]
        unchanged = f" AND NOT ({' OR '.join(fixed)})" if fixed else ""
        allowed.append(f"(({step.condition(vendor)}){unchanged})")
    # A step whose condition is NULL (a NULL column compared) does not allow the change.
    return f"NOT COALESCE({' OR '.join(allowed)}, 1 = 0)"


def statements(vendor: str, guard: Guard, columns: Sequence[str]) -> list[str]:
    table = guard.table
    update_when = _update_refused_when(vendor, guard, columns)
    delete_when = (
        f"NOT ({guard.open_while})"
        if guard.open_while is not None and guard.delete_while_open
        else None
    )
    if vendor == "sqlite":
        return [
            _sqlite_trigger(table, "UPDATE", update_when),
            _sqlite_trigger(table, "DELETE", delete_when),
        ]
    if update_when is None and delete_when is None:
        return [
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION neuroclinic_refuse_change()"""
        ]
    return [
        _postgres_trigger(table, "UPDATE", update_when),
        _postgres_trigger(table, "DELETE", delete_when),
    ]


def _sqlite_trigger(table: str, operation: str, when: str | None) -> str:
    suffix = "no_update" if operation == "UPDATE" else "no_delete"
    condition = f" WHEN {when}" if when else ""
    return (
        f"CREATE TRIGGER {table}_{suffix} BEFORE {operation} ON {table} "
        f"FOR EACH ROW{condition} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
    )


def _postgres_trigger(table: str, operation: str, when: str | None) -> str:
    suffix = "no_update" if operation == "UPDATE" else "no_delete"
    condition = f" WHEN ({when})" if when else ""
    return (
        f"CREATE TRIGGER {table}_{suffix} BEFORE {operation} ON {table} "
        f"FOR EACH ROW{condition} EXECUTE FUNCTION neuroclinic_refuse_change()"
    )


def drop_statements(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}"
        for name in (f"{table}_append_only", f"{table}_no_update", f"{table}_no_delete")
    ]


def install(schema_editor: Any, guards: Sequence[Guard]) -> None:
    """Create (or create again, after a SQLite table rebuild) each guard's triggers."""
    vendor = schema_editor.connection.vendor
    for guard in guards:
        for sql in drop_statements(vendor, guard.table):
            schema_editor.execute(sql, None)
        for sql in statements(vendor, guard, _columns(schema_editor, guard.table)):
            schema_editor.execute(sql, None)


def remove(schema_editor: Any, guards: Sequence[Guard]) -> None:
    vendor = schema_editor.connection.vendor
    for guard in guards:
        for sql in drop_statements(vendor, guard.table):
            schema_editor.execute(sql, None)
