"""A commit is on disk when it returns: the DEA ledger and the audit log survive a power cut.

SQLite: synchronous=FULL (NORMAL, in WAL mode, could lose the last commits).
PostgreSQL: the server's own settings; the app refuses to pretend when they are off.

Issue #15 item 9.
"""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _setting(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return str(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_sqlite_syncs_every_commit() -> None:
    assert _setting("PRAGMA synchronous") == "2"  # FULL


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_postgresql_commits_are_durable() -> None:
    assert _setting("SHOW synchronous_commit") != "off"
    assert _setting("SHOW fsync") == "on"
    assert _setting("SHOW full_page_writes") == "on"


def test_connections_persist_between_requests_and_are_checked_before_reuse() -> None:
    from django.conf import settings

    # A connection per request was a large share of a small API call's time.
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 600
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
