from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Refresh the database's query-planner statistics (ANALYZE). Run daily and after imports."

    def handle(self, *args: Any, **options: Any) -> None:
        # Without statistics SQLite answers a name search from the
        # organization index and reads every patient (benchmarks/README.md).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA optimize")
        self.stdout.write(f"Planner statistics refreshed ({connection.vendor}).")
