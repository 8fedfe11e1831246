"""`neuroclinic backup` and `neuroclinic restore`: one encrypted file holding everything to rebuild the clinic.

Inside the encryption (crypto.py) is a tar stream:

    manifest.json                  what a restore must find: row counts per table,
                                   chain heads, applied migrations, file counts
    database.sqlite3 | database.pgdump
    files/...                      uploaded files (settings.MEDIA_ROOT)
    checkpoints/...                signed chain checkpoints (settings.CHECKPOINT_DIR)

The backup is written beside its destination under a temporary name and moved
into place only when whole and flushed to disk, so a full disk or a failure
part way leaves the previous backup untouched and no partial file behind.
"""

import io
import json
import os
import secrets
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from neuroclinic.operations.backup import database
from neuroclinic.operations.backup.crypto import DecryptingReader, EncryptingWriter

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
CHECKPOINTS = "checkpoints"


class BackupError(Exception):
    """The backup could not be made; nothing was left at the destination."""


class RestoreError(Exception):
    """The restore was refused or did not match its manifest."""


@dataclass
class BackupResult:
    path: Path
    size_bytes: int
    seconds: float
    manifest: dict[str, Any]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    seconds: float
    migrated: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _walk(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mtime = int(path.stat().st_mtime)
    info.mode = 0o600
    with path.open("rb") as handle:
        tar.addfile(info, handle)


def make_backup(
    output: Path,
    *,
    passphrase: str,
    workdir: Path | None = None,
    scrypt_n: int | None = None,
) -> BackupResult:
    """Write an encrypted backup to `output`, atomically. Raises BackupError and leaves `output` as it was."""
    started = time.monotonic()
    if not passphrase:
        raise BackupError("BACKUP_KEY is not set: backups are always encrypted")
    output = output.resolve()
    if output.is_dir():
        raise BackupError(f"{output} is a directory: name the backup file")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} does not exist")
    workroot = workdir or Path(settings.VAR_DIR) / "tmp"
    partial = output.with_name(f".{output.name}.partial-{secrets.token_hex(4)}")
    try:
        workroot.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="backup-", dir=workroot))  # mode 0700
    except OSError as exc:
        raise BackupError(
            f"cannot make a work directory in {workroot}: {exc.strerror}"
        ) from None
    try:
        snapshot = database.snapshot(scratch)
        media = _walk(Path(settings.MEDIA_ROOT))
        checkpoints = _walk(Path(settings.CHECKPOINT_DIR))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": {
                "vendor": snapshot.vendor,
                "member": snapshot.member_name,
                "bytes": snapshot.dump_path.stat().st_size,
            },
            "migrations": snapshot.migrations,
            "tables": snapshot.tables,
            "chain_heads": snapshot.heads,
            "files": {
                "count": len(media),
                "bytes": sum(p.stat().st_size for p in media),
            },
            "checkpoints": {
                "count": len(checkpoints),
                "bytes": sum(p.stat().st_size for p in checkpoints),
            },
        }
        with partial.open("xb") as sink:
            partial.chmod(0o600)
            writer = EncryptingWriter(
                sink, passphrase, **({"scrypt_n": scrypt_n} if scrypt_n else {})
            )
            with tarfile.open(
                fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT
            ) as tar:  # type: ignore[call-overload]
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
                _add_file(tar, snapshot.member_name, snapshot.dump_path)
                for path in media:
                    rel = path.relative_to(settings.MEDIA_ROOT).as_posix()
                    _add_file(tar, f"{FILES}/{rel}", path)
                for path in checkpoints:
                    rel = path.relative_to(settings.CHECKPOINT_DIR).as_posix()
                    _add_file(tar, f"{CHECKPOINTS}/{rel}", path)
            writer.close()
            sink.flush()
            os.fsync(sink.fileno())
        partial.replace(output)
        _fsync_dir(output.parent)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        where = exc.filename or output
        raise BackupError(
            f"backup failed writing {where}: {exc.strerror or exc}; "
            f"{'the previous backup is untouched' if output.exists() else 'nothing was written'}"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return BackupResult(
        output, output.stat().st_size, time.monotonic() - started, manifest
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- restore ---------------------------------------------------------------


def _code_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def _members(
    reader: DecryptingReader,
) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
    with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            yield member, tar


def _safe_target(root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if not target.is_relative_to(root.resolve()) or not Path(name).parts:
        raise RestoreError(f"the backup names a file outside its folder: {name!r}")
    return target


def _empty_dir(path: Path) -> bool:
    return not path.exists() or not any(path.iterdir())


def refuse_unless_empty() -> None:
    tables = database.existing_tables()
    if tables:
        raise RestoreError(
            f"the database {database.database_label()} is not empty ({len(tables)} tables): "
            "restore only into a new, empty database (PostgreSQL: createdb a new one; "
            "SQLite: point DATABASE_URL at a file that does not exist yet)"
        )
    for label, folder in (
        ("uploaded files", Path(settings.MEDIA_ROOT)),
        ("checkpoints", Path(settings.CHECKPOINT_DIR)),
    ):
        if not _empty_dir(folder):
            raise RestoreError(
                f"the folder for {label}, {folder}, is not empty: restore into an empty one"
            )


def restore_backup(source: Path, *, passphrase: str) -> RestoreResult:
    """Load a backup into the empty database and folders; compare with its manifest; verify the chains."""
    started = time.monotonic()
    if not passphrase:
        raise RestoreError("BACKUP_KEY is not set: it is needed to decrypt the backup")
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise RestoreError(f"cannot read {source}: {exc.strerror}") from None
    with handle:
        reader = DecryptingReader(handle, passphrase)
        members = _members(reader)
        first, tar = next(members, (None, None))
        if first is None or tar is None or first.name != MANIFEST:
            raise RestoreError(
                "the backup has no manifest first: not a Neuroclinic backup"
            )
        extracted = tar.extractfile(first)
        assert extracted is not None
        manifest: dict[str, Any] = json.loads(extracted.read())
        if manifest.get("format") != FORMAT:
            raise RestoreError(
                f"backup format {manifest.get('format')} is not one this version reads"
            )
        unknown = sorted(set(manifest["migrations"]) - _code_migrations())
        if unknown:
            raise RestoreError(
                f"the backup is from a newer Neuroclinic ({len(unknown)} migrations this code "
                f"does not have, e.g. {unknown[0]}): install that version to restore it"
            )
        refuse_unless_empty()
        expected_member = manifest["database"]["member"]
        with database.restoring(manifest["database"]["vendor"]) as load:
            for member, tar in members:
                stream = tar.extractfile(member) if member.isfile() else None
                if stream is None:
                    continue
                if member.name == expected_member:
                    load(stream)
                    continue
                top, _, rest = member.name.partition("/")
                roots = {
                    FILES: Path(settings.MEDIA_ROOT),
                    CHECKPOINTS: Path(settings.CHECKPOINT_DIR),
                }
                if top not in roots or not rest:
                    raise RestoreError(
                        f"unexpected file in the backup: {member.name!r}"
                    )
                target = _safe_target(roots[top], rest)
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("xb") as out:
                    shutil.copyfileobj(stream, out, 1024 * 1024)
        reader.drain()
    problems = compare_with_manifest(manifest)
    result = RestoreResult(manifest=manifest, seconds=0.0, problems=problems)
    if not problems:
        result.migrated = _migrate_if_behind(manifest)
        from neuroclinic.operations.integrity import run_verifiers

        result.problems = run_verifiers()
    result.seconds = time.monotonic() - started
    return result


def compare_with_manifest(manifest: dict[str, Any]) -> list[str]:
    tables, heads, migrations = database.restored_state()
    problems = []
    expected: dict[str, int] = manifest["tables"]
    for table in sorted(set(expected) | set(tables)):
        if expected.get(table) != tables.get(table):
            problems.append(
                f"table {table}: {tables.get(table, 'missing')} rows restored, "
                f"{expected.get(table, 'none')} in the manifest"
            )
    for table, rows in manifest["chain_heads"].items():
        if heads.get(table) != rows:
            problems.append(f"chain heads in {table} differ from the manifest")
    if migrations != manifest["migrations"]:
        problems.append("applied migrations differ from the manifest")
    for key, root in (
        ("files", settings.MEDIA_ROOT),
        ("checkpoints", settings.CHECKPOINT_DIR),
    ):
        found = _walk(Path(root))
        if len(found) != manifest[key]["count"]:
            problems.append(
                f"{key}: {len(found)} restored, {manifest[key]['count']} in the manifest"
            )
    return problems


def _migrate_if_behind(manifest: dict[str, Any]) -> list[str]:
    pending = sorted(_code_migrations() - set(manifest["migrations"]))
    if pending:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    connections["default"].close()
    return pending
