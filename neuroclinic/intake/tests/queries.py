"""Test helpers: which statements a request wrote, and query counts that do not grow with rows."""

import re
from collections.abc import Callable

from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neuroclinic.audit.models import AuditEvent, ChainHead

# A read is audited (every read of patient data is) and the session's idle timer
# restarts on every request; nothing else may change on a GET.
READ_SIDE_TABLES = frozenset(m._meta.db_table for m in (AuditEvent, ChainHead, Session))
_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.IGNORECASE
)


def writes_during[T](call: Callable[[], T]) -> tuple[T, list[str]]:
    """What `call` returned, and the tables it inserted into, updated or deleted from
    beyond the read's audit and the session."""
    with CaptureQueriesContext(connection) as captured:
        result = call()
    tables = []
    for query in captured.captured_queries:
        found = _WRITE.match(query["sql"])
        if found and found.group(1) not in READ_SIDE_TABLES:
            tables.append(found.group(1))
    return result, tables
