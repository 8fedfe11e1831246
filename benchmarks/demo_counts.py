"""Rows per table of two demo databases, side by side (issue 18, item 10).

    python benchmarks/demo_counts.py BEFORE.sqlite3 AFTER.sqlite3

A change that makes the demo load faster must load the same clinic: this lists
every table whose row count differs between a database loaded before the change
and one loaded after it, and exits 1 if any does. (The demo's content depends on
the day it is loaded, so load both on the same day.) SQLite files only, opened
read-only.
"""

import sqlite3
import sys


def counts(path: str) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - names from the catalog
            for table in tables
        }


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = counts(sys.argv[1]), counts(sys.argv[2])
    differ = 0
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table), after.get(table)
        if old != new:
            differ += 1
            print(f"{table:<45} {old!s:>8} -> {new!s:>8}")
    same = len(before.keys() & after.keys()) - differ
    print(
        f"{len(before)} tables before, {len(after)} after; {same} with the same rows, "
        f"{differ} differ; {sum(before.values())} rows before, {sum(after.values())} after"
    )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
