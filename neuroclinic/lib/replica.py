"""Reads for reports and dashboards on a streaming replica (docs/architecture.md, "Scale").

When DATABASE_REPLICA_URL names a replica, settings add the "replica" alias.
Views marked `@replica_reads` (and code inside `reading_from_replica()`) read
from it; every write, and every read inside a transaction or a
`select_for_update`, stays on the primary. Without a replica the router is a
no-op. A replica lags its primary by a moment, so only pages that can show
data a second old are marked: reports, dashboards, the audit log, and the
exports of these (a streamed CSV reads each chunk through `streamed_from_replica`,
since its rows are read after the view has returned). Audit events recording
those reads are writes, so they go to the primary.
"""

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Model

REPLICA = "replica"
PRIMARY = "default"

_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "replica_reads", default=False
)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_reads[F: Callable[..., Any]](view: F) -> F:
    """Run this view's reads on the replica, when there is one."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with reading_from_replica():
            return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def streamed_from_replica[T](rows: Iterable[T]) -> Iterator[T]:
    """Each item of a streamed response read on the replica.

    A streaming response's rows are read while the server sends it, after the
    view (and its `reading_from_replica`) has returned. Each step is read
    inside the context and nothing leaks into the server's code between steps.
    """
    iterator = iter(rows)
    while True:
        with reading_from_replica():
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def replica_configured() -> bool:
    return bool(settings.DATABASE_REPLICA_URL)


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if not _replica_reads.get() or not replica_configured():
            return None
        # Inside a transaction on the primary a read may decide a write: keep it there.
        if connections[PRIMARY].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        return db == PRIMARY
