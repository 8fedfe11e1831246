"""The data directory and the SQLite database readable by the service's own user only.

`var/` holds the SQLite database (patient records and the DEA ledger), uploaded
documents and signed checkpoints. Created with the process's umask they were
world-readable (0644 database, 0755 directories). settings.py calls these at
start-up: the directory becomes 0700 and the database file 0600 (SQLite gives
its -wal and -shm files the database file's mode). Uploads get 0600 files in
0700 directories through FILE_UPLOAD_PERMISSIONS and
FILE_UPLOAD_DIRECTORY_PERMISSIONS.
"""

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) if missing; make it 0700 if we own it."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _tighten(path, PRIVATE_DIR_MODE)


def make_private_file(path: Path) -> None:
    """Create `path` empty at 0600 if missing (before SQLite opens it); else tighten it."""
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
        os.close(fd)
    _tighten(path, PRIVATE_FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    # Only our own files: another user's (a shared mount) is theirs to set.
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o777 != mode:
        path.chmod(mode)
