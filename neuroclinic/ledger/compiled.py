"""The ledger's hot statements, compiled once per database connection.

A patient session's actions (draw, administer, waste) and their summary read the
same few shapes of query on every call: a session's entries, the rows of a head or
a vial to lock, a lot's balance. Django compiled each one again on every call, and
for the summary (five related tables) compiling cost more than the database's
answer (issue 18, item 10). `Compiled` builds the statement once per connection
from `build(*stand-ins)`, the ORM's own SQL, and afterwards runs it with each
stand-in parameter replaced by the value asked for, converting values and building
instances as the queryset would (the technique of `neuroclinic.lib.compiled`, whose
instance-building it reuses, here with several parameters and rows or instances).

Only for a fixed queryset whose per-call values are the stand-ins. A
`select_for_update` statement still refuses to run outside a transaction, on every call.
"""

import copy
import weakref
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

from neuroclinic.lib.compiled import _Bound

# Values no row has: where one lands in the parameters is where a call's value goes.
STAND_IN_IDS = (-2_046_381_957, -2_046_381_959)
STAND_IN_REF = "compiled-stand-in-ref-no-row-has-it"


class Compiled[M: Model]:
    """`build(*stand_ins)`, compiled once per connection, run with other values."""

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
        if (
            queryset.query.select_for_update
            and wrapper.features.has_select_for_update
            and wrapper.get_autocommit()
            and wrapper.features.supports_transactions
        ):
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
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
