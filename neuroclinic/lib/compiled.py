"""Queries whose SQL Django compiles once per database connection, not on every call.

`CompiledGet`: a `get(pk=...)` giving model instances (the session locks).
`CompiledRows`: a `values_list` filtered by one id giving rows (the monitor feed).
`CompiledObjects`: a queryset filtered by one id giving model instances (an infusion's
current dose, a patient's active plan).
`Compiled`: the general form of the last two, with several values (the ledger's
session reads and locks).

Django turns a queryset into SQL each time it runs it. For a query with several
`select_related` tables that is most of the call's time: the infusion session lock
(six related tables, about 260 columns) spent five sixths of each call building the
same statement, on every infusion action (issue 18, item 10).
`CompiledGet` compiles the statement the first time on each connection (a primary key
placeholder in the parameters) and afterwards runs it with the key put in its place,
converting the values and building the instances as the queryset does: the same SQL, the same rows, the same
objects and related objects.

Only for a fixed queryset (no per-call filters besides the primary key): the SQL is
built once from `make()`'s first result on each connection. The one check Django makes
while compiling that can change between calls, that `select_for_update` runs inside a
transaction, is made on every call.
"""

import copy
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import MAX_GET_RESULTS, ModelIterable
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

# A primary key no row has (within a 32-bit integer, whose lookups Django would
# otherwise compile as empty): where it lands in the parameters is where each call's
# key goes.
_PLACEHOLDER = -2_046_381_957


@dataclass(frozen=True)
class _Compiled:
    connection: Any
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    index: int
    converters: dict[int, Any]


class _Query:
    """What ModelIterable asks of a query: the compiler, here the compiled one."""

    def __init__(self, compiler: SQLCompiler) -> None:
        self._compiler = compiler

    def get_compiler(self, using: str | None = None, **kwargs: Any) -> SQLCompiler:
        return self._compiler


class _Bound:
    """What ModelIterable asks of a queryset, for one call."""

    def __init__(
        self, queryset: QuerySet[Any], compiler: SQLCompiler, alias: str
    ) -> None:
        self.db = alias
        self.model = queryset.model
        self.query = _Query(compiler)
        self._fetch_mode = queryset._fetch_mode  # type: ignore[attr-defined]
        self._known_related_objects = queryset._known_related_objects  # type: ignore[attr-defined]


def _require_transaction(queryset: QuerySet[Any], connection: Any) -> None:
    """The check Django makes while compiling a `select_for_update`, made on every call."""
    if (
        queryset.query.select_for_update
        and connection.features.has_select_for_update
        and connection.get_autocommit()
        and connection.features.supports_transactions
    ):
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )


class CompiledGet[M: Model]:
    """`make().get(pk=pk)`, its SQL compiled once per thread and database connection."""

    def __init__(self, make: Callable[[], QuerySet[M]]) -> None:
        self._make = make
        self._local = threading.local()

    def _template(self) -> QuerySet[M]:
        # As QuerySet.get builds the query it runs: the key, no ordering, a limit.
        template: QuerySet[M] | None = getattr(self._local, "template", None)
        if template is None:
            template = self._make().filter(pk=_PLACEHOLDER).order_by()
            self._local.template = template
        return template

    def _compiled(self, template: QuerySet[M], alias: str) -> _Compiled:
        connection = connections[alias]
        cache: dict[str, _Compiled] = self._local.__dict__.setdefault("compiled", {})
        compiled = cache.get(alias)
        if compiled is not None and compiled.connection is connection:
            return compiled
        query = template.query.chain()
        if (
            not query.select_for_update
            or connection.features.supports_select_for_update_with_limit
        ):
            query.set_limits(high=MAX_GET_RESULTS)
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        places = [i for i, value in enumerate(params) if value == _PLACEHOLDER]
        if len(places) != 1:
            raise ValueError(f"Cannot find the primary key among {params!r}.")
        # The columns' value converters depend on the columns alone: found once too.
        converters = compiler.get_converters(
            [column[0] for column in compiler.select[0 : compiler.col_count]]
        )
        compiled = _Compiled(
            connection, compiler, sql, tuple(params), places[0], converters
        )
        cache[alias] = compiled
        return compiled

    def __call__(self, pk: object) -> M:
        template = self._template()
        alias = template.db or DEFAULT_DB_ALIAS
        compiled = self._compiled(template, alias)
        connection = compiled.connection
        _require_transaction(template, connection)
        params = list(compiled.params)
        key_field = template.model._meta.pk
        assert key_field is not None
        params[compiled.index] = key_field.get_db_prep_value(pk, connection)
        compiler = copy.copy(compiled.compiler)
        statement: Any = (compiled.sql, tuple(params))
        compiler.as_sql = lambda *args, **kwargs: statement  # type: ignore[method-assign]
        compiler.get_converters = lambda expressions: compiled.converters  # type: ignore[method-assign]
        rows: list[M] = list(
            ModelIterable(_Bound(template, compiler, alias))  # type: ignore[arg-type]
        )
        if len(rows) == 1:
            return rows[0]
        model: Any = template.model
        if not rows:
            raise model.DoesNotExist(
                f"{model._meta.object_name} matching query does not exist."
            )
        raise model.MultipleObjectsReturned(
            f"get() returned more than one {model._meta.object_name} -- it returned "
            f"{len(rows)}!"
        )


# Values no row has: where one lands in the parameters is where a call's value goes.
STAND_IN_IDS = (_PLACEHOLDER, -2_046_381_959)
STAND_IN_REF = "compiled-stand-in-ref-no-row-has-it"


class Compiled[M: Model]:
    """`build(*stand_ins)`, compiled once per connection, run with other values.

    The general form: `build` takes one stand-in per value (ids from `STAND_IN_IDS`,
    `STAND_IN_REF` for a text key); every parameter equal to a stand-in is where that
    call's value goes. `rows()` for a `values_list`, `objects()` for model instances
    with their `select_related` objects. A `select_for_update` statement still refuses
    to run outside a transaction, on every call.
    """

    def __init__(
        self, build: Callable[..., QuerySet[M, Any]], *stand_ins: int | str
    ) -> None:
        self._build = build
        self._stand_ins = stand_ins
        self._cache: weakref.WeakKeyDictionary[
            BaseDatabaseWrapper,
            tuple[
                QuerySet[M, Any], str, tuple[Any, ...], list[int | None], SQLCompiler
            ],
        ] = weakref.WeakKeyDictionary()

    def _compiled(
        self, wrapper: BaseDatabaseWrapper
    ) -> tuple[QuerySet[M, Any], str, tuple[Any, ...], list[int | None], SQLCompiler]:
        compiled = self._cache.get(wrapper)
        if compiled is None:
            queryset = self._build(*self._stand_ins)
            compiler = queryset.query.get_compiler(connection=wrapper)
            sql, params = compiler.as_sql()
            places = [
                self._stand_ins.index(p) if p in self._stand_ins else None
                for p in params
            ]
            missing = set(range(len(self._stand_ins))) - set(places)
            if missing:
                raise RuntimeError("The compiled query does not take every value.")
            # The columns' value converters depend on the columns alone: found once too.
            converters = compiler.get_converters(
                [column[0] for column in compiler.select[0 : compiler.col_count]]
            )
            compiler.get_converters = lambda expressions: converters
            compiled = (queryset, sql, tuple(params), places, compiler)
            self._cache[wrapper] = compiled
        return compiled

    def _statement(
        self, values: tuple[Any, ...]
    ) -> tuple[
        QuerySet[M, Any], str, tuple[Any, ...], SQLCompiler, BaseDatabaseWrapper
    ]:
        if len(values) != len(self._stand_ins):
            raise TypeError("One value for each stand-in.")
        wrapper = connections[DEFAULT_DB_ALIAS]
        queryset, sql, params, places, compiler = self._compiled(wrapper)
        _require_transaction(queryset, wrapper)
        bound = tuple(
            p if i is None else values[i] for p, i in zip(params, places, strict=True)
        )
        call = copy.copy(compiler)
        statement: Any = (sql, bound)
        call.as_sql = lambda *args, **kwargs: statement  # type: ignore[method-assign]
        return queryset, sql, bound, call, wrapper

    def rows(self, *values: Any) -> list[tuple[Any, ...]]:
        """The rows of a `values_list` query, converted as the ORM converts them."""
        _, sql, params, compiler, wrapper = self._statement(values)
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [tuple(row) for row in compiler.results_iter([fetched])]

    def objects(self, *values: Any) -> list[M]:
        """The model instances (and their `select_related` objects) of the query."""
        queryset, _, _, compiler, _ = self._statement(values)
        bound = _Bound(queryset, compiler, DEFAULT_DB_ALIAS)
        return list(ModelIterable(bound))  # type: ignore[arg-type]


class CompiledRows:
    """A SELECT whose shape never changes, compiled by the ORM once per database
    connection and run again with another id (of a session, of a location).

    On a monitor request the ORM's building and compiling of a small query costs
    more than the database's answer, on every request. The statement is the ORM's
    own: built once from `build(id)` with a stand-in id, then run with the stand-in
    replaced by the id asked for, its rows converted by the same compiler's
    converters as the ORM's would be (`Compiled` with one id). Kept per connection
    object (one per thread, as Django keeps them) and dropped with it; compiled SQL
    is not data, so two servers cannot disagree on it.
    """

    STAND_IN = _PLACEHOLDER  # an id no row has; every parameter equal to it is the id

    def __init__(self, build: Callable[[int], "QuerySet[Any]"]) -> None:
        self._compiled: Compiled[Any] = Compiled(build, self.STAND_IN)

    def rows(self, id_: int) -> list[tuple[Any, ...]]:
        return self._compiled.rows(id_)


class CompiledObjects[M: Model]:
    """`build(id)`'s model instances (and their `select_related` objects), its SQL
    compiled by the ORM once per database connection and run again with another id
    (`Compiled` with one id): the same SQL, the same rows, the same objects. For a
    fixed queryset whose only per-call value is the id; slice it in `build` for a
    limit (`[:1]` for `first`). A `select_for_update` statement still needs a
    transaction, checked on every call.
    """

    STAND_IN = _PLACEHOLDER

    def __init__(self, build: Callable[[int], "QuerySet[M]"]) -> None:
        self._compiled: Compiled[M] = Compiled(build, self.STAND_IN)

    def all(self, id_: int) -> list[M]:
        return self._compiled.objects(id_)

    def first(self, id_: int) -> M | None:
        found = self.all(id_)
        return found[0] if found else None
