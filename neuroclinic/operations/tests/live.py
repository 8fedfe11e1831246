"""A test database that `neuroclinic` commands in other processes can use too.

PostgreSQL: the test database itself (the test must be transactional, so the
other processes see its rows). SQLite: the in-memory test database is copied to
a file with SQLite's backup API before the processes run and copied back after,
so the test's assertions read what they wrote.
"""

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class LiveDatabase:
    workdir: Path
    url: str = ""
    sqlite_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, workdir: Path) -> "LiveDatabase":
        live = cls(workdir=workdir)
        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            live.sqlite_file = workdir / "live.sqlite3"
            live.url = f"sqlite:///{live.sqlite_file}"
            live._copy(into=workdir / "pristine.sqlite3")
        else:
            auth = quote(settings["USER"] or "")
            if settings.get("PASSWORD"):
                auth += ":" + quote(settings["PASSWORD"])
            host = settings.get("HOST") or "127.0.0.1"
            port = settings.get("PORT") or 5432
            live.url = f"postgres://{auth}@{host}:{port}/{settings['NAME']}"
        return live

    def stop(self) -> None:
        """SQLite: put back the database as it was before the test.

        Django empties a transactional test's tables with DELETE, which the
        append-only triggers refuse; PostgreSQL's TRUNCATE is not refused.
        """
        if self.sqlite_file is not None:
            self._copy(from_=self.workdir / "pristine.sqlite3")

    def _copy(self, *, into: Path | None = None, from_: Path | None = None) -> None:
        connection.ensure_connection()
        if into is not None:
            target = sqlite3.connect(into)
            connection.connection.backup(target)
            target.close()
        if from_ is not None:
            source = sqlite3.connect(from_)
            source.backup(connection.connection)
            source.close()

    def push(self) -> None:
        """Make what the test wrote visible to other processes (SQLite: copy to the file)."""
        if self.sqlite_file is not None:
            self._copy(into=self.sqlite_file)

    def pull(self) -> None:
        """Make what other processes wrote visible to the test (SQLite: copy back)."""
        if self.sqlite_file is not None:
            self._copy(from_=self.sqlite_file)

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "DJANGO_SETTINGS"))
        }
        env |= {
            "DATABASE_URL": self.url,
            "NEUROCLINIC_VAR_DIR": str(self.workdir / "var"),
            "PYTHONPATH": str(ROOT),
            "DEBUG": "True",
        }
        return env | self.extra_env

    def spawn(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "neuroclinic", *args],
            cwd=ROOT,
            env=self.env(),
            stdout=(self.workdir / log).open("wb"),
            stderr=subprocess.STDOUT,
        )

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "neuroclinic", *args],
            cwd=ROOT,
            env=self.env() | (env or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def log(self, name: str) -> str:
        return (self.workdir / name).read_text(errors="replace")


def wait_for(
    path: Path, *, seconds: float, processes: Sequence[subprocess.Popen[bytes]] = ()
) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise AssertionError(f"{path.name} did not appear")
        time.sleep(0.1)
