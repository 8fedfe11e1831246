"""`neuroclinic backup` and `restore` as an operator runs them, on SQLite and PostgreSQL.

Round trip with files and checkpoints; refusals (non-empty database, wrong
engine); a restored chain that fails verification or a manifest that does not
match exits non-zero; a full disk or a read-only place fails loudly and leaves
the previous backup intact.
"""

import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from neuroclinic.accounts.models import User
from neuroclinic.audit.models import AuditEvent
from neuroclinic.ledger.tests import factories as ledger
from neuroclinic.operations.backup.crypto import DecryptingReader, EncryptingWriter
from neuroclinic.operations.tests.live import LiveDatabase
from neuroclinic.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MOUNT = shutil.which("mount") or "/bin/mount"
UMOUNT = shutil.which("umount") or "/bin/umount"
KEY = "correct horse battery staple, for tests only"
SCAN = b"%PDF-1.4 synthetic invoice scan\n" * 50


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDatabase]:
    live = LiveDatabase.start(tmp_path)
    live.extra_env["BACKUP_KEY"] = KEY
    yield live
    live.stop()


@pytest.fixture
def clinic(live: LiveDatabase, patient: Patient, custodian: User) -> LiveDatabase:
    """A clinic with audit events, a ledger chain, an uploaded file and a checkpoint file."""
    registrant = ledger.make_registrant(patient.organization, by=custodian)
    ledger.receive(
        registrant,
        by=custodian,
        product=ledger.make_product(patient.organization, by=custodian),
        supplier=ledger.make_supplier(patient.organization, by=custodian),
        safe=ledger.make_safe(registrant, by=custodian),
    )
    var = live.workdir / "var"
    (var / "files" / "ledger").mkdir(parents=True)
    (var / "files" / "ledger" / "invoice.pdf").write_bytes(SCAN)
    (var / "checkpoints").mkdir()
    (var / "checkpoints" / "audit-0001.json").write_text('{"seq": 1}')
    live.push()
    return live


class Target:
    """An empty database and var folder to restore into."""

    def __init__(self, workdir: Path) -> None:
        self.var = workdir / "restored-var"
        self.db_name = ""
        if connection.vendor == "sqlite":
            self.url = f"sqlite:///{workdir / 'restored.sqlite3'}"
        else:
            self.db_name = f"nc_ops_restore_{id(self)}"
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {self.db_name}")
            base = connection.settings_dict
            self.url = f"postgres://{base['USER']}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/{self.db_name}"

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "NEUROCLINIC_VAR_DIR": str(self.var)}

    def drop(self) -> None:
        if self.db_name:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    made = Target(tmp_path)
    yield made
    made.drop()


def _backup(live: LiveDatabase, output: Path) -> subprocess.CompletedProcess[str]:
    return live.run("backup", "--output", str(output))


def test_a_backup_restores_whole_into_an_empty_database(
    clinic: LiveDatabase, target: Target, tmp_path: Path
) -> None:
    output = tmp_path / "clinic.ncbackup"
    events = AuditEvent.objects.count()

    made = _backup(clinic, output)
    restored = clinic.run("restore", str(output), env=target.env())

    assert made.returncode == 0, made.stderr
    assert "Backup written" in made.stdout
    assert b"Testova" not in output.read_bytes()  # encrypted: no patient name in clear
    assert restored.returncode == 0, restored.stderr
    assert "match the manifest" in restored.stdout
    # The restored database proves itself with the ordinary tools, independently.
    verify = clinic.run("audit", "verify", env=target.env())
    assert verify.returncode == 0
    # the restore adds one event of its own ("restored"), linked to the backed-up head
    assert f"Audit chain intact: {events + 1} events" in verify.stdout
    assert clinic.run("ledger", "verify", env=target.env()).returncode == 0
    assert (target.var / "files" / "ledger" / "invoice.pdf").read_bytes() == SCAN
    assert (target.var / "checkpoints" / "audit-0001.json").read_text() == '{"seq": 1}'


def test_restoring_into_a_database_that_is_not_empty_is_refused(
    clinic: LiveDatabase, tmp_path: Path
) -> None:
    output = tmp_path / "clinic.ncbackup"
    assert _backup(clinic, output).returncode == 0
    clinic.pull()
    events_before = AuditEvent.objects.count()

    refused = clinic.run("restore", str(output))  # into the database it came from
    clinic.pull()

    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert AuditEvent.objects.count() == events_before


def test_a_restored_chain_that_does_not_verify_exits_non_zero(
    clinic: LiveDatabase, target: Target, tmp_path: Path
) -> None:
    # Numbers are shared by all chains (a PostgreSQL sequence may skip some).
    second = AuditEvent.objects.order_by("seq").values_list("seq", flat=True)[1]
    with connection.cursor() as cursor:  # someone edits an event behind the application
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
            cursor.execute(
                "UPDATE audit_auditevent SET action = 'x.edited' WHERE seq = %s",
                [second],
            )
        else:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(
                "UPDATE audit_auditevent SET action = 'x.edited' WHERE seq = %s",
                [second],
            )
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    clinic.push()
    output = tmp_path / "clinic.ncbackup"
    assert _backup(clinic, output).returncode == 0

    restored = clinic.run("restore", str(output), env=target.env())

    assert restored.returncode == 1
    assert f"audit chain broken at event #{second}" in restored.stderr
    assert "does NOT match" in restored.stderr


def _rewrite_manifest(source: Path, output: Path, change: dict[str, int]) -> None:
    """Re-encrypt a backup with a manifest that claims other row counts."""
    with (
        source.open("rb") as handle,
        tarfile.open(
            fileobj=DecryptingReader(handle, KEY),
            mode="r|",  # type: ignore[call-overload]
        ) as tar_in,
        output.open("wb") as sink,
    ):
        writer = EncryptingWriter(sink, KEY, scrypt_n=2**10)
        with tarfile.open(
            fileobj=writer,  # type: ignore[call-overload]
            mode="w|",
            format=tarfile.PAX_FORMAT,
        ) as tar_out:
            for member in tar_in:
                data = tar_in.extractfile(member)
                assert data is not None
                payload = data.read()
                if member.name == "manifest.json":
                    manifest = json.loads(payload)
                    manifest["tables"] |= change
                    payload = json.dumps(manifest).encode()
                member.size = len(payload)
                tar_out.addfile(member, io.BytesIO(payload))
        writer.close()


def test_a_restore_that_does_not_match_its_manifest_exits_non_zero(
    clinic: LiveDatabase, target: Target, tmp_path: Path
) -> None:
    honest, doctored = tmp_path / "honest.ncbackup", tmp_path / "doctored.ncbackup"
    assert _backup(clinic, honest).returncode == 0
    count = Patient.objects.count()
    _rewrite_manifest(honest, doctored, {"patients_patient": count + 1})

    restored = clinic.run("restore", str(doctored), env=target.env())

    assert restored.returncode == 1
    assert (
        f"table patients_patient: {count} rows restored, {count + 1} in the manifest"
        in restored.stderr
    )


def test_a_wrong_key_is_refused_before_anything_is_written(
    clinic: LiveDatabase, target: Target, tmp_path: Path
) -> None:
    output = tmp_path / "clinic.ncbackup"
    assert _backup(clinic, output).returncode == 0

    refused = clinic.run(
        "restore", str(output), env=target.env() | {"BACKUP_KEY": "guess"}
    )

    assert refused.returncode == 1
    assert "wrong BACKUP_KEY" in refused.stderr
    assert not (target.var / "files").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system (tmpfs), mounted here; needs root, as CI and this machine have."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(
        [MOUNT, "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(
            f"cannot mount a small file system here: {made.stderr.decode().strip()}"
        )
    try:
        yield mount
    finally:
        subprocess.run([UMOUNT, "-l", str(mount)], check=False)


def test_a_full_disk_fails_loudly_and_leaves_the_previous_backup_intact(
    clinic: LiveDatabase, small_disk: Path
) -> None:
    previous = small_disk / "nightly.ncbackup"
    previous.write_bytes(b"last night's backup")

    failed = _backup(clinic, previous)

    assert failed.returncode == 1
    assert "No space left on device" in failed.stderr
    assert "the previous backup is untouched" in failed.stderr
    assert previous.read_bytes() == b"last night's backup"
    assert [p.name for p in small_disk.iterdir()] == [
        "nightly.ncbackup"
    ]  # no partial file
    clinic.pull()
    failure = AuditEvent.objects.get(action=AuditEvent.Action.BACKUP_FAILED)
    assert failure.outcome == AuditEvent.Outcome.FAILURE


def test_a_read_only_place_fails_loudly_and_writes_nothing(
    clinic: LiveDatabase, small_disk: Path, tmp_path: Path
) -> None:
    subprocess.run([MOUNT, "-o", "remount,ro", str(small_disk)], check=True)

    read_only = _backup(clinic, small_disk / "b.ncbackup")
    nowhere = _backup(clinic, tmp_path / "no-such-folder" / "b.ncbackup")

    assert read_only.returncode == 1
    assert "Read-only file system" in read_only.stderr
    assert list(small_disk.iterdir()) == []
    assert nowhere.returncode == 1
    assert "does not exist" in nowhere.stderr
